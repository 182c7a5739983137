#include "load_client.hpp"

#include "bench_data.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <charconv>
#include <chrono>

namespace ovalstream::bench {
namespace {

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

constexpr std::size_t kScratchBytes = 256 * 1024;
constexpr std::size_t kMaxHeadBytes = 16 * 1024;
constexpr int kMaxReadsPerWakeup = 4;  // fairness between clients on the one io thread
constexpr unsigned char kMask[4] = {0x37, 0xfa, 0x21, 0x3d};

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The bench sequence the publisher put first into the event ({"_bench":123,...}), or 0.
std::uint64_t bench_sequence(std::string_view payload) {
  constexpr std::string_view kPrefix = "{\"_bench\":";
  if (payload.substr(0, kPrefix.size()) != kPrefix) return 0;
  std::uint64_t value = 0;
  const char* begin = payload.data() + kPrefix.size();
  const auto [end, error] = std::from_chars(begin, payload.data() + payload.size(), value);
  return error == std::errc() ? value : 0;
}

}  // namespace

LoadClient::LoadClient(boost::asio::io_context& io, RunShared& shared, std::uint32_t index)
    : socket_(io), shared_(shared), index_(index), in_snapshot_(shared.live_marker) {}

void LoadClient::start() {
  namespace ip = boost::asio::ip;
  boost::system::error_code error;
  socket_.open(ip::tcp::v4(), error);
  if (error) return fail("open: " + error.message());
  const int one = 1;
  // Defer the choice of the source port to connect(), so ports are unique per destination, not per address.
  ::setsockopt(socket_.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  const std::uint32_t source = 0x7f000000u + shared_.first_address + index_ / shared_.per_address;
  socket_.bind(ip::tcp::endpoint(ip::address_v4(source), 0), error);
  if (error) return fail("bind: " + error.message());
  open_ = true;
  const ip::tcp::endpoint target(ip::make_address_v4(shared_.host), shared_.port);
  socket_.async_connect(target, [self = shared_from_this()](const boost::system::error_code& connect_error) {
    self->on_connect(connect_error);
  });
}

void LoadClient::close() {
  open_ = false;
  boost::system::error_code ignored;
  socket_.close(ignored);
}

void LoadClient::fail(const std::string& why) {
  if (!open_) return;
  ++shared_.failed;
  shared_.note_error(why);
  close();
}

void LoadClient::on_connect(const boost::system::error_code& error) {
  if (!open_) return;
  if (error) return fail("connect: " + error.message());
  boost::system::error_code ignored;
  socket_.non_blocking(true, ignored);
  send_raw("GET " + shared_.path + " HTTP/1.1\r\nHost: " + shared_.host + ":" + std::to_string(shared_.port) +
           "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           "Sec-WebSocket-Version: 13\r\n\r\n");
  wait_readable();
}

void LoadClient::wait_readable() {
  socket_.async_wait(
      boost::asio::ip::tcp::socket::wait_read,
      [self = shared_from_this()](const boost::system::error_code& error) { self->on_readable(error); });
}

void LoadClient::on_readable(const boost::system::error_code& error) {
  if (!open_) return;
  if (error) return fail("wait: " + error.message());
  static thread_local std::unique_ptr<char[]> scratch(new char[kScratchBytes]);
  for (int reads = 0; reads < kMaxReadsPerWakeup; ++reads) {
    boost::system::error_code read_error;
    const std::size_t received =
        socket_.read_some(boost::asio::buffer(scratch.get(), kScratchBytes), read_error);
    if (read_error == boost::asio::error::would_block || read_error == boost::asio::error::try_again) break;
    if (read_error)
      return fail(read_error == boost::asio::error::eof ? "closed by the server" : read_error.message());
    if (!consume(std::string_view(scratch.get(), received), now_ns())) return;
    if (received < kScratchBytes) break;
  }
  wait_readable();
}

bool LoadClient::consume(std::string_view bytes, std::int64_t now) {
  // Parse straight from the scratch buffer when nothing is pending; keep only the unfinished tail.
  std::string_view data = bytes;
  if (!in_.empty()) {
    in_.append(bytes);
    data = in_;
  }
  std::size_t offset = 0;
  if (!handshake_done_) {
    const auto end = data.find("\r\n\r\n");
    if (end == std::string_view::npos) {
      if (data.size() > kMaxHeadBytes) {
        fail("handshake response too long");
        return false;
      }
      if (in_.empty()) in_.assign(data);
      return true;
    }
    if (data.substr(0, 12) != "HTTP/1.1 101") {
      fail("handshake refused: " + std::string(data.substr(0, data.find("\r\n"))));
      return false;
    }
    handshake_done_ = true;
    offset = end + 4;
    if (shared_.mode == TargetMode::kOurs) {
      ready_ = true;
      ++shared_.connected;
    } else {
      std::string commands =
          "CONNECT "
          "{\"verbose\":false,\"pedantic\":false,\"echo\":false,\"protocol\":1,\"name\":\"ovalstream_load\","
          "\"lang\":\"c++\",\"version\":\"0.1.0\",\"headers\":true,\"no_responders\":true}\r\n";
      if (shared_.mode == TargetMode::kNats) {
        commands += "SUB " + shared_.subject + " 1\r\n";
      } else {
        const std::string inbox = "_INBOX.bench" + std::to_string(index_);
        const std::string request =
            "{\"stream_name\":\"" + shared_.stream + "\",\"config\":{\"deliver_subject\":\"" + inbox +
            ".d\",\"deliver_policy\":\"all\",\"ack_policy\":\"none\",\"filter_subject\":\"" +
            shared_.filter_subject +
            "\",\"replay_policy\":\"instant\",\"mem_storage\":true,"
            "\"inactive_threshold\":5000000000}}";
        // nats-server 2.9 counts only a literal subscription as delivery interest of a push consumer.
        commands += "SUB " + inbox + ".d 1\r\nSUB " + inbox + ".r 2\r\nPUB $JS.API.CONSUMER.CREATE." +
                    shared_.stream + " " + inbox + ".r " + std::to_string(request.size()) + "\r\n" + request +
                    "\r\n";
      }
      commands += "PING\r\n";
      send_frame(2, commands);
    }
  }
  for (;;) {
    const std::string_view rest = data.substr(offset);
    if (rest.size() < 2) break;
    const auto b0 = static_cast<unsigned char>(rest[0]);
    const auto b1 = static_cast<unsigned char>(rest[1]);
    const bool masked = (b1 & 0x80) != 0;
    std::size_t header = 2;
    std::uint64_t length = b1 & 0x7f;
    if (length == 126) {
      if (rest.size() < 4) break;
      length =
          (std::uint64_t{static_cast<unsigned char>(rest[2])} << 8) | static_cast<unsigned char>(rest[3]);
      header = 4;
    } else if (length == 127) {
      if (rest.size() < 10) break;
      length = 0;
      for (int i = 0; i < 8; ++i) length = (length << 8) | static_cast<unsigned char>(rest[2 + i]);
      header = 10;
    }
    if (masked || length > (64u << 20)) {
      fail("unexpected frame from the server (masked or over 64 MiB)");
      return false;
    }
    if (rest.size() < header + length) break;
    const std::string_view payload = rest.substr(header, length);
    offset += header + length;
    if (!on_ws_frame(b0 & 0x0f, payload, now)) return false;
  }
  if (in_.empty()) {
    in_.assign(data.substr(offset));
  } else {
    in_.erase(0, offset);
  }
  return true;
}

bool LoadClient::on_ws_frame(int opcode, std::string_view payload, std::int64_t now) {
  switch (opcode) {
    case 0:  // continuation: NATS bytes are one stream; we never fragment, so treat it like data
    case 1:
    case 2:
      if (shared_.mode == TargetMode::kOurs) {
        // Control frames ({"ovalstream":...}: live, position) are not events.
        if (payload.substr(0, 14) == R"({"ovalstream":)") {
          if (in_snapshot_ && payload.find(R"("live")") != std::string_view::npos) {
            in_snapshot_ = false;
            mark_complete(now);
          }
          return true;
        }
        on_event(payload, {}, now);
        return true;
      }
      return on_nats_bytes(payload, now);
    case 8:
      fail("closed by the server (close frame)");
      return false;
    case 9:
      send_frame(10, payload);
      return true;
    default:
      return true;
  }
}

bool LoadClient::on_nats_bytes(std::string_view bytes, std::int64_t now) {
  std::string_view data = bytes;
  if (!nats_.empty()) {
    nats_.append(bytes);
    data = nats_;
  }
  std::size_t offset = 0;
  for (;;) {
    const std::string_view rest = data.substr(offset);
    const auto line_end = rest.find("\r\n");
    if (line_end == std::string_view::npos) break;
    const std::string_view line = rest.substr(0, line_end);
    const bool with_headers = line.substr(0, 5) == "HMSG ";
    if (line.substr(0, 4) == "MSG " || with_headers) {
      // MSG <subject> <sid> [reply-to] <#bytes>; HMSG <subject> <sid> [reply-to] <#header bytes> <#total
      // bytes>
      std::string_view tokens[5];
      std::size_t count = 0;
      std::string_view remaining = line.substr(with_headers ? 5 : 4);
      while (!remaining.empty() && count < 5) {
        const auto space = remaining.find(' ');
        tokens[count++] = remaining.substr(0, space);
        if (space == std::string_view::npos) break;
        remaining.remove_prefix(space + 1);
      }
      std::size_t size = 0;
      if (count < 3 ||
          std::from_chars(tokens[count - 1].data(), tokens[count - 1].data() + tokens[count - 1].size(), size)
                  .ec != std::errc()) {
        ++shared_.protocol_errors;
        fail("bad MSG line");
        return false;
      }
      if (rest.size() < line_end + 2 + size + 2) break;
      std::string_view payload = rest.substr(line_end + 2, size);
      const std::size_t fixed = with_headers ? 4 : 3;  // tokens without the reply subject
      const std::string_view reply = count == fixed + 1 ? tokens[2] : std::string_view();
      if (with_headers) {
        std::size_t header_bytes = 0;
        std::from_chars(tokens[count - 2].data(), tokens[count - 2].data() + tokens[count - 2].size(),
                        header_bytes);
        payload.remove_prefix(std::min(header_bytes, payload.size()));
      }
      offset += line_end + 2 + size + 2;
      if (shared_.mode == TargetMode::kNatsReplay && tokens[0].size() >= 2 &&
          tokens[0].substr(tokens[0].size() - 2) == ".r") {
        if (payload.find("\"error\"") != std::string_view::npos) {
          fail("consumer create: " + std::string(payload.substr(0, 300)));
          return false;
        }
        continue;
      }
      on_event(payload, reply, now);
      continue;
    }
    offset += line_end + 2;
    if (line == "PING") {
      send_frame(2, "PONG\r\n");
    } else if (line == "PONG") {
      if (!ready_) {
        ready_ = true;
        ++shared_.connected;
      }
    } else if (line.substr(0, 4) == "-ERR") {
      ++shared_.protocol_errors;
      fail("server error: " + std::string(line));
      return false;
    }
  }
  if (nats_.empty()) {
    nats_.assign(data.substr(offset));
  } else {
    nats_.erase(0, offset);
  }
  return true;
}

void LoadClient::mark_complete(std::int64_t now) {
  if (complete_) return;
  complete_ = true;
  ++shared_.complete;
  shared_.last_complete_ns.store(now, std::memory_order_relaxed);
}

void LoadClient::on_event(std::string_view payload, std::string_view reply, std::int64_t now) {
  ++frames_;
  ++shared_.frames;
  const std::uint64_t sequence = bench_sequence(payload);
  if (!complete_) {
    if (shared_.mode == TargetMode::kOurs) {
      if (!shared_.live_marker && frames_ >= shared_.snapshot_frames.load(std::memory_order_relaxed)) {
        mark_complete(now);
      }
    } else if (shared_.mode == TargetMode::kNatsReplay) {
      // $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.<pending>
      const auto dot = reply.rfind('.');
      if (dot != std::string_view::npos && reply.substr(dot + 1) == "0") mark_complete(now);
    }
  }
  if (sequence == 0 || sequence < shared_.live_from.load(std::memory_order_relaxed)) return;
  check_sequence(sequence, payload);
  if (sequence <= last_live_sequence_) return;
  last_live_sequence_ = sequence;
  ++live_frames_;
  ++shared_.live_frames;
  shared_.last_live_ns.store(now, std::memory_order_relaxed);
  if (!shared_.record_latency.load(std::memory_order_relaxed)) return;
  const std::uint64_t slot = sequence - shared_.sequence_base;
  if (sequence < shared_.sequence_base || slot >= shared_.sequence_capacity) return;
  const std::int64_t scheduled = shared_.publish_ns[slot].load(std::memory_order_acquire);
  if (scheduled <= 0 || now < scheduled) return;
  shared_.latency_us.push_back(
      static_cast<std::uint32_t>(std::min<std::int64_t>((now - scheduled) / 1000, UINT32_MAX)));
}

// Content: the frame's bytes hash to what the publisher published under its sequence. Order: the live
// sequences (those of the current measure) a client receives are each the one after the last, starting at
// the first of the measure or just after the last its snapshot held. Inside a compacted snapshot (ours,
// before the live marker) superseded events are left out, so there they need only increase.
void LoadClient::check_sequence(std::uint64_t sequence, std::string_view payload) {
  const std::uint64_t slot = sequence - shared_.sequence_base;
  if (sequence >= shared_.sequence_base && slot < shared_.sequence_capacity) {
    const std::uint64_t expected_hash = shared_.content_hash[slot].load(std::memory_order_acquire);
    if (expected_hash != 0 && expected_hash != content_hash(payload)) {
      ++shared_.content_mismatches;
      shared_.note_error("content of sequence " + std::to_string(sequence) +
                         " differs from what was published: " + std::string(payload.substr(0, 120)));
    }
  }
  const std::uint64_t live_from = shared_.live_from.load(std::memory_order_relaxed);
  const std::uint64_t next = last_live_sequence_ < live_from ? live_from : last_live_sequence_ + 1;
  if (sequence < next) {
    ++shared_.repeated_frames;
    shared_.note_error("sequence " + std::to_string(sequence) + " again or out of order, after " +
                       std::to_string(last_live_sequence_));
  } else if (sequence > next && !in_snapshot_) {
    ++shared_.sequence_gaps;
    shared_.note_error("sequence gap: expected " + std::to_string(next) + ", got " +
                       std::to_string(sequence));
  }
}

void LoadClient::send_frame(int opcode, std::string_view payload) {
  std::string frame;
  frame.reserve(payload.size() + 14);
  frame.push_back(static_cast<char>(0x80 | opcode));
  if (payload.size() < 126) {
    frame.push_back(static_cast<char>(0x80 | payload.size()));
  } else if (payload.size() < 65536) {
    frame.push_back(static_cast<char>(0x80 | 126));
    frame.push_back(static_cast<char>(payload.size() >> 8));
    frame.push_back(static_cast<char>(payload.size() & 0xff));
  } else {
    frame.push_back(static_cast<char>(0x80 | 127));
    for (int shift = 56; shift >= 0; shift -= 8)
      frame.push_back(static_cast<char>((payload.size() >> shift) & 0xff));
  }
  frame.append(reinterpret_cast<const char*>(kMask), 4);
  for (std::size_t i = 0; i < payload.size(); ++i)
    frame.push_back(static_cast<char>(payload[i] ^ kMask[i % 4]));
  send_raw(std::move(frame));
}

void LoadClient::send_raw(std::string bytes) {
  out_.append(bytes);
  flush();
}

void LoadClient::flush() {
  if (writing_ || out_.empty() || !open_) return;
  writing_ = true;
  writing_buffer_.swap(out_);
  out_.clear();
  boost::asio::async_write(socket_, boost::asio::buffer(writing_buffer_),
                           [self = shared_from_this()](const boost::system::error_code& error, std::size_t) {
                             self->writing_ = false;
                             self->writing_buffer_.clear();
                             if (error) return self->fail("write: " + error.message());
                             self->flush();
                           });
}

}  // namespace ovalstream::bench
