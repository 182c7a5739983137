#pragma once
// Parsing of client-to-server frames (RFC 6455 section 5.2). Control frames (ping, pong, close) are parsed
// whole and in place: one is at most 2 + 4 + 125 bytes, so it fits a small fixed buffer. Data frames (text,
// binary and the continuations of a fragmented message; what browsers send as heartbeats, since they cannot
// ping) are read and discarded, as the original server did: the parser returns a data frame's header, then
// consumes its payload as it arrives without holding, unmasking or validating it. Malformed input and data
// messages over the bound are rejected from their header alone, with the close code to send.
// Pure: no I/O, no clock. The caller holds the bytes and drops what each result consumed.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "ovalstream/hub/frame.hpp"

namespace ovalstream::hub {

// The largest frame the parser ever needs whole: a masked control frame with a 125-byte payload.
inline constexpr std::size_t kMaxClientControlFrameBytes = 2 + 4 + 125;
// The largest data frame header: 2 bytes, a 64-bit length and the masking key.
inline constexpr std::size_t kMaxClientDataHeaderBytes = 2 + 8 + 4;

struct ClientFrame {
  enum class Status {
    kNeedMore,    // the bytes hold no complete header (or control frame) yet; nothing consumed
    kControl,     // a complete control frame: opcode and payload (unmasked in place)
    kDataHeader,  // a data frame's header: opcode, fin and payload_size; the payload follows as kSkipped
    kSkipped,     // payload bytes of the current data frame, discarded
    kError,       // the peer broke the protocol or the message bound: close with close_code and reason
  };
  Status status = Status::kNeedMore;
  Opcode opcode = Opcode::kPing;   // kControl: ping, pong or close; kDataHeader: text, binary or continuation
  bool fin = true;                 // kDataHeader: the last frame of its message
  std::uint64_t payload_size = 0;  // kDataHeader: the payload the next results skip
  std::span<const std::uint8_t> payload;  // kControl
  std::size_t consumed = 0;               // bytes from the front of the input this result accounts for
  std::uint16_t close_code = 0;           // kError
  std::string_view reason;                // kError
};

class ClientFrameParser {
 public:
  // max_message_bytes: the payload a data message (all its frames together) may have; more closes 1009.
  explicit ClientFrameParser(std::uint64_t max_message_bytes) noexcept
      : max_message_bytes_(max_message_bytes) {}

  // Parses the front of `bytes`: what the caller holds and has not consumed yet. After kError the stream's
  // frame boundaries are lost: the parser returns the same error again and the caller stops parsing.
  ClientFrame next(std::span<std::uint8_t> bytes) noexcept;

  // A fragmented data message has started and its final frame has not arrived yet.
  bool in_message() const noexcept { return in_message_; }
  // Payload bytes of the current data frame still to skip.
  std::uint64_t payload_left() const noexcept { return payload_left_; }

 private:
  ClientFrame fail(std::uint16_t code, std::string_view reason) noexcept;

  std::uint64_t max_message_bytes_;
  std::uint64_t message_bytes_ = 0;  // payload of the fragmented message so far
  std::uint64_t payload_left_ = 0;
  bool in_message_ = false;
  std::uint16_t error_code_ = 0;  // set: failed with this code and error_reason_
  std::string_view error_reason_;
};

// The close code a client sent in a close frame payload, if the payload is valid (RFC 6455 section 7.4):
// 0 when the payload is empty (no code), otherwise a code a peer may send; -1 when the payload is invalid.
int client_close_code(std::span<const std::uint8_t> close_payload);

}  // namespace ovalstream::hub
