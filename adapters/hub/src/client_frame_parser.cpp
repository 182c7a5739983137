#include "client_frame_parser.hpp"

#include <algorithm>

namespace ovalstream::hub {

namespace {

bool is_control(std::uint8_t opcode) {
  return (opcode & 0x08) != 0;
}

}  // namespace

ClientFrame ClientFrameParser::fail(std::uint16_t code, std::string_view reason) noexcept {
  error_code_ = code;
  error_reason_ = reason;
  ClientFrame frame;
  frame.status = ClientFrame::Status::kError;
  frame.close_code = code;
  frame.reason = reason;
  return frame;
}

ClientFrame ClientFrameParser::next(std::span<std::uint8_t> bytes) noexcept {
  if (error_code_ != 0) return fail(error_code_, error_reason_);

  // The payload of a data frame: dropped as it arrives, never held.
  if (payload_left_ != 0) {
    if (bytes.empty()) return {};
    ClientFrame skipped;
    skipped.status = ClientFrame::Status::kSkipped;
    skipped.consumed = static_cast<std::size_t>(std::min<std::uint64_t>(bytes.size(), payload_left_));
    payload_left_ -= skipped.consumed;
    return skipped;
  }

  if (bytes.size() < 2) return {};
  const std::uint8_t first = bytes[0];
  const std::uint8_t second = bytes[1];
  const bool fin = (first & 0x80) != 0;
  const std::uint8_t opcode = first & 0x0F;

  // No extension was negotiated, so the reserved bits must be zero.
  if ((first & 0x70) != 0) return fail(close_code::kProtocolError, "reserved bits set");
  switch (opcode) {
    case 0x0:
    case 0x1:
    case 0x2:
    case 0x8:
    case 0x9:
    case 0xA:
      break;
    default:
      return fail(close_code::kProtocolError, "unknown opcode");
  }
  // Every client frame is masked (RFC 6455 section 5.1).
  if ((second & 0x80) == 0) return fail(close_code::kProtocolError, "unmasked client frame");
  const std::uint8_t length7 = second & 0x7F;
  if (is_control(opcode)) {
    if (!fin || length7 > 125) return fail(close_code::kProtocolError, "fragmented or long control frame");
  } else if (opcode == 0x0 && !in_message_) {
    return fail(close_code::kProtocolError, "continuation frame without a message to continue");
  } else if (opcode != 0x0 && in_message_) {
    return fail(close_code::kProtocolError, "new data frame inside a fragmented message");
  }

  std::size_t header_size = 2;
  std::uint64_t length = length7;
  if (length7 == 126) {
    if (bytes.size() < 4) return {};
    length = (std::uint64_t{bytes[2]} << 8) | bytes[3];
    header_size = 4;
  } else if (length7 == 127) {
    if (bytes.size() < 10) return {};
    length = 0;
    for (int i = 0; i < 8; ++i) length = (length << 8) | bytes[2 + i];
    if ((length >> 63) != 0) return fail(close_code::kProtocolError, "bad frame length");
    header_size = 10;
  }
  header_size += 4;  // the masking key

  if (!is_control(opcode)) {
    // message_bytes_ never exceeds the bound, so the subtraction cannot wrap.
    if (length > max_message_bytes_ - message_bytes_)
      return fail(close_code::kMessageTooBig, "message too big");
    if (bytes.size() < header_size) return {};
    in_message_ = !fin;
    message_bytes_ = fin ? 0 : message_bytes_ + length;
    payload_left_ = length;
    ClientFrame header;
    header.status = ClientFrame::Status::kDataHeader;
    header.opcode = static_cast<Opcode>(opcode);
    header.fin = fin;
    header.payload_size = length;
    header.consumed = header_size;
    return header;
  }

  // A control frame's length is at most 125, so the whole frame fits the caller's fixed buffer.
  const std::size_t frame_size = header_size + static_cast<std::size_t>(length);
  if (bytes.size() < frame_size) return {};
  const std::uint8_t* mask = bytes.data() + header_size - 4;
  std::uint8_t* payload = bytes.data() + header_size;
  for (std::size_t i = 0; i < length; ++i) payload[i] ^= mask[i & 3];

  ClientFrame frame;
  frame.status = ClientFrame::Status::kControl;
  frame.opcode = static_cast<Opcode>(opcode);
  frame.payload = std::span<const std::uint8_t>(payload, static_cast<std::size_t>(length));
  frame.consumed = frame_size;
  return frame;
}

int client_close_code(std::span<const std::uint8_t> close_payload) {
  if (close_payload.empty()) return 0;
  if (close_payload.size() == 1) return -1;
  const int code = (close_payload[0] << 8) | close_payload[1];
  // Codes a peer may put on the wire: 1000-1003, 1007-1011 (and 1012-1014 in use since), 3000-4999.
  const bool defined = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014);
  const bool registered_or_private = code >= 3000 && code <= 4999;
  return defined || registered_or_private ? code : -1;
}

}  // namespace ovalstream::hub
