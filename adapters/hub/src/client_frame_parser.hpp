#pragma once
// Parsing of client-to-server frames (RFC 6455 section 5.2) for a one-way stream: the hub accepts only
// control frames from clients (ping, pong, close), so a complete acceptable frame is at most
// 2 + 4 (mask) + 125 bytes and can be parsed in place in a small fixed buffer. Everything else is rejected
// from its header alone, before its payload arrives, with the close code to send.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "ovalstream/hub/frame.hpp"

namespace ovalstream::hub {

// The largest frame the parser ever needs whole: a masked control frame with a 125-byte payload.
inline constexpr std::size_t kMaxClientControlFrameBytes = 2 + 4 + 125;

struct ClientFrame {
  enum class Status {
    kNeedMore,  // the bytes hold no complete frame yet
    kFrame,     // a complete control frame: opcode and payload (unmasked in place)
    kError,     // the peer broke the protocol: close with close_code and reason
  };
  Status status = Status::kNeedMore;
  Opcode opcode = Opcode::kPing;
  std::span<const std::uint8_t> payload;
  std::size_t frame_size = 0;  // bytes consumed by this frame (kFrame)
  std::uint16_t close_code = 0;
  std::string_view reason;
};

// Parses the first frame of `bytes`. Frames longer than `max_frame_bytes` (payload length) are rejected
// with 1009, data frames with 1003, malformed ones (unmasked, reserved bits, unknown opcode, fragmented or
// long control frames) with 1002. Unmasks the payload of a complete frame in place.
ClientFrame parse_client_frame(std::span<std::uint8_t> bytes, std::size_t max_frame_bytes);

// The close code a client sent in a close frame payload, if the payload is valid (RFC 6455 section 7.4):
// 0 when the payload is empty (no code), otherwise a code a peer may send; -1 when the payload is invalid.
int client_close_code(std::span<const std::uint8_t> close_payload);

}  // namespace ovalstream::hub
