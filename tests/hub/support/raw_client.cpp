#include "hub/support/raw_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <utility>

namespace ovalstream::hub::testing {

namespace {

constexpr std::uint8_t kMask[4] = {0x37, 0xFA, 0x21, 0x3D};

std::string lowercase(std::string_view text) {
  std::string result(text);
  std::transform(result.begin(), result.end(), result.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return result;
}

}  // namespace

std::string upgrade_request(std::string_view target, std::string_view key, std::string_view version) {
  std::string request = "GET " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  request += "Upgrade: websocket\r\nConnection: Upgrade\r\n";
  if (!key.empty()) request += "Sec-WebSocket-Key: " + std::string(key) + "\r\n";
  if (!version.empty()) request += "Sec-WebSocket-Version: " + std::string(version) + "\r\n";
  request += "\r\n";
  return request;
}

std::string client_frame_header(std::uint8_t first_byte, std::uint64_t length) {
  std::string header;
  header.push_back(static_cast<char>(first_byte));
  if (length < 126) {
    header.push_back(static_cast<char>(0x80 | length));
  } else if (length <= 0xFFFF) {
    header.push_back(static_cast<char>(0x80 | 126));
    header.push_back(static_cast<char>(length >> 8));
    header.push_back(static_cast<char>(length & 0xFF));
  } else {
    header.push_back(static_cast<char>(0x80 | 127));
    for (int i = 7; i >= 0; --i) header.push_back(static_cast<char>((length >> (8 * i)) & 0xFF));
  }
  header.append(reinterpret_cast<const char*>(kMask), 4);
  return header;
}

std::string client_frame(std::uint8_t first_byte, std::string_view payload, bool masked) {
  std::string frame = client_frame_header(first_byte, payload.size());
  if (!masked) {
    frame[1] = static_cast<char>(frame[1] & 0x7F);
    frame.resize(frame.size() - 4);
    frame.append(payload);
    return frame;
  }
  for (std::size_t i = 0; i < payload.size(); ++i) {
    frame.push_back(static_cast<char>(static_cast<std::uint8_t>(payload[i]) ^ kMask[i & 3]));
  }
  return frame;
}

int ServerFrame::close_code() const {
  if (payload.size() < 2) return 0;
  return (static_cast<std::uint8_t>(payload[0]) << 8) | static_cast<std::uint8_t>(payload[1]);
}

std::string ServerFrame::close_reason() const {
  return payload.size() > 2 ? payload.substr(2) : std::string();
}

std::string HttpReply::header(std::string_view name) const {
  const std::string lower_head = lowercase(head);
  const std::string needle = "\r\n" + lowercase(name) + ":";
  const auto at = lower_head.find(needle);
  if (at == std::string::npos) return {};
  auto begin = at + needle.size();
  const auto end = head.find("\r\n", begin);
  while (begin < end && head[begin] == ' ') ++begin;
  return head.substr(begin, end - begin);
}

RawClient::RawClient(std::uint16_t port, int receive_buffer_bytes)
    : RawClient(port, "", receive_buffer_bytes) {}

RawClient::RawClient(std::uint16_t port, std::string_view source, int receive_buffer_bytes) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) return;
  if (!source.empty()) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    const std::string text(source);
    // Loopback only: these clients never leave the machine.
    if (::inet_pton(AF_INET, text.c_str(), &local.sin_addr) != 1 ||
        (ntohl(local.sin_addr.s_addr) >> 24) != 127 ||
        ::bind(fd_, reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0) {
      ::close(fd_);
      fd_ = -1;
      return;
    }
  }
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

RawClient::RawClient(RawClient&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), buffer_(std::move(other.buffer_)) {}

RawClient& RawClient::operator=(RawClient&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    buffer_ = std::move(other.buffer_);
  }
  return *this;
}

RawClient::~RawClient() {
  close();
}

void RawClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

int RawClient::release() {
  buffer_.clear();
  buffer_.shrink_to_fit();
  return std::exchange(fd_, -1);
}

bool RawClient::write_all(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t written = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (written < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
  return true;
}

bool RawClient::fill(std::chrono::milliseconds timeout) {
  if (fd_ < 0) return false;
  pollfd poll_fd{fd_, POLLIN, 0};
  const int ready = ::poll(&poll_fd, 1, static_cast<int>(timeout.count()));
  if (ready <= 0) return false;
  char chunk[16384];
  const ssize_t received = ::recv(fd_, chunk, sizeof chunk, 0);
  if (received <= 0) return false;
  buffer_.append(chunk, static_cast<std::size_t>(received));
  return true;
}

std::optional<HttpReply> RawClient::read_http(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto remaining = [&] {
    return std::max(std::chrono::milliseconds(0), std::chrono::duration_cast<std::chrono::milliseconds>(
                                                      deadline - std::chrono::steady_clock::now()));
  };
  std::size_t head_end;
  while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill(remaining())) return std::nullopt;
  }
  HttpReply reply;
  reply.head = buffer_.substr(0, head_end + 2);
  buffer_.erase(0, head_end + 4);
  if (reply.head.size() >= 12) reply.status = std::atoi(reply.head.c_str() + 9);
  const std::string length = reply.header("Content-Length");
  const std::size_t body_size = length.empty() ? 0 : std::stoul(length);
  while (buffer_.size() < body_size) {
    if (!fill(remaining())) return std::nullopt;
  }
  reply.body = buffer_.substr(0, body_size);
  buffer_.erase(0, body_size);
  return reply;
}

bool RawClient::handshake(std::string_view target, std::chrono::milliseconds timeout) {
  if (!write_all(upgrade_request(target))) return false;
  auto reply = read_http(timeout);
  return reply && reply->status == 101;
}

std::optional<ServerFrame> RawClient::read_frame(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto need = [&](std::size_t count) {
    while (buffer_.size() < count) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() < 0 || !fill(left)) return false;
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
    length = (static_cast<std::uint8_t>(buffer_[2]) << 8) | static_cast<std::uint8_t>(buffer_[3]);
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

std::optional<ServerFrame> RawClient::read_until_close(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    auto frame = read_frame(left);
    if (!frame) return std::nullopt;
    if (frame->opcode() == 0x8) return frame;
  }
}

bool RawClient::wait_for_eof(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (fd_ >= 0) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd poll_fd{fd_, POLLIN, 0};
    if (::poll(&poll_fd, 1, static_cast<int>(left.count())) <= 0) continue;
    char chunk[16384];
    const ssize_t received = ::recv(fd_, chunk, sizeof chunk, 0);
    if (received <= 0) return true;
  }
  return true;
}

}  // namespace ovalstream::hub::testing
