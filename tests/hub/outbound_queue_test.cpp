// OutboundQueue, the rules of a websocket's send queue on their own (no socket): the bound and what is
// refused at it, pong replacement, the rest of a partial write going first, where the close frame goes,
// what a close or a teardown drops, the single writer, and the memory accounting back to zero.

#include <gtest/gtest.h>

#include <algorithm>
#include <span>
#include <string>
#include <vector>

#include "outbound_queue.hpp"

namespace ovalstream::hub {
namespace {

using Offer = OutboundQueue::Offer;

Frame text(std::size_t size, char fill = 'x') {
  return make_text_frame(std::make_shared<const std::string>(size, fill));
}

Frame pong(std::size_t size) {
  return make_frame(Opcode::kPong, std::make_shared<const std::string>(size, 'p'));
}

// The bytes `frames` put on the wire.
std::string wire(std::span<const Frame> frames) {
  std::string bytes;
  for (const Frame& frame : frames) {
    bytes.append(reinterpret_cast<const char*>(frame.header.data()), frame.header_size);
    if (frame.payload) bytes.append(*frame.payload);
  }
  return bytes;
}

std::size_t memory(std::span<const Frame> frames) {
  std::size_t bytes = 0;
  for (const Frame& frame : frames) bytes += queued_memory_bytes(frame);
  return bytes;
}
std::size_t memory(const Frame& frame) {
  return queued_memory_bytes(frame);
}

constexpr std::size_t kLargeBound = std::size_t{1} << 30;

// Offers `frames` with the writer held (so never inline): the common case of a busy connection.
Offer queue_busy(OutboundQueue& queue, std::span<const Frame> frames, bool is_pong = false) {
  queue.claim_writer();
  return queue.offer(OutboundBatch(frames), is_pong, false);
}
Offer queue_busy(OutboundQueue& queue, const Frame& frame, bool is_pong = false) {
  return queue_busy(queue, std::span<const Frame>(&frame, 1), is_pong);
}

TEST(OutboundQueue, ABatchSumsItsWireAndMemoryBytes) {
  const std::vector<Frame> frames{text(3), text(300), Frame{}};
  const OutboundBatch batch(frames);
  EXPECT_EQ(batch.frames.size(), 3u);
  EXPECT_EQ(batch.wire_bytes, 5u + 304u + 0u);
  EXPECT_EQ(batch.memory_bytes, memory(frames));
}

TEST(OutboundQueue, MemoryCountsTheFrameItsBuffersAndItsPayload) {
  const Frame no_payload{};
  EXPECT_EQ(queued_memory_bytes(no_payload), sizeof(Frame) + 2 * kGatherBufferBytes);
  const Frame large = text(1 << 20);
  EXPECT_GE(queued_memory_bytes(large), queued_memory_bytes(no_payload) + (1u << 20));
}

TEST(OutboundQueue, AnEmptyBatchChangesNothing) {
  OutboundQueue queue(kLargeBound);
  EXPECT_EQ(queue.offer(OutboundBatch(std::span<const Frame>()), false, true), Offer::kQueued);
  EXPECT_FALSE(queue.has_pending());
  EXPECT_EQ(queue.memory_bytes(), 0u);
  EXPECT_FALSE(queue.writer_claimed());
}

TEST(OutboundQueue, FramesWaitInOrderAndAreCounted) {
  OutboundQueue queue(kLargeBound);
  const std::vector<Frame> first{text(10, 'a'), text(20, 'b')};
  const Frame second = text(30, 'c');
  EXPECT_EQ(queue_busy(queue, first), Offer::kQueued);
  EXPECT_EQ(queue_busy(queue, second), Offer::kQueued);
  ASSERT_EQ(queue.pending_frames(), 3u);
  EXPECT_EQ(queue.pending()[0].payload, first[0].payload) << "the payload is shared, not copied";
  EXPECT_EQ(queue.pending()[2].payload, second.payload);
  EXPECT_EQ(queue.memory_bytes(), memory(first) + memory(second));
}

TEST(OutboundQueue, AnInlineWriteIsOfferedOnlyWhenNothingWaitsAndNobodyWrites) {
  const Frame frame = text(10);
  const OutboundBatch batch(std::span<const Frame>(&frame, 1));
  {
    OutboundQueue idle(kLargeBound);
    EXPECT_EQ(idle.offer(batch, false, true), Offer::kWriteInline);
    EXPECT_FALSE(idle.has_pending()) << "the caller writes it";
    EXPECT_EQ(idle.memory_bytes(), 0u);
    EXPECT_EQ(idle.offer(batch, false, false), Offer::kQueued) << "the caller cannot write inline";
  }
  {
    OutboundQueue writing(kLargeBound);
    ASSERT_TRUE(writing.claim_writer());
    EXPECT_EQ(writing.offer(batch, false, true), Offer::kQueued);
  }
  {
    OutboundQueue waiting(kLargeBound);
    EXPECT_EQ(waiting.offer(batch, false, false), Offer::kQueued);
    EXPECT_EQ(waiting.offer(batch, false, true), Offer::kQueued) << "it would overtake what waits";
    EXPECT_EQ(waiting.pending_frames(), 2u);
  }
}

TEST(OutboundQueue, TheBoundIsInclusiveAndABatchOverItIsRefusedWholeUnchanged) {
  const Frame a = text(100, 'a'), b = text(200, 'b');
  const std::vector<Frame> two{a, b};
  OutboundQueue queue(memory(a) + memory(b));
  EXPECT_EQ(queue_busy(queue, a), Offer::kQueued);
  EXPECT_EQ(queue_busy(queue, b), Offer::kQueued) << "exactly at the bound";
  EXPECT_EQ(queue.memory_bytes(), queue.bound_bytes());

  const Frame one_more = Frame{};
  EXPECT_EQ(queue_busy(queue, one_more), Offer::kOverBound);
  EXPECT_EQ(queue.pending_frames(), 2u) << "nothing of a refused batch is queued";
  EXPECT_EQ(queue.memory_bytes(), memory(two));

  OutboundQueue fresh(memory(two) - 1);
  EXPECT_EQ(queue_busy(fresh, two), Offer::kOverBound) << "refused whole, not in part";
  EXPECT_FALSE(fresh.has_pending());
  EXPECT_EQ(fresh.memory_bytes(), 0u);
}

TEST(OutboundQueue, TheBoundComesBeforeAnInlineWrite) {
  const Frame frame = text(10);
  OutboundQueue queue(memory(frame) - 1);
  EXPECT_EQ(queue.offer(OutboundBatch(std::span<const Frame>(&frame, 1)), false, true), Offer::kOverBound);
}

TEST(OutboundQueue, TheBoundCountsTheWriteInFlight) {
  const Frame a = text(100, 'a');
  OutboundQueue queue(2 * memory(a));
  ASSERT_EQ(queue_busy(queue, a), Offer::kQueued);
  std::vector<Frame> in_flight;
  EXPECT_FALSE(queue.take(in_flight));
  EXPECT_EQ(queue.memory_bytes(), memory(a)) << "taken, still counted";
  EXPECT_EQ(queue_busy(queue, a), Offer::kQueued);
  EXPECT_EQ(queue_busy(queue, a), Offer::kOverBound);
  queue.write_finished();
  EXPECT_EQ(queue.memory_bytes(), memory(a));
  EXPECT_EQ(queue_busy(queue, a), Offer::kQueued);
}

TEST(OutboundQueue, AtTheBoundTheCloseFrameGoesRightBehindTheWriteInFlight) {
  const Frame a = text(100, 'a'), b = text(100, 'b');
  OutboundQueue queue(memory(a) + memory(b));
  ASSERT_EQ(queue_busy(queue, a), Offer::kQueued);
  std::vector<Frame> in_flight;
  ASSERT_FALSE(queue.take(in_flight));
  ASSERT_EQ(queue_busy(queue, b), Offer::kQueued);
  ASSERT_EQ(queue_busy(queue, b), Offer::kOverBound);

  const Frame close_frame = make_close_frame(1008, "slow consumer");
  queue.close(close_frame, true);
  ASSERT_EQ(queue.pending_frames(), 1u) << "what waited is dropped";
  EXPECT_EQ(wire(queue.pending()), wire(std::span<const Frame>(&close_frame, 1)));
  EXPECT_TRUE(queue.close_queued());
  EXPECT_EQ(queue.memory_bytes(), memory(a) + memory(close_frame)) << "the write in flight and the close";
  EXPECT_EQ(queue_busy(queue, b), Offer::kClosed);

  queue.write_finished();
  in_flight.clear();
  EXPECT_TRUE(queue.take(in_flight)) << "the close frame is taken";
  EXPECT_FALSE(queue.close_queued());
  queue.write_finished();
  EXPECT_EQ(queue.memory_bytes(), 0u);
}

TEST(OutboundQueue, AServerCloseGoesBehindWhatWaitsAndNothingFollowsIt) {
  const std::vector<Frame> frames{text(10, 'a'), text(20, 'b')};
  OutboundQueue queue(kLargeBound);
  ASSERT_EQ(queue_busy(queue, frames), Offer::kQueued);
  const Frame close_frame = make_close_frame(1000, "bye");
  queue.close(close_frame, false);
  ASSERT_EQ(queue.pending_frames(), 3u);
  EXPECT_EQ(queue.pending()[2].payload, close_frame.payload);
  EXPECT_EQ(queue.memory_bytes(), memory(frames) + memory(close_frame));
  EXPECT_EQ(queue_busy(queue, frames), Offer::kClosed);
  EXPECT_EQ(queue_busy(queue, pong(1), true), Offer::kClosed);
  EXPECT_EQ(queue.pending_frames(), 3u);

  std::vector<Frame> in_flight;
  EXPECT_TRUE(queue.take(in_flight));
  EXPECT_EQ(in_flight.size(), 3u);
  EXPECT_EQ(queue_busy(queue, frames), Offer::kClosed) << "also once the close frame is written";
}

TEST(OutboundQueue, APongReplacesTheWaitingPong) {
  OutboundQueue queue(kLargeBound);
  const Frame first = pong(1), event = text(50), second = pong(100);
  ASSERT_EQ(queue_busy(queue, first, true), Offer::kQueued);
  ASSERT_EQ(queue_busy(queue, event), Offer::kQueued);
  EXPECT_TRUE(queue.has_pong());
  EXPECT_EQ(queue_busy(queue, second, true), Offer::kPongReplaced);
  ASSERT_EQ(queue.pending_frames(), 2u) << "one pong waits, in the first one's place";
  EXPECT_EQ(queue.pending()[0].payload, second.payload);
  EXPECT_EQ(queue.pending()[1].payload, event.payload);
  EXPECT_EQ(queue.memory_bytes(), memory(second) + memory(event));
  EXPECT_EQ(queue_busy(queue, text(1)), Offer::kQueued) << "other frames still queue behind";
}

TEST(OutboundQueue, AReplacingPongIsNotCheckedAgainstTheBound) {
  const Frame small = pong(1), large = pong(125);
  OutboundQueue queue(memory(small));
  ASSERT_EQ(queue_busy(queue, small, true), Offer::kQueued);
  EXPECT_EQ(queue_busy(queue, large, true), Offer::kPongReplaced);
  EXPECT_GT(queue.memory_bytes(), queue.bound_bytes());
}

TEST(OutboundQueue, APongAfterAWriteTookTheLastOneQueuesItsOwn) {
  OutboundQueue queue(kLargeBound);
  ASSERT_EQ(queue_busy(queue, pong(1), true), Offer::kQueued);
  std::vector<Frame> in_flight;
  queue.take(in_flight);
  EXPECT_FALSE(queue.has_pong());
  EXPECT_EQ(queue_busy(queue, pong(2), true), Offer::kQueued);
  EXPECT_TRUE(queue.has_pong());
  EXPECT_EQ(queue.pending_frames(), 1u);
}

TEST(OutboundQueue, AFirstPongOverTheBoundIsRefused) {
  const Frame frame = pong(10);
  OutboundQueue queue(memory(frame) - 1);
  EXPECT_EQ(queue_busy(queue, frame, true), Offer::kOverBound);
  EXPECT_FALSE(queue.has_pong());
}

TEST(OutboundQueue, TheRestOfAFramePartlyWrittenGoesFirst) {
  const std::vector<Frame> frames{text(10, 'a'), text(300, 'b'), text(20, 'c')};
  const std::size_t written = frames[0].size() + 7;  // into b's payload (its header is 4 bytes)
  OutboundQueue queue(kLargeBound);
  queue.push_unwritten(frames, written);
  ASSERT_EQ(queue.pending_frames(), 2u);
  EXPECT_TRUE(queue.starts_with_rest());
  EXPECT_EQ(wire(queue.pending()), wire(frames).substr(written)) << "exactly the bytes not yet written";
  EXPECT_EQ(queue.pending()[0].header_size, 0u) << "the rest has no header of its own";
  EXPECT_EQ(queue.pending()[1].payload, frames[2].payload) << "whole frames stay shared";
  EXPECT_EQ(queue.memory_bytes(), memory(queue.pending()));
}

TEST(OutboundQueue, TheRestKeepsItsFrameCountAndPublishTime) {
  Frame block = make_frame_block(std::vector<Frame>{text(10), text(10), text(10)});
  block.published_ns = 1234;
  OutboundQueue queue(kLargeBound);
  queue.push_unwritten(std::span<const Frame>(&block, 1), 5);
  ASSERT_EQ(queue.pending_frames(), 1u);
  EXPECT_EQ(queue.pending()[0].frame_count, 3u) << "counted as written once its last byte is";
  EXPECT_EQ(queue.pending()[0].published_ns, 1234);
  EXPECT_EQ(wire(queue.pending()), wire(std::span<const Frame>(&block, 1)).substr(5));
}

TEST(OutboundQueue, AWriteEndingInsideAHeaderLeavesTheRestOfTheHeaderAndThePayload) {
  const std::vector<Frame> frames{text(200, 'h'), pong(0)};
  OutboundQueue queue(kLargeBound);
  queue.push_unwritten(frames, 1);
  ASSERT_EQ(queue.pending_frames(), 2u);
  EXPECT_EQ(wire(queue.pending()), wire(frames).substr(1));
  EXPECT_TRUE(queue.starts_with_rest());

  OutboundQueue header_only(kLargeBound);
  const Frame empty_pong = pong(0);  // 2 header bytes, an empty payload
  header_only.push_unwritten(std::span<const Frame>(&empty_pong, 1), 1);
  ASSERT_EQ(header_only.pending_frames(), 1u);
  EXPECT_EQ(wire(header_only.pending()), wire(std::span<const Frame>(&empty_pong, 1)).substr(1));
}

TEST(OutboundQueue, AWriteEndingOnAFrameBoundaryLeavesNoRest) {
  const std::vector<Frame> frames{text(10, 'a'), text(20, 'b')};
  OutboundQueue queue(kLargeBound);
  queue.push_unwritten(frames, frames[0].size());
  ASSERT_EQ(queue.pending_frames(), 1u);
  EXPECT_FALSE(queue.starts_with_rest());
  EXPECT_EQ(queue.pending()[0].payload, frames[1].payload);

  OutboundQueue nothing_written(kLargeBound);
  nothing_written.push_unwritten(frames, 0);
  ASSERT_EQ(nothing_written.pending_frames(), 2u);
  EXPECT_FALSE(nothing_written.starts_with_rest());
  EXPECT_EQ(nothing_written.memory_bytes(), memory(frames));

  OutboundQueue all_written(kLargeBound);
  all_written.push_unwritten(frames, wire(frames).size());
  EXPECT_FALSE(all_written.has_pending());
  EXPECT_EQ(all_written.memory_bytes(), 0u);
}

TEST(OutboundQueue, ACloseThatDropsWhatWaitsKeepsTheRest) {
  const std::vector<Frame> frames{text(300, 'a'), text(20, 'b')};
  OutboundQueue queue(kLargeBound);
  queue.push_unwritten(frames, 50);
  ASSERT_TRUE(queue.claim_writer());
  ASSERT_EQ(queue.offer(OutboundBatch(frames), false, false), Offer::kQueued);
  ASSERT_EQ(queue.offer(OutboundBatch(std::span<const Frame>()), false, false), Offer::kQueued);
  const Frame rest = queue.pending()[0];

  const Frame close_frame = make_close_frame(1002, "protocol error");
  queue.close(close_frame, true);
  ASSERT_EQ(queue.pending_frames(), 2u);
  EXPECT_EQ(queue.pending()[0].payload, rest.payload) << "the frame stream would break without it";
  EXPECT_EQ(queue.pending()[1].payload, close_frame.payload);
  EXPECT_EQ(queue.memory_bytes(), memory(rest) + memory(close_frame));
}

TEST(OutboundQueue, ACloseThatDropsWhatWaitsDropsTheWaitingPong) {
  OutboundQueue queue(kLargeBound);
  ASSERT_EQ(queue_busy(queue, text(10)), Offer::kQueued);
  ASSERT_EQ(queue_busy(queue, pong(3), true), Offer::kQueued);
  queue.close(make_close_frame(1001, ""), true);
  EXPECT_FALSE(queue.has_pong());
  EXPECT_EQ(queue.pending_frames(), 1u);
}

TEST(OutboundQueue, TakingMovesEverythingWaitingAndClearsTheRestMark) {
  const std::vector<Frame> frames{text(300, 'a'), text(20, 'b')};
  OutboundQueue queue(kLargeBound);
  queue.push_unwritten(frames, 50);
  std::vector<Frame> in_flight;
  EXPECT_FALSE(queue.take(in_flight));
  EXPECT_EQ(in_flight.size(), 2u);
  EXPECT_FALSE(queue.has_pending());
  EXPECT_FALSE(queue.starts_with_rest());
  queue.write_finished();
  EXPECT_EQ(queue.memory_bytes(), 0u);
}

TEST(OutboundQueue, DiscardDropsWhatWaitsAndCountsTheWriteInFlightUntilItEnds) {
  const Frame a = text(100, 'a');
  OutboundQueue queue(kLargeBound);
  ASSERT_EQ(queue_busy(queue, a), Offer::kQueued);
  std::vector<Frame> in_flight;
  queue.take(in_flight);
  ASSERT_EQ(queue_busy(queue, std::vector<Frame>{text(1), text(2)}), Offer::kQueued);
  queue.close(make_close_frame(1000, ""), false);
  queue.discard();
  EXPECT_FALSE(queue.has_pending());
  EXPECT_FALSE(queue.close_queued());
  EXPECT_EQ(queue.memory_bytes(), memory(a));
  EXPECT_EQ(queue_busy(queue, a), Offer::kClosed);
  queue.write_finished();
  EXPECT_EQ(queue.memory_bytes(), 0u);
}

TEST(OutboundQueue, OneWriterAtATime) {
  OutboundQueue queue(kLargeBound);
  EXPECT_TRUE(queue.claim_writer());
  EXPECT_FALSE(queue.claim_writer());
  EXPECT_TRUE(queue.writer_claimed());
  queue.release_writer();
  EXPECT_FALSE(queue.writer_claimed());
  EXPECT_TRUE(queue.claim_writer());
}

TEST(OutboundQueue, AnUnboundedPushIgnoresTheBound) {
  const Frame response = text(500);
  OutboundQueue queue(0);
  queue.push_unbounded(response);
  EXPECT_EQ(queue.pending_frames(), 1u);
  EXPECT_EQ(queue.memory_bytes(), memory(response));
  EXPECT_EQ(queue_busy(queue, text(1)), Offer::kOverBound);
}

TEST(OutboundQueue, HalfFullAtHalfTheBound) {
  const Frame a = text(100);
  OutboundQueue at_half(2 * memory(a));
  ASSERT_EQ(queue_busy(at_half, a), Offer::kQueued);
  EXPECT_TRUE(at_half.half_full());
  OutboundQueue under_half(2 * memory(a) + 2);
  ASSERT_EQ(queue_busy(under_half, a), Offer::kQueued);
  EXPECT_FALSE(under_half.half_full());
}

TEST(OutboundQueue, ZeroLengthFramesCostMemoryAndNothingOnTheWire) {
  const Frame empty{};  // no header, no payload
  const Frame empty_text = text(0);
  OutboundQueue queue(kLargeBound);
  ASSERT_EQ(queue_busy(queue, std::vector<Frame>{empty, empty_text}), Offer::kQueued);
  EXPECT_EQ(queue.memory_bytes(), memory(empty) + memory(empty_text));
  EXPECT_EQ(wire(queue.pending()).size(), 2u);

  // A write of 0 bytes carried the frame of 0 bytes: only what has bytes left waits.
  OutboundQueue after_write(kLargeBound);
  after_write.push_unwritten(std::vector<Frame>{empty, empty_text}, 0);
  ASSERT_EQ(after_write.pending_frames(), 1u);
  EXPECT_EQ(after_write.pending()[0].payload, empty_text.payload);
}

TEST(OutboundQueue, ALargeFrameWrittenInPartLeavesOneCopyOfItsRest) {
  const Frame large = text(4 << 20, 'L');
  const std::size_t written = 1'000'000;
  OutboundQueue queue(kLargeBound);
  queue.push_unwritten(std::span<const Frame>(&large, 1), written);
  ASSERT_EQ(queue.pending_frames(), 1u);
  ASSERT_TRUE(queue.pending()[0].payload);
  EXPECT_EQ(queue.pending()[0].payload->size(), large.size() - written);
  EXPECT_EQ(queue.pending()[0].payload->capacity(), large.size() - written) << "reserved once";
  EXPECT_EQ(queue.memory_bytes(), memory(queue.pending()[0]));
}

TEST(OutboundQueue, ManySmallFramesKeepTheirOrderAndTheAccountingReturnsToZero) {
  OutboundQueue queue(kLargeBound);
  std::vector<Frame> in_flight;
  std::vector<Frame> frames;
  for (int i = 0; i < 10'000; ++i) frames.push_back(text(1 + i % 17, static_cast<char>('a' + i % 26)));
  for (std::size_t i = 0; i < frames.size(); i += 3) {
    const std::size_t count = std::min<std::size_t>(3, frames.size() - i);
    ASSERT_EQ(queue_busy(queue, std::span<const Frame>(frames).subspan(i, count)), Offer::kQueued);
  }
  EXPECT_EQ(queue.pending_frames(), frames.size());
  EXPECT_EQ(queue.memory_bytes(), memory(frames));
  EXPECT_EQ(wire(queue.pending()), wire(frames));
  in_flight.clear();
  queue.take(in_flight);
  EXPECT_EQ(wire(in_flight), wire(frames));
  queue.write_finished();
  EXPECT_EQ(queue.memory_bytes(), 0u);
}

TEST(OutboundQueue, TheAccountingReturnsToZeroThroughEveryPath) {
  OutboundQueue queue(kLargeBound);
  std::vector<Frame> in_flight;
  const std::vector<Frame> frames{text(500, 'a'), text(30, 'b')};
  queue.push_unwritten(frames, 100);                            // a rest
  ASSERT_EQ(queue_busy(queue, pong(4), true), Offer::kQueued);  // a pong
  ASSERT_EQ(queue_busy(queue, pong(9), true), Offer::kPongReplaced);
  ASSERT_EQ(queue_busy(queue, frames), Offer::kQueued);
  queue.take(in_flight);
  ASSERT_EQ(queue_busy(queue, frames), Offer::kQueued);
  queue.close(make_close_frame(1008, "slow consumer"), true);  // drops what waits, during a write
  queue.write_finished();
  in_flight.clear();
  EXPECT_TRUE(queue.take(in_flight));
  queue.write_finished();
  EXPECT_EQ(queue.memory_bytes(), 0u);
  EXPECT_FALSE(queue.has_pending());
}

TEST(OutboundQueue, IdleCapacityIsShedOnlyWhenDrained) {
  OutboundQueue queue(kLargeBound);
  std::vector<Frame> frames(40, text(1));
  ASSERT_EQ(queue_busy(queue, frames), Offer::kQueued);
  EXPECT_TRUE(queue.shed_idle_capacity().empty());
  EXPECT_EQ(queue.pending_frames(), 40u) << "nothing waiting is ever shed";

  std::vector<Frame> in_flight;
  queue.take(in_flight);  // the queue now holds in_flight's former (empty) buffer
  queue.write_finished();
  in_flight.clear();  // keeps its capacity, as the session's in-flight buffer does
  ASSERT_EQ(queue_busy(queue, text(1)), Offer::kQueued);
  queue.take(in_flight);  // the queue takes in_flight's capacity for 40 frames
  queue.write_finished();
  ASSERT_FALSE(queue.has_pending());
  const std::vector<Frame> shed = queue.shed_idle_capacity();
  EXPECT_GE(shed.capacity(), 40u);
  EXPECT_TRUE(queue.shed_idle_capacity().empty());
  EXPECT_EQ(queue.shed_idle_capacity().capacity(), 0u) << "nothing left above the idle capacity";
}

TEST(OutboundQueue, FullyWrittenFramesCountsWholeFramesOnly) {
  const std::vector<Frame> frames{text(3), text(5), Frame{}, text(1)};  // 5, 7, 0 and 3 bytes
  EXPECT_EQ(fully_written_frames(frames, 0), 0u);
  EXPECT_EQ(fully_written_frames(frames, 4), 0u);
  EXPECT_EQ(fully_written_frames(frames, 5), 1u);
  EXPECT_EQ(fully_written_frames(frames, 11), 1u);
  EXPECT_EQ(fully_written_frames(frames, 12), 3u) << "the empty frame ends with the one before";
  EXPECT_EQ(fully_written_frames(frames, 14), 3u);
  EXPECT_EQ(fully_written_frames(frames, 15), 4u);
  EXPECT_EQ(fully_written_frames(frames, 1000), 4u);
  EXPECT_EQ(fully_written_frames({}, 10), 0u);
}

}  // namespace
}  // namespace ovalstream::hub
