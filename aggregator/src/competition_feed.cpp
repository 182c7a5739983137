#include "competition_feed.hpp"

#include <utility>

#include <boost/asio/post.hpp>

#include "ovalstream/hub/frame.hpp"

namespace ovalstream::aggregator {

CompetitionFeed::CompetitionFeed(boost::asio::io_context& io, std::string competition_id,
                                 std::shared_ptr<FeedObserver> observer)
    : strand_(boost::asio::make_strand(io)),
      competition_id_(std::move(competition_id)),
      observer_(std::move(observer)) {}

bool CompetitionFeed::apply(core::Event event, core::Position position, std::int64_t published_ns) {
  return enqueue(Inbound{std::move(event), position, published_ns});
}

void CompetitionFeed::reset() {
  enqueue(Inbound{});
}

bool CompetitionFeed::enqueue(Inbound inbound) {
  bool post_drain = false;
  bool has_room = true;
  {
    std::lock_guard lock(inbox_mutex_);
    inbox_.push_back(std::move(inbound));
    has_room = inbox_.size() <= kInboxLimit;
    post_drain = !std::exchange(drain_posted_, true);
  }
  if (post_drain) boost::asio::post(strand_, [self = shared_from_this()] { self->drain(); });
  return has_room;
}

bool CompetitionFeed::wait_for_room(std::chrono::milliseconds timeout) {
  std::unique_lock lock(inbox_mutex_);
  return inbox_room_.wait_for(lock, timeout, [&] { return inbox_.size() <= kInboxLimit; });
}

void CompetitionFeed::drain() {
  {
    std::lock_guard lock(inbox_mutex_);
    draining_.swap(inbox_);  // inbox_ takes draining_'s cleared capacity
    drain_posted_ = false;
  }
  inbox_room_.notify_all();
  for (const Inbound& inbound : draining_) {
    if (inbound.event) {
      apply_on_strand(*inbound.event, inbound.position, inbound.published_ns);
      if (pending_frames_.size() >= kMaxBlockEvents) forward_pending();
    } else {
      forward_pending();
      reset_on_strand();
    }
  }
  forward_pending();
  // A burst's capacity is given back; the usual batch is a few events.
  if (draining_.capacity() > kMaxBlockEvents) {
    std::vector<Inbound>().swap(draining_);
  } else {
    draining_.clear();
  }
}

void CompetitionFeed::forward_pending() {
  if (pending_frames_.empty()) return;
  if (pending_frames_.size() == 1) {
    // A lone event needs no block: its frame shares the published bytes.
    const hub::Frame& frame = pending_frames_.front();
    // send() fails only for a connection that is closed or closing: it leaves the feed.
    std::erase_if(subscribers_, [&](const std::shared_ptr<hub::Connection>& connection) {
      return !connection->send(frame);
    });
  } else {
    // Encoded once for every subscriber: one buffer to queue and write per subscriber instead of a header
    // and a payload per event.
    const hub::Frame block = hub::make_frame_block(pending_frames_);
    std::erase_if(subscribers_, [&](const std::shared_ptr<hub::Connection>& connection) {
      return !connection->send_block(pending_frames_, block);
    });
  }
  pending_frames_.clear();
}

void CompetitionFeed::apply_on_strand(const core::Event& event, core::Position position,
                                      std::int64_t published_ns) {
  if (!state_) state_.emplace(core::make_longtrack_state(competition_id_));
  const core::ApplyResult result = state_->apply(event, position);
  if (result == core::ApplyResult::kDuplicate || result == core::ApplyResult::kWrongCompetition) {
    if (observer_) observer_->duplicate_skipped();
    return;
  }
  if (result == core::ApplyResult::kApplied && event.header.type == core::EventType::kCompetitionActivated) {
    // Clients reset their view at an activation; what the state kept below the competition (a re-activation
    // keeps the distance and heats) follows it, in the order of a late joiner's snapshot, which starts with
    // this activation.
    const core::SharedSnapshot snapshot = state_->snapshot();
    for (const core::PositionedEvent& item : *snapshot) {
      pending_frames_.push_back(
          hub::make_text_frame(item.event.bytes, item.position == position ? published_ns : 0));
    }
    return;
  }
  // Other events that change nothing are forwarded too: a client that saw everything sees them, and a late
  // joiner's view does not depend on them.
  pending_frames_.push_back(hub::make_text_frame(event.bytes, published_ns));
}

void CompetitionFeed::join(std::shared_ptr<hub::Connection> connection) {
  boost::asio::post(strand_, [self = shared_from_this(), connection = std::move(connection)] {
    if (self->state_) self->send_snapshot(connection);
    self->subscribers_.push_back(connection);
  });
}

void CompetitionFeed::leave(std::shared_ptr<hub::Connection> connection) {
  boost::asio::post(strand_, [self = shared_from_this(), connection = std::move(connection)] {
    std::erase(self->subscribers_, connection);
  });
}

void CompetitionFeed::reset_on_strand() {
  state_.reset();
  view_version_.reset();
  framed_snapshot_.reset();
  snapshot_frames_.clear();
  snapshot_block_ = {};
}

void CompetitionFeed::state_view(std::function<void(std::string)> done) {
  boost::asio::post(strand_, [self = shared_from_this(), done = std::move(done)] {
    if (!self->state_) {
      done("null");
      return;
    }
    if (self->view_version_ != self->state_->version()) {
      self->view_ = self->state_->state_view_json();
      self->view_version_ = self->state_->version();
    }
    done(self->view_);
  });
}

void CompetitionFeed::inspect(std::function<void(std::size_t, bool)> done) {
  boost::asio::post(strand_, [self = shared_from_this(), done = std::move(done)] {
    done(self->subscribers_.size(), self->state_.has_value());
  });
}

bool CompetitionFeed::send_snapshot(const std::shared_ptr<hub::Connection>& connection) {
  // The state caches its snapshot until the next change; the frames follow it, so a join storm encodes
  // the snapshot once.
  const core::SharedSnapshot snapshot = state_->snapshot();
  if (snapshot != framed_snapshot_) {
    snapshot_frames_.clear();
    snapshot_bytes_ = 0;
    for (const core::PositionedEvent& item : *snapshot) {
      snapshot_frames_.push_back(hub::make_text_frame(item.event.bytes));
      snapshot_bytes_ += item.event.raw().size();
    }
    // Encoded once per snapshot (one copy of its bytes), so that each joining client queues and writes one
    // buffer instead of a header and a payload per event (the join storm's cost was the per-client writes).
    snapshot_block_ = hub::make_frame_block(snapshot_frames_);
    framed_snapshot_ = snapshot;
  }
  const bool sent = connection->send_block(snapshot_frames_, snapshot_block_);
  if (observer_) observer_->snapshot_sent(snapshot_frames_.size(), snapshot_bytes_);
  return sent;
}

}  // namespace ovalstream::aggregator
