#pragma once
// Integration-test support: websocket clients for the real aggregator.
//   WsClient     cpprestsdk's websocket_callback_client (websocketpp inside): a second, independent
//                implementation of RFC 6455 that records every message it receives, in order.
//   RawWsClient  a blocking POSIX socket that does the handshake by hand and reads frames only when told
//                to: a client that never reads (slow consumer), and many cheap clients.
// Every wait is bounded.
// Thread safety: WsClient's accessors may be called from any thread (cpprest delivers on its own threads);
// RawWsClient belongs to one thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ovalstream::aggregator::itest {

using namespace std::chrono_literals;

class WsClient {
 public:
  // `uri`: ws://127.0.0.1:port/path or wss://... With `trusted_certificate_pem_file` the server's
  // certificate is verified (chain and host name) against that certificate only; without it, wss does not
  // verify.
  explicit WsClient(std::string uri, std::string trusted_certificate_pem_file = "");
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  // Connects (the opening handshake completed); false on failure or timeout.
  bool connect(std::chrono::milliseconds timeout = 10s);

  // Every text message received so far, in order.
  std::vector<std::string> messages() const;
  std::size_t message_count() const;
  // Messages that were not text (the aggregator sends only text).
  std::size_t non_text_messages() const;
  // Waits until `predicate(messages)` holds (or the connection closed); returns whether it holds.
  bool wait_for(const std::function<bool(const std::vector<std::string>&)>& predicate,
                std::chrono::milliseconds timeout);
  bool wait_for_count(std::size_t count, std::chrono::milliseconds timeout);
  // Waits until the last message received equals `message`.
  bool wait_for_last(const std::string& message, std::chrono::milliseconds timeout);

  // Sends a text message (what a browser app's heartbeat is); true once cpprest has written it.
  bool send_text(const std::string& text, std::chrono::milliseconds timeout = 5s);

  bool wait_closed(std::chrono::milliseconds timeout);
  bool closed() const;
  int close_code() const;  // the code of the server's close frame, once closed
  // Messages received before the close (valid once closed()).
  std::size_t messages_before_close() const;
  bool close(std::chrono::milliseconds timeout = 3s);

 private:
  struct State;
  struct Holder;
  std::string uri_;
  std::shared_ptr<State> state_;
  std::unique_ptr<Holder> client_;
};

struct ServerFrame {
  std::uint8_t first_byte = 0;
  std::uint8_t opcode() const { return first_byte & 0x0F; }
  bool fin() const { return (first_byte & 0x80) != 0; }
  bool masked = false;
  std::string payload;
  int close_code() const;  // for close frames; 0 without a code
  std::string close_reason() const { return payload.size() > 2 ? payload.substr(2) : std::string(); }
};

class RawWsClient {
 public:
  // Connects to 127.0.0.1:port; a positive `receive_buffer_bytes` shrinks SO_RCVBUF before connecting.
  explicit RawWsClient(std::uint16_t port, int receive_buffer_bytes = 0);
  ~RawWsClient();
  RawWsClient(const RawWsClient&) = delete;
  RawWsClient& operator=(const RawWsClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  // Sends the upgrade request for `target` and reads the response; true on a 101 with the right
  // Sec-WebSocket-Accept. `status` gets the response status.
  bool handshake(const std::string& target, std::chrono::milliseconds timeout = 5s, int* status = nullptr);
  // As handshake(), with `header_lines` ("Name: value\r\n" each) in the request; `head` gets the response's
  // status line and headers.
  bool handshake_with(const std::string& target, const std::string& header_lines, std::string* head = nullptr,
                      std::chrono::milliseconds timeout = 5s, int* status = nullptr);
  // The next frame; nullopt on timeout, EOF or error (then eof() or reset() tell which).
  std::optional<ServerFrame> read_frame(std::chrono::milliseconds timeout);
  // The next `count` text payloads (fewer on timeout or close).
  std::vector<std::string> read_texts(std::size_t count, std::chrono::milliseconds timeout);
  // Reads until the server's close frame (returned) or EOF/reset/timeout (nullopt), discarding data frames;
  // `data_frames` counts those.
  std::optional<ServerFrame> read_until_close(std::chrono::milliseconds timeout,
                                              std::size_t* data_frames = nullptr);
  // Sends one whole frame (masked, as a client must): e.g. opcode 0x9 for a ping, 0x8 for a close. False when
  // the socket is closed or the write fails.
  bool send_frame(std::uint8_t opcode, std::string_view payload);
  bool eof() const { return eof_; }
  bool reset() const { return reset_; }
  void close();

 private:
  bool fill(std::chrono::milliseconds timeout);

  int fd_ = -1;
  std::string buffer_;
  bool eof_ = false;
  bool reset_ = false;
};

}  // namespace ovalstream::aggregator::itest
