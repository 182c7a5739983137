#include "ovalstream/hub/frame.hpp"

#include <algorithm>
#include <utility>

namespace ovalstream::hub {

namespace {

// Control frames carry at most 125 payload bytes (RFC 6455 section 5.5); 2 of them are the close code.
constexpr std::size_t kMaxControlPayload = 125;
constexpr std::size_t kMaxCloseReason = kMaxControlPayload - 2;

// The longest prefix of `reason` of at most `limit` bytes that does not split a UTF-8 sequence.
std::string_view truncate_utf8(std::string_view reason, std::size_t limit) {
  if (reason.size() <= limit) return reason;
  std::size_t end = limit;
  // Back off over continuation bytes (10xxxxxx) so the cut lands on a sequence boundary.
  while (end > 0 && (static_cast<unsigned char>(reason[end]) & 0xC0) == 0x80) --end;
  return reason.substr(0, end);
}

}  // namespace

Frame make_frame(Opcode opcode, Payload payload, std::int64_t published_ns) {
  Frame frame;
  const std::uint64_t length = payload ? payload->size() : 0;
  frame.payload = std::move(payload);
  frame.published_ns = published_ns;
  frame.header[0] = static_cast<std::uint8_t>(0x80 | static_cast<std::uint8_t>(opcode));  // FIN
  if (length < 126) {
    frame.header[1] = static_cast<std::uint8_t>(length);
    frame.header_size = 2;
  } else if (length <= 0xFFFF) {
    frame.header[1] = 126;
    frame.header[2] = static_cast<std::uint8_t>(length >> 8);
    frame.header[3] = static_cast<std::uint8_t>(length);
    frame.header_size = 4;
  } else {
    frame.header[1] = 127;
    for (int i = 0; i < 8; ++i) frame.header[2 + i] = static_cast<std::uint8_t>(length >> (8 * (7 - i)));
    frame.header_size = 10;
  }
  return frame;
}

Frame make_frame_block(std::span<const Frame> frames) {
  std::size_t bytes = 0;
  std::uint32_t count = 0;
  for (const Frame& frame : frames) {
    bytes += frame.size();
    count += frame.frame_count;
  }
  std::string encoded;
  encoded.reserve(bytes);
  for (const Frame& frame : frames) {
    encoded.append(reinterpret_cast<const char*>(frame.header.data()), frame.header_size);
    if (frame.payload) encoded.append(*frame.payload);
  }
  Frame block;
  block.payload = std::make_shared<const std::string>(std::move(encoded));
  block.frame_count = count;
  block.published_ns = oldest_published_ns(frames);
  return block;
}

std::int64_t oldest_published_ns(std::span<const Frame> frames) noexcept {
  std::int64_t oldest = 0;
  for (const Frame& frame : frames) {
    if (frame.published_ns != 0 && (oldest == 0 || frame.published_ns < oldest)) oldest = frame.published_ns;
  }
  return oldest;
}

Frame make_close_frame(std::uint16_t code, std::string_view reason) {
  const std::string_view kept = truncate_utf8(reason, kMaxCloseReason);
  std::string body;
  body.reserve(2 + kept.size());
  body.push_back(static_cast<char>(code >> 8));
  body.push_back(static_cast<char>(code & 0xFF));
  body.append(kept);
  return make_frame(Opcode::kClose, std::make_shared<const std::string>(std::move(body)));
}

}  // namespace ovalstream::hub
