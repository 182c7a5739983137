#include <utility>  // before Asio (cpprest includes it): Boost 1.74 with C++20 needs it

#include "aggregator/support/ws_clients.hpp"

// cpprestsdk would define a macro U(), which breaks Boost headers included after it.
#define _TURN_OFF_PLATFORM_STRING
#include <cpprest/ws_client.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <future>
#include <mutex>

namespace ovalstream::aggregator::itest {
namespace {

namespace ws = web::websockets::client;
using Clock = std::chrono::steady_clock;

bool wait_task(pplx::task<void> task, std::chrono::milliseconds timeout) {
  auto promise = std::make_shared<std::promise<bool>>();
  auto future = promise->get_future();
  task.then([promise](pplx::task<void> finished) {
    try {
      finished.get();
      promise->set_value(true);
    } catch (...) {
      promise->set_value(false);
    }
  });
  return future.wait_for(timeout) == std::future_status::ready && future.get();
}

std::string websocket_accept(const std::string& key) {
  const std::string input = key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  unsigned char encoded[64];
  const int length = EVP_EncodeBlock(encoded, digest, SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<const char*>(encoded), static_cast<std::size_t>(length));
}

std::string header_value(const std::string& head, const std::string& name) {
  auto lower = [](std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
  };
  const std::string lower_head = lower(head);
  const std::string needle = "\r\n" + lower(name) + ":";
  const auto at = lower_head.find(needle);
  if (at == std::string::npos) return {};
  auto begin = at + needle.size();
  const auto end = head.find("\r\n", begin);
  while (begin < end && head[begin] == ' ') ++begin;
  return head.substr(begin, end - begin);
}

}  // namespace

struct WsClient::State {
  mutable std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::string> messages;
  std::size_t non_text = 0;
  bool closed = false;
  int close_code = 0;
  std::size_t messages_before_close = 0;
};

struct WsClient::Holder {
  explicit Holder(ws::websocket_client_config config) : client(std::move(config)) {}
  ws::websocket_callback_client client;
};

WsClient::WsClient(std::string uri, std::string trusted_certificate_pem_file)
    : uri_(std::move(uri)), state_(std::make_shared<State>()) {
  ws::websocket_client_config config;
  if (trusted_certificate_pem_file.empty()) {
    config.set_validate_certificates(false);
  } else {
    config.set_validate_certificates(true);
    config.set_ssl_context_callback(
        [file = std::move(trusted_certificate_pem_file)](boost::asio::ssl::context& context) {
          context.load_verify_file(file);
        });
  }
  client_ = std::make_unique<Holder>(std::move(config));
  auto state = state_;
  client_->client.set_message_handler([state](const ws::websocket_incoming_message& message) {
    const bool text = message.message_type() == ws::websocket_message_type::text_message;
    std::string payload;
    try {
      payload = message.extract_string().get();
    } catch (...) {
      payload.clear();
    }
    std::lock_guard lock(state->mutex);
    if (text) {
      state->messages.push_back(std::move(payload));
    } else {
      ++state->non_text;
    }
    state->changed.notify_all();
  });
  client_->client.set_close_handler(
      [state](ws::websocket_close_status status, const utility::string_t&, const std::error_code&) {
        std::lock_guard lock(state->mutex);
        state->closed = true;
        state->close_code = static_cast<int>(status);
        state->messages_before_close = state->messages.size();
        state->changed.notify_all();
      });
}

WsClient::~WsClient() {
  if (!closed()) close(2s);
}

bool WsClient::connect(std::chrono::milliseconds timeout) {
  try {
    return wait_task(client_->client.connect(web::uri(uri_)), timeout);
  } catch (...) {
    return false;
  }
}

std::vector<std::string> WsClient::messages() const {
  std::lock_guard lock(state_->mutex);
  return state_->messages;
}

std::size_t WsClient::message_count() const {
  std::lock_guard lock(state_->mutex);
  return state_->messages.size();
}

std::size_t WsClient::non_text_messages() const {
  std::lock_guard lock(state_->mutex);
  return state_->non_text;
}

bool WsClient::wait_for(const std::function<bool(const std::vector<std::string>&)>& predicate,
                        std::chrono::milliseconds timeout) {
  std::unique_lock lock(state_->mutex);
  state_->changed.wait_for(lock, timeout, [&] { return predicate(state_->messages) || state_->closed; });
  return predicate(state_->messages);
}

bool WsClient::wait_for_count(std::size_t count, std::chrono::milliseconds timeout) {
  return wait_for([count](const std::vector<std::string>& messages) { return messages.size() >= count; },
                  timeout);
}

bool WsClient::wait_for_last(const std::string& message, std::chrono::milliseconds timeout) {
  return wait_for(
      [&message](const std::vector<std::string>& messages) {
        return !messages.empty() && messages.back() == message;
      },
      timeout);
}

bool WsClient::send_text(const std::string& text, std::chrono::milliseconds timeout) {
  try {
    ws::websocket_outgoing_message message;
    message.set_utf8_message(text);
    return wait_task(client_->client.send(message), timeout);
  } catch (...) {
    return false;
  }
}

bool WsClient::wait_closed(std::chrono::milliseconds timeout) {
  std::unique_lock lock(state_->mutex);
  return state_->changed.wait_for(lock, timeout, [&] { return state_->closed; });
}

bool WsClient::closed() const {
  std::lock_guard lock(state_->mutex);
  return state_->closed;
}

int WsClient::close_code() const {
  std::lock_guard lock(state_->mutex);
  return state_->close_code;
}

std::size_t WsClient::messages_before_close() const {
  std::lock_guard lock(state_->mutex);
  return state_->messages_before_close;
}

bool WsClient::close(std::chrono::milliseconds timeout) {
  try {
    return wait_task(client_->client.close(), timeout);
  } catch (...) {
    return false;
  }
}

int ServerFrame::close_code() const {
  if (payload.size() < 2) return 0;
  return (static_cast<std::uint8_t>(payload[0]) << 8) | static_cast<std::uint8_t>(payload[1]);
}

RawWsClient::RawWsClient(std::uint16_t port, int receive_buffer_bytes) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  if (receive_buffer_bytes > 0) {
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer_bytes, sizeof receive_buffer_bytes);
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

RawWsClient::~RawWsClient() {
  close();
}

void RawWsClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool RawWsClient::fill(std::chrono::milliseconds timeout) {
  if (fd_ < 0 || eof_ || reset_) return false;
  pollfd poll_fd{fd_, POLLIN, 0};
  const int ready = ::poll(&poll_fd, 1, static_cast<int>(std::max<long long>(0, timeout.count())));
  if (ready <= 0) return false;
  char chunk[65536];
  const ssize_t received = ::recv(fd_, chunk, sizeof chunk, 0);
  if (received == 0) {
    eof_ = true;
    return false;
  }
  if (received < 0) {
    if (errno == ECONNRESET) reset_ = true;
    return false;
  }
  buffer_.append(chunk, static_cast<std::size_t>(received));
  return true;
}

bool RawWsClient::handshake(const std::string& target, std::chrono::milliseconds timeout, int* status) {
  return handshake_with(target, "", nullptr, timeout, status);
}

bool RawWsClient::handshake_with(const std::string& target, const std::string& header_lines,
                                 std::string* head_out, std::chrono::milliseconds timeout, int* status) {
  if (status) *status = 0;
  if (fd_ < 0) return false;
  const std::string key = "b3ZhbHN0cmVhbSB0ZXN0IQ==";
  const std::string request = "GET " + target +
                              " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                              "Sec-WebSocket-Key: " +
                              key + "\r\nSec-WebSocket-Version: 13\r\n" + header_lines + "\r\n";
  std::string_view rest = request;
  while (!rest.empty()) {
    const ssize_t written = ::send(fd_, rest.data(), rest.size(), MSG_NOSIGNAL);
    if (written < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    rest.remove_prefix(static_cast<std::size_t>(written));
  }
  const auto deadline = Clock::now() + timeout;
  std::size_t head_end;
  while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()))) return false;
  }
  const std::string head = buffer_.substr(0, head_end + 2);
  buffer_.erase(0, head_end + 4);
  const int code = head.size() >= 12 ? std::atoi(head.c_str() + 9) : 0;
  if (status) *status = code;
  if (head_out) *head_out = head;
  return code == 101 && header_value(head, "Sec-WebSocket-Accept") == websocket_accept(key);
}

