// libFuzzer target over the hub's client frame parser: the bytes a hostile websocket client sends.
// The input's first byte picks the message bound, the next ones the sizes in which the bytes arrive; the
// rest is the client's byte stream. It is parsed twice: all at once, and in the chosen pieces the way the
// session reads them (append what arrived, parse until kNeedMore, drop what each result consumed). Both runs
// must give the same frames: the same control frames and data headers in the same order, the same payload
// bytes skipped between them, the same error. Every result is checked against the parser's contract. A
// violated invariant is __builtin_trap(), so libFuzzer reports it like a crash and keeps the input.
// Run: scripts/fuzz (long runs) or the CTest test client_frame_fuzz (label "fuzz").
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "client_frame_parser.hpp"

namespace {

using ovalstream::hub::client_close_code;
using ovalstream::hub::ClientFrame;
using ovalstream::hub::ClientFrameParser;
using ovalstream::hub::kMaxClientControlFrameBytes;
using ovalstream::hub::kMaxClientDataHeaderBytes;
using ovalstream::hub::Opcode;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

bool is_control(Opcode opcode) {
  return opcode == Opcode::kPing || opcode == Opcode::kPong || opcode == Opcode::kClose;
}

bool is_data(Opcode opcode) {
  return opcode == Opcode::kText || opcode == Opcode::kBinary || opcode == Opcode::kContinuation;
}

// What a parse run saw, independent of how the bytes arrived: skipped payload runs are merged.
struct Trace {
  std::string events;
  std::uint16_t error_code = 0;
  bool failed = false;

  void control(const ClientFrame& frame) {
    events += "C" + std::to_string(static_cast<int>(frame.opcode)) + ":";
    events.append(frame.payload.begin(), frame.payload.end());
    events += ";";
    if (frame.opcode == Opcode::kClose) {
      const int code = client_close_code(frame.payload);
      check(code >= -1 && code <= 4999);
      check(code != 1005 && code != 1006 && code != 1015);
      check(code == -1 || code == 0 || code >= 1000);
    }
  }
  void header(const ClientFrame& frame) {
    flush_skipped();
    events += "D" + std::to_string(static_cast<int>(frame.opcode)) + (frame.fin ? "f" : "m") +
              std::to_string(frame.payload_size) + ";";
  }
  void skipped(std::size_t bytes) { skipped_ += bytes; }
  void flush_skipped() {
    if (skipped_ != 0) events += "S" + std::to_string(skipped_) + ";";
    skipped_ = 0;
  }

 private:
  std::uint64_t skipped_ = 0;
};

// Parses what `held` holds until the parser needs more; drops each result's consumed bytes from `held`.
// Returns false once the parser failed (the session stops reading then).
bool drain(ClientFrameParser& parser, std::vector<std::uint8_t>& held, Trace& trace) {
  for (;;) {
    const std::uint64_t payload_left_before = parser.payload_left();
    const ClientFrame frame = parser.next(std::span<std::uint8_t>(held));
    check(frame.consumed <= held.size());
    switch (frame.status) {
      case ClientFrame::Status::kNeedMore:
        check(frame.consumed == 0);
        // Never stuck on a complete frame: what it waits for is more than the largest whole frame it
        // needs at once, or a payload that has not arrived.
        if (payload_left_before != 0) {
          check(held.empty());
        } else {
          check(held.size() < std::max(kMaxClientControlFrameBytes, kMaxClientDataHeaderBytes));
        }
        return true;
      case ClientFrame::Status::kControl:
        check(is_control(frame.opcode));
        check(frame.payload.size() <= 125);
        check(frame.consumed >= 2 + 4 + frame.payload.size());
        check(frame.consumed <= kMaxClientControlFrameBytes);
        check(frame.payload.empty() ||
              (frame.payload.data() >= held.data() &&
               frame.payload.data() + frame.payload.size() <= held.data() + held.size()));
        trace.control(frame);
        break;
      case ClientFrame::Status::kDataHeader:
        check(payload_left_before == 0);
        check(is_data(frame.opcode));
        check(frame.consumed >= 2 + 4 && frame.consumed <= kMaxClientDataHeaderBytes);
        check(parser.payload_left() == frame.payload_size);
        check(parser.in_message() == !frame.fin);
        trace.header(frame);
        break;
      case ClientFrame::Status::kSkipped:
        check(frame.consumed > 0 && frame.consumed <= payload_left_before);
        check(parser.payload_left() == payload_left_before - frame.consumed);
        trace.skipped(frame.consumed);
        break;
      case ClientFrame::Status::kError: {
        check(frame.close_code == 1002 || frame.close_code == 1009 || frame.close_code == 1003 ||
              frame.close_code == 1007 || frame.close_code == 1008);
        check(!frame.reason.empty() && frame.reason.size() <= 123);
        // After an error the parser keeps returning it.
        const ClientFrame again = parser.next(std::span<std::uint8_t>(held));
        check(again.status == ClientFrame::Status::kError && again.close_code == frame.close_code);
        trace.flush_skipped();
        trace.failed = true;
        trace.error_code = frame.close_code;
        return false;
      }
    }
    held.erase(held.begin(), held.begin() + static_cast<std::ptrdiff_t>(frame.consumed));
  }
}

Trace parse_in_pieces(std::uint64_t bound, std::span<const std::uint8_t> stream,
                      std::span<const std::uint8_t> piece_sizes) {
  ClientFrameParser parser(bound);
  Trace trace;
  std::vector<std::uint8_t> held;
  std::size_t offset = 0;
  std::size_t piece = 0;
  while (offset < stream.size()) {
    // Piece sizes 1..256 from the input, cycled; without any, everything at once.
    const std::size_t size =
        piece_sizes.empty() ? stream.size() : std::size_t{piece_sizes[piece++ % piece_sizes.size()]} + 1;
    const std::size_t take = std::min(size, stream.size() - offset);
    held.insert(held.end(), stream.begin() + static_cast<std::ptrdiff_t>(offset),
                stream.begin() + static_cast<std::ptrdiff_t>(offset + take));
    offset += take;
    if (!drain(parser, held, trace)) return trace;
  }
  trace.flush_skipped();
  return trace;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  // Bounds from tiny (so fragmented messages hit it) to the default 64 KiB.
  static constexpr std::uint64_t kBounds[] = {0, 1, 125, 126, 1000, 65535, 65536, 1u << 20};
  const std::uint64_t bound = kBounds[data[0] % std::size(kBounds)];
  const std::size_t piece_count = data[1] % 16;
  if (size < 2 + piece_count) return 0;
  const std::span<const std::uint8_t> piece_sizes(data + 2, piece_count);
  const std::span<const std::uint8_t> stream(data + 2 + piece_count, size - 2 - piece_count);

  const Trace whole = parse_in_pieces(bound, stream, {});
  const Trace pieces = parse_in_pieces(bound, stream, piece_sizes);
  // An error found in the whole stream may come later in pieces only if its bytes were not all there:
  // a run that saw every byte reports the same.
  check(whole.failed == pieces.failed);
  check(whole.error_code == pieces.error_code);
  check(whole.events == pieces.events);
  return 0;
}
