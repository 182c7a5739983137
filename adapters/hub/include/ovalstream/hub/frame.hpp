#pragma once
// A server-to-client websocket frame, encoded once and shared by every connection that sends it. Server
// frames are not masked, so the header depends only on the payload length: a frame is the payload's
// shared bytes (the event exactly as published, never copied) plus a 2..10 byte header.
// Thread safety: a Frame is an immutable value; copies share the payload.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace ovalstream::hub {

using Payload = std::shared_ptr<const std::string>;

struct Frame {
  Payload payload;
  std::array<std::uint8_t, 10> header{};
  std::uint8_t header_size = 0;
  // How many websocket frames the bytes are: 1, or more for a block (make_frame_block), whose header is
  // empty.
  std::uint32_t frame_count = 1;
  // When the payload was published (ns since the Unix epoch), for the publish-to-write latency; 0 if unknown.
  std::int64_t published_ns = 0;

  std::size_t size() const noexcept { return header_size + (payload ? payload->size() : 0); }
};

enum class Opcode : std::uint8_t {
  kContinuation = 0x0,  // received only: the hub sends no fragmented message
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// A final, unmasked frame.
Frame make_frame(Opcode opcode, Payload payload, std::int64_t published_ns = 0);
inline Frame make_text_frame(Payload payload, std::int64_t published_ns = 0) {
  return make_frame(Opcode::kText, std::move(payload), published_ns);
}
// Several frames encoded back to back (headers and payloads copied once) as one Frame with an empty header
// and frame_count = frames.size(): a burst that many connections receive (a competition's snapshot) is then
// queued and written as one buffer per connection instead of a header and a payload per frame. The bytes on
// the wire are the same. published_ns: the oldest of the frames' (0 if none is known), so the
// publish-to-write latency of a block is that of its oldest frame.
Frame make_frame_block(std::span<const Frame> frames);

// The oldest publish time of `frames` (0 when none has one): what the publish-to-write latency of a write
// that carries them is measured from.
std::int64_t oldest_published_ns(std::span<const Frame> frames) noexcept;

// A close frame: 2-byte code then the reason (truncated to fit a control frame).
Frame make_close_frame(std::uint16_t code, std::string_view reason);

// Close codes used by the hub (RFC 6455 section 7.4.1).
namespace close_code {
inline constexpr std::uint16_t kNormal = 1000;
inline constexpr std::uint16_t kGoingAway = 1001;  // drain, server shutdown
inline constexpr std::uint16_t kProtocolError = 1002;
// Not sent by the hub: clients' data frames (heartbeats) are read and discarded, as by the original.
inline constexpr std::uint16_t kUnsupportedData = 1003;
inline constexpr std::uint16_t kInvalidPayload = 1007;   // a close reason that is not UTF-8
inline constexpr std::uint16_t kPolicyViolation = 1008;  // slow consumer; client data frames over the rate
inline constexpr std::uint16_t kMessageTooBig = 1009;    // a client data message over the bound
inline constexpr std::uint16_t kInternalError = 1011;
}  // namespace close_code

}  // namespace ovalstream::hub
