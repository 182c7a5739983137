// The client frame parser on its own: every header size, masks, control frames parsed whole, data frames
// skipped as their bytes arrive (split at every byte), fragmentation sequences, the message bound exactly
// at and one past 64 KiB, and every malformed header closed with its code from the header alone.

#include "client_frame_parser.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace ovalstream::hub {
namespace {

using Bytes = std::vector<std::uint8_t>;
using Mask = std::array<std::uint8_t, 4>;

constexpr std::uint64_t k64KiB = 64 * 1024;
constexpr Mask kSomeMask = {0x37, 0xFA, 0x21, 0x3D};

// How the payload length is written: the shortest form, or a longer one (allowed by this parser, as before).
enum class LengthForm { kShortest, k16Bit, k64Bit };

// A client frame whose first byte is `first_byte` (FIN, RSV, opcode as sent), masked with `mask` unless
// `masked` is false.
Bytes frame(std::uint8_t first_byte, std::string_view payload, Mask mask = kSomeMask, bool masked = true,
            LengthForm form = LengthForm::kShortest) {
  Bytes bytes{first_byte};
  const std::uint64_t length = payload.size();
  const std::uint8_t mask_bit = masked ? 0x80 : 0x00;
  if (form == LengthForm::kShortest && length < 126) {
    bytes.push_back(static_cast<std::uint8_t>(mask_bit | length));
  } else if (form != LengthForm::k64Bit && length <= 0xFFFF) {
    bytes.push_back(mask_bit | 126);
    bytes.push_back(static_cast<std::uint8_t>(length >> 8));
    bytes.push_back(static_cast<std::uint8_t>(length));
  } else {
    bytes.push_back(mask_bit | 127);
    for (int i = 7; i >= 0; --i) bytes.push_back(static_cast<std::uint8_t>(length >> (8 * i)));
  }
  if (masked) bytes.insert(bytes.end(), mask.begin(), mask.end());
  for (std::size_t i = 0; i < payload.size(); ++i) {
    bytes.push_back(static_cast<std::uint8_t>(payload[i]) ^ (masked ? mask[i & 3] : 0));
  }
  return bytes;
}

// A masked header announcing `length` payload bytes, written with 7, 16 or 64 bits as its value needs.
Bytes header(std::uint8_t first_byte, std::uint64_t length) {
  Bytes bytes{first_byte};
  if (length < 126) {
    bytes.push_back(static_cast<std::uint8_t>(0x80 | length));
  } else if (length <= 0xFFFF) {
    bytes.insert(bytes.end(),
                 {0x80 | 126, static_cast<std::uint8_t>(length >> 8), static_cast<std::uint8_t>(length)});
  } else {
    bytes.push_back(0x80 | 127);
    for (int i = 7; i >= 0; --i) bytes.push_back(static_cast<std::uint8_t>(length >> (8 * i)));
  }
  bytes.insert(bytes.end(), kSomeMask.begin(), kSomeMask.end());
  return bytes;
}

Bytes operator+(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

ClientFrame parse(ClientFrameParser& parser, Bytes& bytes) {
  return parser.next(std::span<std::uint8_t>(bytes));
}

std::string describe(const ClientFrame& frame) {
  switch (frame.status) {
    case ClientFrame::Status::kNeedMore:
      return "need more";
    case ClientFrame::Status::kControl: {
      const char* name = frame.opcode == Opcode::kPing   ? "ping"
                         : frame.opcode == Opcode::kPong ? "pong"
                                                         : "close";
      return std::string(name) + " '" + std::string(frame.payload.begin(), frame.payload.end()) + "'";
    }
    case ClientFrame::Status::kDataHeader: {
      const char* name = frame.opcode == Opcode::kText     ? "text"
                         : frame.opcode == Opcode::kBinary ? "binary"
                                                           : "continuation";
      return std::string(name) + (frame.fin ? " fin " : " more ") + std::to_string(frame.payload_size);
    }
    case ClientFrame::Status::kSkipped:
      return "skip " + std::to_string(frame.consumed);
    case ClientFrame::Status::kError:
      return "error " + std::to_string(frame.close_code);
  }
  return "?";
}

// Feeds `stream` to a parser as a session does: a fixed buffer of `capacity` bytes, filled by reads that
// end at the network's chunk boundaries (`splits`, offsets into the stream), parsed until it needs more,
// what each result consumed dropped. Returns what the session saw, consecutive skips merged ("skip N").
std::vector<std::string> drive(const Bytes& stream, const std::vector<std::size_t>& splits,
                               std::uint64_t max_message_bytes = k64KiB, std::size_t capacity = 144) {
  ClientFrameParser parser(max_message_bytes);
  std::vector<std::string> seen;
  std::uint64_t skipped = 0;
  const auto flush_skipped = [&] {
    if (skipped != 0) seen.push_back("skip " + std::to_string(skipped));
    skipped = 0;
  };
  Bytes buffer;
  std::size_t offset = 0;
  std::size_t split = 0;
  while (offset < stream.size()) {
    while (split < splits.size() && splits[split] <= offset) ++split;
    const std::size_t chunk_end = split < splits.size() ? splits[split] : stream.size();
    const std::size_t count = std::min(capacity - buffer.size(), chunk_end - offset);
    if (count == 0) {
      seen.push_back("stuck: a full buffer and no result");
      return seen;
    }
    buffer.insert(buffer.end(), stream.begin() + offset, stream.begin() + offset + count);
    offset += count;
    for (;;) {
      const ClientFrame frame = parser.next(std::span<std::uint8_t>(buffer));
      if (frame.status == ClientFrame::Status::kNeedMore) break;
      if (frame.status == ClientFrame::Status::kSkipped) {
        skipped += frame.consumed;
      } else {
        flush_skipped();
        seen.push_back(describe(frame));
      }
      if (frame.status == ClientFrame::Status::kError) return seen;
      buffer.erase(buffer.begin(), buffer.begin() + frame.consumed);
    }
  }
  flush_skipped();
  if (!buffer.empty()) seen.push_back("left over " + std::to_string(buffer.size()));
  return seen;
}

std::vector<std::string> drive_whole(const Bytes& stream, std::uint64_t max_message_bytes = k64KiB) {
  return drive(stream, {}, max_message_bytes);
}

using Seen = std::vector<std::string>;

// ---- control frames ----

TEST(ClientFrameParser, ControlFramesAreUnmaskedInPlaceWithAnyMask) {
  for (const Mask& mask : {Mask{0, 0, 0, 0}, kSomeMask, Mask{0xFF, 0xFF, 0xFF, 0xFF}, Mask{1, 2, 3, 4}}) {
    for (const std::size_t size : {0, 1, 3, 4, 5, 124, 125}) {
      const std::string payload(size, 'p');
      Bytes bytes = frame(0x89, payload, mask);
      ClientFrameParser parser(k64KiB);
      const ClientFrame ping = parse(parser, bytes);
      ASSERT_EQ(ping.status, ClientFrame::Status::kControl) << size;
      EXPECT_EQ(ping.opcode, Opcode::kPing);
      EXPECT_EQ(ping.consumed, 6 + size);
      EXPECT_EQ(std::string(ping.payload.begin(), ping.payload.end()), payload);
    }
  }
  EXPECT_EQ(drive_whole(frame(0x8A, "pong") + frame(0x88, std::string("\x03\xe8", 2) + "bye")),
            (Seen{"pong 'pong'",
                  "close '\x03\xe8"
                  "bye'"}));
}

TEST(ClientFrameParser, AnIncompleteControlFrameIsNeitherConsumedNorUnmasked) {
  const Bytes whole = frame(0x89, std::string(125, 'x'));
  for (std::size_t size = 0; size < whole.size(); ++size) {
    Bytes part(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(size));
    const Bytes before = part;
    ClientFrameParser parser(k64KiB);
    const ClientFrame result = parse(parser, part);
    EXPECT_EQ(result.status, ClientFrame::Status::kNeedMore) << size;
    EXPECT_EQ(result.consumed, 0u);
    EXPECT_EQ(part, before) << "unmasked before it was whole, at " << size;
  }
}

TEST(ClientFrameParser, TheLargestControlFrameFitsTheSessionBuffer) {
  EXPECT_EQ(frame(0x89, std::string(125, 'x')).size(), kMaxClientControlFrameBytes);
  EXPECT_EQ(header(0x81, k64KiB).size(), kMaxClientDataHeaderBytes);
}

// ---- data frames: every header size ----

TEST(ClientFrameParser, DataFrameHeadersOfEveryLengthSizeAreReadAndTheirPayloadSkipped) {
  struct Case {
    std::uint64_t length;
    std::size_t header_size;
  };
  // 7-bit lengths (0..125), 16-bit (126..65535), 64-bit (65536).
  for (const Case item : {Case{0, 6}, Case{1, 6}, Case{125, 6}, Case{126, 8}, Case{127, 8}, Case{1000, 8},
                          Case{65535, 8}, Case{65536, 14}}) {
    for (const std::uint8_t first : {std::uint8_t{0x81}, std::uint8_t{0x82}}) {
      Bytes bytes = header(first, item.length) + Bytes(item.length, 0xAB);
      ClientFrameParser parser(k64KiB);
      const ClientFrame data = parse(parser, bytes);
      ASSERT_EQ(data.status, ClientFrame::Status::kDataHeader) << item.length;
      EXPECT_EQ(data.opcode, first == 0x81 ? Opcode::kText : Opcode::kBinary);
      EXPECT_TRUE(data.fin);
      EXPECT_EQ(data.payload_size, item.length);
      EXPECT_EQ(data.consumed, item.header_size) << item.length;
      EXPECT_EQ(parser.payload_left(), item.length);
      EXPECT_FALSE(parser.in_message());
      // The rest is payload: skipped whole (no unmasking: the bytes stay as they came), then nothing more.
      auto rest = std::span<std::uint8_t>(bytes).subspan(data.consumed);
      if (item.length != 0) {
        const ClientFrame skipped = parser.next(rest);
        ASSERT_EQ(skipped.status, ClientFrame::Status::kSkipped);
        EXPECT_EQ(skipped.consumed, item.length);
        EXPECT_TRUE(std::all_of(rest.begin(), rest.end(), [](std::uint8_t byte) { return byte == 0xAB; }));
      }
      EXPECT_EQ(parser.payload_left(), 0u);
      EXPECT_EQ(parser.next({}).status, ClientFrame::Status::kNeedMore);
    }
  }
}

TEST(ClientFrameParser, LongerLengthFormsThanNeededAreAcceptedAsBefore) {
  EXPECT_EQ(drive_whole(frame(0x81, "hi", kSomeMask, true, LengthForm::k16Bit) +
                        frame(0x82, "hi", kSomeMask, true, LengthForm::k64Bit) + frame(0x89, "after")),
            (Seen{"text fin 2", "skip 2", "binary fin 2", "skip 2", "ping 'after'"}));
}

TEST(ClientFrameParser, AnIncompleteDataHeaderConsumesNothing) {
  for (const std::uint64_t length : {5ull, 300ull, 65536ull}) {
    const Bytes whole = header(0x81, length);
    for (std::size_t size = 0; size < whole.size(); ++size) {
      Bytes part(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(size));
      ClientFrameParser parser(k64KiB);
      const ClientFrame result = parse(parser, part);
      EXPECT_EQ(result.status, ClientFrame::Status::kNeedMore) << length << " at " << size;
      EXPECT_EQ(result.consumed, 0u);
    }
  }
}

TEST(ClientFrameParser, ThePayloadIsSkippedAsItArrives) {
  ClientFrameParser parser(k64KiB);
  Bytes head = header(0x81, 10);
  ASSERT_EQ(parse(parser, head).status, ClientFrame::Status::kDataHeader);
  EXPECT_EQ(parser.next({}).status, ClientFrame::Status::kNeedMore) << "no payload yet";
  Bytes three(3, 'x');
  const ClientFrame first = parse(parser, three);
  EXPECT_EQ(first.status, ClientFrame::Status::kSkipped);
  EXPECT_EQ(first.consumed, 3u);
  EXPECT_EQ(parser.payload_left(), 7u);
  // The rest and the next frame together: only the rest is consumed as payload.
  Bytes rest = Bytes(7, 'x') + frame(0x89, "next");
  const ClientFrame second = parse(parser, rest);
  EXPECT_EQ(second.status, ClientFrame::Status::kSkipped);
  EXPECT_EQ(second.consumed, 7u);
  auto after = std::span<std::uint8_t>(rest).subspan(7);
  EXPECT_EQ(describe(parser.next(after)), "ping 'next'");
}

TEST(ClientFrameParser, TextIsNeitherUnmaskedNorCheckedForUtf8) {
  EXPECT_EQ(drive_whole(frame(0x81, std::string("\xff\xfe\xc0", 3)) + frame(0x89, "ok")),
            (Seen{"text fin 3", "skip 3", "ping 'ok'"}));
}

// ---- split across reads ----

// A heartbeat, a fragmented message with a ping between its frames, a 64 KiB binary frame, and a close:
// split into two reads at every byte, the session sees the same thing.
TEST(ClientFrameParser, AStreamSplitAtEveryByteGivesTheSameFrames) {
  const Bytes stream = frame(0x81, R"({"type":"ping"})") + frame(0x01, "frag") + frame(0x89, "between") +
                       frame(0x00, std::string(300, 'm')) + frame(0x80, "end") +
                       frame(0x82, std::string(k64KiB, 'b')) + frame(0x81, "") + frame(0x88, "");
  const Seen expected = {"text fin 15",    "skip 15",
                         "text more 4",    "skip 4",
                         "ping 'between'", "continuation more 300",
                         "skip 300",       "continuation fin 3",
                         "skip 3",         "binary fin 65536",
                         "skip 65536",     "text fin 0",
                         "close ''"};
  EXPECT_EQ(drive_whole(stream), expected);
  // Every split in the headers, the control frames and the small frames, and around the large payload's
  // edges; byte at a time through the start of it.
  const std::size_t large_payload_start = 6 + 15 + 6 + 4 + 6 + 7 + 8 + 300 + 6 + 3 + 14;
  for (std::size_t at = 1; at < stream.size(); ++at) {
    if (at > large_payload_start + 300 && at < stream.size() - 300) continue;
    ASSERT_EQ(drive(stream, {at}), expected) << "split at " << at;
  }
  std::vector<std::size_t> every_byte;
  for (std::size_t at = 1; at < large_payload_start + 200; ++at) every_byte.push_back(at);
  EXPECT_EQ(drive(stream, every_byte), expected);
  // Random reads, and a buffer as small as the largest control frame.
  std::mt19937 random(13);
  for (int round = 0; round < 50; ++round) {
    std::vector<std::size_t> splits;
    for (std::size_t at = 1 + random() % 200; at < stream.size(); at += 1 + random() % 400)
      splits.push_back(at);
    ASSERT_EQ(drive(stream, splits, k64KiB, kMaxClientControlFrameBytes), expected) << "round " << round;
  }
}

// ---- fragmentation ----

TEST(ClientFrameParser, FragmentedMessagesTrackTheirStartAndEnd) {
  ClientFrameParser parser(k64KiB);
  Bytes start = frame(0x02, "ab");
  EXPECT_EQ(describe(parse(parser, start)), "binary more 2");
  EXPECT_TRUE(parser.in_message());
  Bytes payload(2, 0);
  parse(parser, payload);
  Bytes middle = frame(0x00, "");
  EXPECT_EQ(describe(parse(parser, middle)), "continuation more 0");
  EXPECT_TRUE(parser.in_message());
  Bytes ping = frame(0x89, "");
  EXPECT_EQ(describe(parse(parser, ping)), "ping ''") << "control frames may come between fragments";
  EXPECT_TRUE(parser.in_message());
  Bytes end = frame(0x80, "");
  EXPECT_EQ(describe(parse(parser, end)), "continuation fin 0");
  EXPECT_FALSE(parser.in_message());
  Bytes next = frame(0x81, "");
  EXPECT_EQ(describe(parse(parser, next)), "text fin 0") << "a new message after the end";
}

TEST(ClientFrameParser, AContinuationWithoutAMessageIsAProtocolError) {
  EXPECT_EQ(drive_whole(frame(0x80, "rest")), (Seen{"error 1002"}));
  EXPECT_EQ(drive_whole(frame(0x00, "rest")), (Seen{"error 1002"}));
  // After a message ended, too.
  EXPECT_EQ(drive_whole(frame(0x01, "a") + frame(0x80, "b") + frame(0x80, "c")),
            (Seen{"text more 1", "skip 1", "continuation fin 1", "skip 1", "error 1002"}));
}

TEST(ClientFrameParser, ANewDataFrameInsideAFragmentedMessageIsAProtocolError) {
  for (const std::uint8_t first : {0x81, 0x01, 0x82, 0x02}) {
    EXPECT_EQ(drive_whole(frame(0x01, "a") + frame(first, "b")),
              (Seen{"text more 1", "skip 1", "error 1002"}))
        << int{first};
  }
}

// ---- the message bound ----

TEST(ClientFrameParser, AFrameOfExactlyTheBoundIsSkippedAndOneByteMoreIs1009FromItsHeader) {
  EXPECT_EQ(drive_whole(header(0x81, k64KiB) + Bytes(k64KiB, 'x') + frame(0x89, "")),
            (Seen{"text fin 65536", "skip 65536", "ping ''"}));
  // Refused from the length alone: before the mask, before any payload byte.
  for (const std::uint8_t first : {0x81, 0x82}) {
    Bytes over = header(first, k64KiB + 1);
    over.resize(10);
    ClientFrameParser parser(k64KiB);
    const ClientFrame refused = parse(parser, over);
    EXPECT_EQ(refused.status, ClientFrame::Status::kError);
    EXPECT_EQ(refused.close_code, close_code::kMessageTooBig);
  }
  // With 16-bit lengths, under a smaller bound.
  EXPECT_EQ(drive_whole(header(0x82, 1000) + Bytes(1000, 'x'), 1000), (Seen{"binary fin 1000", "skip 1000"}));
  Bytes over(header(0x82, 1001));
  over.resize(4);
  ClientFrameParser small(1000);
  EXPECT_EQ(describe(parse(small, over)), "error 1009");
  // The largest length a header can carry.
  Bytes huge = header(0x82, (1ull << 63) - 1);
  ClientFrameParser parser(k64KiB);
  EXPECT_EQ(describe(parse(parser, huge)), "error 1009");
}

TEST(ClientFrameParser, AFragmentedMessageIsBoundedByItsTotal) {
  // Exactly the bound over three frames, then another whole message of the bound: each total is its own.
  const std::string third(k64KiB / 4, 'x');
  const Bytes exact = frame(0x01, third) + frame(0x00, third + third) + frame(0x80, third);
  EXPECT_EQ(drive_whole(exact + exact),
            (Seen{"text more 16384", "skip 16384", "continuation more 32768", "skip 32768",
                  "continuation fin 16384", "skip 16384", "text more 16384", "skip 16384",
                  "continuation more 32768", "skip 32768", "continuation fin 16384", "skip 16384"}));
  // One byte more: refused at the header of the frame that passes the bound, final or not.
  EXPECT_EQ(drive_whole(frame(0x01, third) + frame(0x00, third + third) + frame(0x80, third + "x")),
            (Seen{"text more 16384", "skip 16384", "continuation more 32768", "skip 32768", "error 1009"}));
  EXPECT_EQ(drive_whole(frame(0x02, third + third + third + third) + frame(0x00, "x")),
            (Seen{"binary more 65536", "skip 65536", "error 1009"}));
  // Many small fragments add up.
  Bytes many = frame(0x01, "");
  for (int i = 0; i < 64; ++i) many = many + frame(0x00, std::string(1024, 'y'));
  many = many + frame(0x80, "z");
  const Seen seen = drive_whole(many);
  EXPECT_EQ(seen.back(), "error 1009");
  EXPECT_EQ(seen[seen.size() - 2], "skip 1024");
}

// ---- malformed headers ----

TEST(ClientFrameParser, MalformedHeadersAreProtocolErrorsFromTheirFirstBytes) {
  struct Case {
    const char* name;
    Bytes bytes;
  };
  std::vector<Case> cases = {
      {"unmasked ping", frame(0x89, "x", kSomeMask, false)},
      {"unmasked text", frame(0x81, "x", kSomeMask, false)},
      {"unmasked continuation", frame(0x01, "a") + frame(0x80, "x", kSomeMask, false)},
      {"RSV1", frame(0xC1, "x")},
      {"RSV2", frame(0xA1, "x")},
      {"RSV3", frame(0x91, "x")},
      {"RSV1 on a ping", frame(0xC9, "x")},
      {"fragmented ping", frame(0x09, "x")},
      {"fragmented pong", frame(0x0A, "x")},
      {"fragmented close", frame(0x08, "")},
      {"126-byte ping", frame(0x89, std::string(126, 'x'))},
      {"ping with a 16-bit length", frame(0x89, "x", kSomeMask, true, LengthForm::k16Bit)},
      {"64-bit length with the top bit", Bytes{0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0}},
  };
  for (std::uint8_t opcode : {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
    cases.push_back({"unknown opcode", frame(static_cast<std::uint8_t>(0x80 | opcode), "x")});
  }
  for (Case& item : cases) {
    const Seen seen = drive_whole(item.bytes);
    EXPECT_EQ(seen.back(), "error 1002") << item.name;
  }
  // From the first two bytes: no need for the length, the mask or the payload.
  for (const Bytes& first_two : {Bytes{0xC1, 0x85}, Bytes{0x83, 0x85}, Bytes{0x81, 0x05}, Bytes{0x80, 0x85},
                                 Bytes{0x09, 0x80}, Bytes{0x89, 0xFE}}) {
    Bytes bytes = first_two;
    ClientFrameParser parser(k64KiB);
    EXPECT_EQ(describe(parse(parser, bytes)), "error 1002") << int{first_two[0]} << " " << int{first_two[1]};
  }
}

TEST(ClientFrameParser, AfterAnErrorTheParserKeepsRefusing) {
  ClientFrameParser parser(k64KiB);
  Bytes bad = frame(0x81, "x", kSomeMask, false);
  const ClientFrame first = parse(parser, bad);
  ASSERT_EQ(first.status, ClientFrame::Status::kError);
  Bytes good = frame(0x89, "fine");
  const ClientFrame again = parse(parser, good);
  EXPECT_EQ(again.status, ClientFrame::Status::kError);
  EXPECT_EQ(again.close_code, first.close_code);
  EXPECT_EQ(again.reason, first.reason);
}

TEST(ClientFrameParser, RandomBytesNeverCrashOrOverrun) {
  std::mt19937 random(20200112);
  for (int round = 0; round < 2000; ++round) {
    Bytes garbage(1 + random() % 300);
    for (auto& byte : garbage) byte = static_cast<std::uint8_t>(random());
    std::vector<std::size_t> splits;
    for (std::size_t at = 1 + random() % 20; at < garbage.size(); at += 1 + random() % 50)
      splits.push_back(at);
    const Seen seen = drive(garbage, splits, 1 + random() % 1000);
    ASSERT_FALSE(seen.empty() ? false : seen.back().starts_with("stuck")) << round;
  }
}

// ---- close frame payloads ----

TEST(ClientCloseCode, CodesAPeerMaySendAreAcceptedOthersAreNot) {
  const auto code = [](std::initializer_list<std::uint8_t> bytes) {
    const Bytes payload(bytes);
    return client_close_code(payload);
  };
  EXPECT_EQ(code({}), 0);
  EXPECT_EQ(code({0x03}), -1);
  EXPECT_EQ(code({0x03, 0xE8}), 1000);
  EXPECT_EQ(code({0x03, 0xE8, 'o', 'k'}), 1000);
  EXPECT_EQ(code({0x03, 0xEB}), 1003);
  EXPECT_EQ(code({0x03, 0xEC}), -1);  // 1004
  EXPECT_EQ(code({0x03, 0xED}), -1);  // 1005: never on the wire
  EXPECT_EQ(code({0x03, 0xEE}), -1);  // 1006: never on the wire
  EXPECT_EQ(code({0x03, 0xF6}), 1014);
  EXPECT_EQ(code({0x03, 0xF7}), -1);  // 1015
  EXPECT_EQ(code({0x0B, 0xB8}), 3000);
  EXPECT_EQ(code({0x13, 0x87}), 4999);
  EXPECT_EQ(code({0x13, 0x88}), -1);  // 5000
}

}  // namespace
}  // namespace ovalstream::hub