std::optional<ServerFrame> RawWsClient::read_frame(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  auto need = [&](std::size_t count) {
    while (buffer_.size() < count) {
      if (!fill(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()))) return false;
    }
    return true;
  };
  if (!need(2)) return std::nullopt;
  ServerFrame frame;
  frame.first_byte = static_cast<std::uint8_t>(buffer_[0]);
  const auto second = static_cast<std::uint8_t>(buffer_[1]);
  frame.masked = (second & 0x80) != 0;
  std::uint64_t length = second & 0x7F;
  std::size_t header = 2;
  if (length == 126) {
    if (!need(4)) return std::nullopt;
    length = (static_cast<std::uint64_t>(static_cast<std::uint8_t>(buffer_[2])) << 8) |
             static_cast<std::uint8_t>(buffer_[3]);
    header = 4;
  } else if (length == 127) {
    if (!need(10)) return std::nullopt;
    length = 0;
    for (int i = 0; i < 8; ++i) length = (length << 8) | static_cast<std::uint8_t>(buffer_[2 + i]);
    header = 10;
  }
  if (frame.masked) header += 4;
  if (!need(header + length)) return std::nullopt;
  frame.payload = buffer_.substr(header, length);
  buffer_.erase(0, header + length);
  return frame;
}

bool RawWsClient::send_frame(std::uint8_t opcode, std::string_view payload) {
  if (fd_ < 0) return false;
  std::string frame;
  frame.push_back(static_cast<char>(0x80 | (opcode & 0x0F)));
  if (payload.size() < 126) {
    frame.push_back(static_cast<char>(0x80 | payload.size()));
  } else if (payload.size() <= 0xFFFF) {
    frame.push_back(static_cast<char>(0x80 | 126));
    frame.push_back(static_cast<char>(payload.size() >> 8));
    frame.push_back(static_cast<char>(payload.size() & 0xFF));
  } else {
    frame.push_back(static_cast<char>(0x80 | 127));
    for (int shift = 56; shift >= 0; shift -= 8)
      frame.push_back(static_cast<char>((payload.size() >> shift) & 0xFF));
  }
  const unsigned char mask[4] = {0x37, 0xfa, 0x21, 0x3d};
  frame.append(reinterpret_cast<const char*>(mask), 4);
  for (std::size_t i = 0; i < payload.size(); ++i)
    frame.push_back(static_cast<char>(payload[i] ^ mask[i % 4]));
  std::string_view rest = frame;
  while (!rest.empty()) {
    const ssize_t written = ::send(fd_, rest.data(), rest.size(), MSG_NOSIGNAL);
    if (written < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    rest.remove_prefix(static_cast<std::size_t>(written));
  }
  return true;
}

std::vector<std::string> RawWsClient::read_texts(std::size_t count, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::vector<std::string> texts;
  while (texts.size() < count) {
    auto frame = read_frame(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
    if (!frame) break;
    if (frame->opcode() == 0x8) break;
    if (frame->opcode() == 0x1) texts.push_back(std::move(frame->payload));
  }
  return texts;
}

std::optional<ServerFrame> RawWsClient::read_until_close(std::chrono::milliseconds timeout,
                                                         std::size_t* data_frames) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    auto frame = read_frame(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
    if (!frame) return std::nullopt;
    if (frame->opcode() == 0x8) return frame;
    if (data_frames && (frame->opcode() == 0x1 || frame->opcode() == 0x2)) ++*data_frames;
  }
}

}  // namespace ovalstream::aggregator::itest
