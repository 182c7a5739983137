#pragma once
// A raw TCP client on a blocking POSIX socket with poll()-bounded waits, for protocol edge cases the real
// clients would never produce (unmasked frames, reserved bits, a client that never reads) and for the
// memory test (a socket costs the test process nothing in user space).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ovalstream::hub::testing {

// The RFC 6455 section 1.3 example key and its accept value.
inline constexpr std::string_view kSampleKey = "dGhlIHNhbXBsZSBub25jZQ==";
inline constexpr std::string_view kSampleAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

std::string upgrade_request(std::string_view target = "/ws", std::string_view key = kSampleKey,
                            std::string_view version = "13");

// A client frame: `first_byte` is FIN/RSV/opcode as sent; masked with a fixed non-zero key unless told not.
std::string client_frame(std::uint8_t first_byte, std::string_view payload, bool masked = true);
// A client frame header announcing `length` payload bytes (the payload is not included).
std::string client_frame_header(std::uint8_t first_byte, std::uint64_t length);

struct ServerFrame {
  std::uint8_t first_byte = 0;
  std::uint8_t opcode() const { return first_byte & 0x0F; }
  bool fin() const { return (first_byte & 0x80) != 0; }
  bool masked = false;
  std::string payload;
  // For close frames.
  int close_code() const;
  std::string close_reason() const;
};

struct HttpReply {
  int status = 0;
  std::string head;  // status line and headers
  std::string body;
  std::string header(std::string_view name) const;  // case-insensitive; "" when absent
};

class RawClient {
 public:
  RawClient() = default;
  explicit RawClient(std::uint16_t port, int receive_buffer_bytes = 0);
  // From another loopback source address (e.g. "127.0.0.2": a second client address without leaving the
  // machine); `source` must be in 127.0.0.0/8.
  RawClient(std::uint16_t port, std::string_view source, int receive_buffer_bytes = 0);
  RawClient(RawClient&& other) noexcept;
  RawClient& operator=(RawClient&& other) noexcept;
  ~RawClient();

  bool connected() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  bool write_all(std::string_view bytes);
  // Reads an HTTP response head (and a Content-Length body); nullopt on timeout or EOF.
  std::optional<HttpReply> read_http(std::chrono::milliseconds timeout);
  // Sends the upgrade request and reads the 101; true when the handshake succeeded.
  bool handshake(std::string_view target = "/ws",
                 std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // The next server frame; nullopt on timeout, EOF or error.
  std::optional<ServerFrame> read_frame(std::chrono::milliseconds timeout);
  // Reads frames until a close frame (returned) or EOF/timeout (nullopt), answering nothing.
  std::optional<ServerFrame> read_until_close(std::chrono::milliseconds timeout);
  // True when the server closed the connection (EOF or reset) within the timeout; data is discarded.
  bool wait_for_eof(std::chrono::milliseconds timeout);
  // Reads whatever bytes are available within the timeout (at least one), appended to the buffer.
  bool fill(std::chrono::milliseconds timeout);
  void close();
  // Gives up ownership of the socket (the caller closes it).
  int release();

  std::string& buffered() { return buffer_; }

 private:
  int fd_ = -1;
  std::string buffer_;  // received, not yet consumed
};

}  // namespace ovalstream::hub::testing
