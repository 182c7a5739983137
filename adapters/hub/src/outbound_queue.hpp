#pragma once
// The frames waiting to be written to one websocket, and the rules of that queue. A pure class (no socket,
// no thread, no clock), tested on its own (tests/hub/outbound_queue_test.cpp): WebSocketSession calls it
// under its mutex and does the I/O.
// - Bound: the memory held (queued_memory_bytes of what waits plus what is being written) never passes
//   `bound_bytes`. A batch that would pass it is refused whole (kOverBound) and the owner closes the
//   connection ("slow consumer", counted by the owner's observer): what is in flight cannot be cut short,
//   so close() with drop_pending puts the close frame right behind it, dropping whatever waits.
// - Pongs: at most one pong waits; a later one takes its place (RFC 6455 section 5.5.3: answering the
//   latest ping is enough), so a ping flood costs one queued frame, exempt from the bound.
// - Partial rest: after a write that took only part of a frame, the rest of that frame waits first and is
//   written before anything else, even when the queue is dropped for a close (the frame stream would break
//   without it).
// - Close: the close frame goes behind what waits (a server close) or, with drop_pending, behind the
//   partial rest alone; nothing is accepted after it.
// - One writer: claim_writer() is true for whoever must start the next write; an inline write (the caller
//   writes a batch at once, from its own thread) is offered only while nobody writes and nothing waits.
// - Accounting: memory_bytes() goes back to zero once everything taken is written and nothing waits.
// Thread safety: none; the owner serializes every call.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "ovalstream/hub/frame.hpp"

namespace ovalstream::hub {

// One gather buffer of a write: a pointer and a length (an iovec, an asio const_buffer).
inline constexpr std::size_t kGatherBufferBytes = sizeof(const void*) + sizeof(std::size_t);

// What a queued frame costs in memory, which the queue bound counts (not its bytes on the wire: an empty
// pong is 2 bytes on the wire and about a hundred in memory).
std::size_t queued_memory_bytes(const Frame& frame) noexcept;

// How many of `frames`, from the first, a write of `written` bytes carried whole.
std::size_t fully_written_frames(std::span<const Frame> frames, std::size_t written) noexcept;

// Frames to send with their sums, computed before any lock is taken. Views `frames`, which must outlive it.
struct OutboundBatch {
  explicit OutboundBatch(std::span<const Frame> batch_frames) noexcept;

  std::span<const Frame> frames;
  std::size_t wire_bytes = 0;    // on the wire
  std::size_t memory_bytes = 0;  // queued_memory_bytes of every frame
};

class OutboundQueue {
 public:
  // Frames kept in capacity once the queue has drained (shed_idle_capacity): enough for the usual one or
  // two live frames per write.
  static constexpr std::size_t kIdleRetainedFrames = 4;

  explicit OutboundQueue(std::size_t bound_bytes) noexcept : bound_bytes_(bound_bytes) {}

  enum class Offer : std::uint8_t {
    kQueued,        // appended (an empty batch: nothing to do); the caller then tries claim_writer()
    kWriteInline,   // not queued: nothing waits and nobody writes, so the caller writes the batch itself
                    // (holding the writer's place as long as its lock), then calls push_unwritten()
    kPongReplaced,  // the waiting pong was replaced by this one
    kOverBound,     // refused whole: it would pass the bound; the caller closes with drop_pending
    kClosed,        // refused: a close frame was queued (or the queue discarded), nothing may follow
  };
  // `is_pong`: a one-frame batch that may replace the waiting pong. `may_write_inline`: the caller can write
  // this batch at once (its transport allows it, and the batch is small enough for one system call).
  [[nodiscard]] Offer offer(const OutboundBatch& batch, bool is_pong, bool may_write_inline);
  // After an inline write of `written` bytes of `frames`: queues what is left, a frame written in part as
  // its rest (copied once, with no header of its own), which then goes before anything else. Nothing may be
  // waiting (an inline write is offered only then).
  void push_unwritten(std::span<const Frame> frames, std::size_t written);
  // Queues `frame` outside the bound and the close rule (the upgrade response, ahead of everything).
  void push_unbounded(Frame frame);

  // The close frame goes last, behind what waits; with `drop_pending` what waits is dropped first, except
  // a partial rest. Nothing is accepted after it.
  void close(Frame close_frame, bool drop_pending);
  // Drops everything waiting for good (the connection is torn down); what is in flight stays counted until
  // write_finished().
  void discard() noexcept;

  // The writer's place: true when it was free and the caller now holds it.
  bool claim_writer() noexcept;
  void release_writer() noexcept { writer_claimed_ = false; }

  // For one write: moves every waiting frame into `in_flight` (empty; the queue keeps its capacity), whose
  // memory stays counted until write_finished(). True when the close frame is among them.
  bool take(std::vector<Frame>& in_flight);
  // The taken frames are written, or their write failed: their memory is released.
  void write_finished() noexcept;

  // Once drained: the waiting list's capacity beyond kIdleRetainedFrames, for the caller to free after its
  // lock (an idle subscriber would otherwise keep the capacity of its snapshot's burst).
  [[nodiscard]] std::vector<Frame> shed_idle_capacity();

  bool has_pending() const noexcept { return !pending_.empty(); }
  std::size_t pending_frames() const noexcept { return pending_.size(); }
  bool has_pong() const noexcept { return pong_index_ != kNoPong; }
  bool starts_with_rest() const noexcept { return starts_with_rest_; }
  bool close_queued() const noexcept { return close_queued_; }
  bool writer_claimed() const noexcept { return writer_claimed_; }
  std::span<const Frame> pending() const noexcept { return pending_; }
  // Memory of what waits plus what is being written: what the bound applies to.
  std::size_t memory_bytes() const noexcept { return memory_bytes_; }
  std::size_t bound_bytes() const noexcept { return bound_bytes_; }
  // At half the bound or more (the owner pauses reading its peer then).
  bool half_full() const noexcept { return memory_bytes_ >= bound_bytes_ / 2; }

 private:
  static constexpr std::size_t kNoPong = static_cast<std::size_t>(-1);

  const std::size_t bound_bytes_;
  std::vector<Frame> pending_;  // waiting for the next write
  std::size_t memory_bytes_ = 0;
  std::size_t in_flight_bytes_ = 0;  // of memory_bytes_, taken by the write in flight
  std::size_t pong_index_ = kNoPong;
  bool starts_with_rest_ = false;  // pending_ starts with the rest of a frame written in part
  bool close_queued_ = false;      // the last frame of pending_ is the close frame
  bool closed_ = false;            // close() or discard() ran: nothing more is accepted
  bool writer_claimed_ = false;    // a write is posted or running
};

}  // namespace ovalstream::hub
