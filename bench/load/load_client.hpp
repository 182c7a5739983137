#pragma once
// One websocket client of the load tool: connects from its own loopback source address (bind before
// connect, so many clients can exceed one address's ephemeral port range), does the websocket handshake and
// then reads frames reactor style (wait for readable, read into the io thread's scratch buffer), keeping
// only an unfinished frame's bytes per client. Speaks our protocol (one event per text frame) or NATS over
// websocket (CONNECT, SUB, PING/PONG, MSG split across frames).
// Thread safety: every member runs on the one thread that runs the io_context (start() included: post it).

#include <utility>  // before Asio (Boost 1.74 with C++20)

#include <boost/asio.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "run_shared.hpp"

namespace ovalstream::bench {

class LoadClient : public std::enable_shared_from_this<LoadClient> {
 public:
  LoadClient(boost::asio::io_context& io, RunShared& shared, std::uint32_t index);

  void start();
  void close();
  // Live frames this client received in the current measure.
  std::uint64_t live_frames() const noexcept { return live_frames_; }
  void reset_live() noexcept { live_frames_ = 0; }
  bool is_open() const noexcept { return open_; }
  bool is_complete() const noexcept { return complete_; }
  // The highest bench sequence this client received, 0 before any.
  std::uint64_t last_sequence() const noexcept { return last_live_sequence_; }

 private:
  void on_connect(const boost::system::error_code& error);
  void wait_readable();
  void on_readable(const boost::system::error_code& error);
  bool consume(std::string_view bytes, std::int64_t now_ns);
  bool on_ws_frame(int opcode, std::string_view payload, std::int64_t now_ns);
  bool on_nats_bytes(std::string_view bytes, std::int64_t now_ns);
  void on_event(std::string_view payload, std::string_view reply, std::int64_t now_ns);
  void mark_complete(std::int64_t now_ns);
  void check_sequence(std::uint64_t sequence, std::string_view payload);
  void send_frame(int opcode, std::string_view payload);
  void send_raw(std::string bytes);
  void flush();
  void fail(const std::string& why);

  boost::asio::ip::tcp::socket socket_;
  RunShared& shared_;
  std::uint32_t index_;
  bool open_ = false;
  bool handshake_done_ = false;
  bool ready_ = false;
  bool complete_ = false;
  bool writing_ = false;
  std::string in_;    // bytes not yet consumed: an unfinished HTTP head or websocket frame
  std::string nats_;  // NATS protocol bytes not yet consumed (kNats*)
  std::string out_;   // bytes waiting for the write in progress to finish
  std::string writing_buffer_;
  std::uint64_t frames_ = 0;
  std::uint64_t live_frames_ = 0;
  std::uint64_t last_live_sequence_ = 0;
  bool in_snapshot_ = false;  // kOurs with the live marker: before {"ovalstream":"live"}
};

}  // namespace ovalstream::bench
