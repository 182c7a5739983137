// Frame encoding: the header is exact for every length class, payloads are shared, close frames are
// code + reason within the control-frame limit.

#include <gtest/gtest.h>

#include <vector>

#include "ovalstream/hub/frame.hpp"

namespace ovalstream::hub {
namespace {

std::vector<std::uint8_t> header_of(const Frame& frame) {
  return std::vector<std::uint8_t>(frame.header.begin(), frame.header.begin() + frame.header_size);
}

Payload bytes(std::size_t size) {
  return std::make_shared<const std::string>(size, 'x');
}

TEST(FrameEncoding, EmptyPayloadHasTwoByteHeader) {
  const Frame frame = make_text_frame(bytes(0));
  EXPECT_EQ(header_of(frame), (std::vector<std::uint8_t>{0x81, 0x00}));
  EXPECT_EQ(frame.size(), 2u);
}

TEST(FrameEncoding, ABlockIsItsFramesEncodedBackToBack) {
  const std::vector<Frame> frames{make_text_frame(bytes(3)), make_text_frame(bytes(200)),
                                  make_frame(Opcode::kPing, nullptr)};
  const Frame block = make_frame_block(frames);
  std::string expected;
  for (const Frame& frame : frames) {
    expected.append(reinterpret_cast<const char*>(frame.header.data()), frame.header_size);
    if (frame.payload) expected.append(*frame.payload);
  }
  ASSERT_TRUE(block.payload);
  EXPECT_EQ(*block.payload, expected);
  EXPECT_EQ(block.header_size, 0u);
  EXPECT_EQ(block.frame_count, 3u);
  EXPECT_EQ(block.size(), 5u + 204u + 2u);
}

TEST(FrameEncoding, ABlockCarriesTheOldestKnownPublishTime) {
  const std::vector<Frame> frames{make_text_frame(bytes(3), 300), make_text_frame(bytes(3)),
                                  make_text_frame(bytes(3), 200), make_text_frame(bytes(3), 400)};
  EXPECT_EQ(make_frame_block(frames).published_ns, 200);
  EXPECT_EQ(make_frame_block(std::span<const Frame>(frames).subspan(1, 1)).published_ns, 0);
}

TEST(FrameEncoding, NullPayloadIsEmpty) {
  const Frame frame = make_frame(Opcode::kPing, nullptr);
  EXPECT_EQ(header_of(frame), (std::vector<std::uint8_t>{0x89, 0x00}));
  EXPECT_EQ(frame.size(), 2u);
}

TEST(FrameEncoding, Length125UsesSevenBitLength) {
  const Frame frame = make_text_frame(bytes(125));
  EXPECT_EQ(header_of(frame), (std::vector<std::uint8_t>{0x81, 125}));
  EXPECT_EQ(frame.size(), 127u);
}

TEST(FrameEncoding, Length126UsesSixteenBitLength) {
  const Frame frame = make_text_frame(bytes(126));
  EXPECT_EQ(header_of(frame), (std::vector<std::uint8_t>{0x81, 126, 0x00, 0x7E}));
  EXPECT_EQ(frame.size(), 130u);
}

TEST(FrameEncoding, Length65535UsesSixteenBitLength) {
  const Frame frame = make_text_frame(bytes(65535));
  EXPECT_EQ(header_of(frame), (std::vector<std::uint8_t>{0x81, 126, 0xFF, 0xFF}));
  EXPECT_EQ(frame.size(), 65539u);
}

TEST(FrameEncoding, Length65536UsesSixtyFourBitLength) {
  const Frame frame = make_text_frame(bytes(65536));
  EXPECT_EQ(header_of(frame), (std::vector<std::uint8_t>{0x81, 127, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00}));
  EXPECT_EQ(frame.size(), 65546u);
}

TEST(FrameEncoding, BinaryAndControlOpcodesAreFinal) {
  EXPECT_EQ(make_frame(Opcode::kBinary, bytes(1)).header[0], 0x82);
  EXPECT_EQ(make_frame(Opcode::kPong, bytes(1)).header[0], 0x8A);
  EXPECT_EQ(make_frame(Opcode::kClose, bytes(2)).header[0], 0x88);
}

TEST(FrameEncoding, PayloadIsSharedNotCopied) {
  const Payload payload = bytes(1000);
  const Frame frame = make_text_frame(payload, 42);
  const Frame copy = frame;
  EXPECT_EQ(frame.payload.get(), payload.get());
  EXPECT_EQ(copy.payload.get(), payload.get());
  EXPECT_EQ(frame.published_ns, 42);
}

TEST(FrameEncoding, CloseFrameIsCodeThenReason) {
  const Frame frame = make_close_frame(close_code::kGoingAway, "bye");
  EXPECT_EQ(header_of(frame), (std::vector<std::uint8_t>{0x88, 5}));
  EXPECT_EQ(*frame.payload, std::string("\x03\xE9"
                                        "bye",
                                        5));
}

TEST(FrameEncoding, CloseReasonIsTruncatedToControlFrameLimitOnUtf8Boundary) {
  std::string reason(122, 'a');
  reason += "\xC3\xB8\xC3\xB8";  // "øø": the first one straddles byte 123
  const Frame frame = make_close_frame(close_code::kNormal, reason);
  ASSERT_LE(frame.payload->size(), 125u);
  EXPECT_EQ(frame.payload->size(), 2u + 122u);  // the split character is dropped whole
  EXPECT_EQ(frame.header[1], frame.payload->size());
}

}  // namespace
}  // namespace ovalstream::hub
