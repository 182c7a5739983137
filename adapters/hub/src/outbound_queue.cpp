#include "outbound_queue.hpp"

#include <string>
#include <string_view>
#include <utility>

namespace ovalstream::hub {

std::size_t queued_memory_bytes(const Frame& frame) noexcept {
  // The Frame in the queue and its two gather buffers; a payload of its own adds its bytes, its string and
  // the shared_ptr control block make_shared puts in front of it.
  constexpr std::size_t kPerFrame = sizeof(Frame) + 2 * kGatherBufferBytes;
  constexpr std::size_t kPerPayload = sizeof(std::string) + 16;
  return kPerFrame + (frame.payload ? kPerPayload + frame.payload->capacity() : 0);
}

std::size_t fully_written_frames(std::span<const Frame> frames, std::size_t written) noexcept {
  std::size_t whole_frames = 0;
  for (std::size_t whole = 0; whole_frames < frames.size(); ++whole_frames) {
    whole += frames[whole_frames].size();
    if (whole > written) break;
  }
  return whole_frames;
}

OutboundBatch::OutboundBatch(std::span<const Frame> batch_frames) noexcept : frames(batch_frames) {
  for (const Frame& frame : frames) {
    wire_bytes += frame.size();
    memory_bytes += queued_memory_bytes(frame);
  }
}

OutboundQueue::Offer OutboundQueue::offer(const OutboundBatch& batch, bool is_pong, bool may_write_inline) {
  if (closed_) return Offer::kClosed;
  if (batch.frames.empty()) return Offer::kQueued;
  if (is_pong && pong_index_ != kNoPong) {
    Frame& queued = pending_[pong_index_];
    memory_bytes_ = memory_bytes_ - queued_memory_bytes(queued) + batch.memory_bytes;
    queued = batch.frames.front();
    return Offer::kPongReplaced;
  }
  if (memory_bytes_ + batch.memory_bytes > bound_bytes_) return Offer::kOverBound;
  if (may_write_inline && !writer_claimed_ && pending_.empty()) return Offer::kWriteInline;
  pending_.insert(pending_.end(), batch.frames.begin(), batch.frames.end());
  if (is_pong) pong_index_ = pending_.size() - 1;
  memory_bytes_ += batch.memory_bytes;
  return Offer::kQueued;
}

void OutboundQueue::push_unwritten(std::span<const Frame> frames, std::size_t written) {
  for (const Frame& frame : frames) {
    const std::size_t size = frame.size();
    if (written >= size) {
      written -= size;
      continue;
    }
    if (written == 0) {
      memory_bytes_ += queued_memory_bytes(frame);
      pending_.push_back(frame);
      continue;
    }
    // Written in part: its unwritten bytes are copied once into a piece with no header of its own.
    std::string rest;
    rest.reserve(size - written);
    if (written < frame.header_size) {
      rest.append(reinterpret_cast<const char*>(frame.header.data()) + written, frame.header_size - written);
      if (frame.payload) rest.append(*frame.payload);
    } else {
      rest.append(std::string_view(*frame.payload).substr(written - frame.header_size));
    }
    Frame piece;
    piece.payload = std::make_shared<const std::string>(std::move(rest));
    piece.frame_count = frame.frame_count;  // counted as written once its last byte is
    piece.published_ns = frame.published_ns;
    memory_bytes_ += queued_memory_bytes(piece);
    pending_.push_back(std::move(piece));
    starts_with_rest_ = true;  // nothing was waiting: the piece is first
    written = 0;
  }
}

void OutboundQueue::push_unbounded(Frame frame) {
  memory_bytes_ += queued_memory_bytes(frame);
  pending_.push_back(std::move(frame));
}

void OutboundQueue::close(Frame close_frame, bool drop_pending) {
  if (drop_pending) {
    // The partial rest stays: without it the frame stream would break.
    const std::size_t kept = starts_with_rest_ ? 1 : 0;
    pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(kept), pending_.end());
    pong_index_ = kNoPong;
    memory_bytes_ = in_flight_bytes_ + (kept != 0 ? queued_memory_bytes(pending_.front()) : 0);
  }
  memory_bytes_ += queued_memory_bytes(close_frame);
  pending_.push_back(std::move(close_frame));
  close_queued_ = true;
  closed_ = true;
}

void OutboundQueue::discard() noexcept {
  pending_.clear();
  pong_index_ = kNoPong;
  memory_bytes_ = in_flight_bytes_;
  starts_with_rest_ = false;
  close_queued_ = false;
  closed_ = true;
}

bool OutboundQueue::claim_writer() noexcept {
  if (writer_claimed_) return false;
  writer_claimed_ = true;
  return true;
}

bool OutboundQueue::take(std::vector<Frame>& in_flight) {
  in_flight.swap(pending_);  // in_flight is empty: pending_ takes its cleared capacity
  starts_with_rest_ = false;
  pong_index_ = kNoPong;  // written now: the next ping gets a pong of its own
  in_flight_bytes_ = memory_bytes_;
  const bool close = close_queued_;
  close_queued_ = false;
  return close;
}

void OutboundQueue::write_finished() noexcept {
  memory_bytes_ -= in_flight_bytes_;
  in_flight_bytes_ = 0;
}

std::vector<Frame> OutboundQueue::shed_idle_capacity() {
  std::vector<Frame> released;
  if (pending_.empty() && pending_.capacity() > kIdleRetainedFrames) released.swap(pending_);
  return released;
}

}  // namespace ovalstream::hub
