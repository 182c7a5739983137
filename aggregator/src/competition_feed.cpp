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

void CompetitionFeed::apply(core::Event event, core::Position position, std::int64_t published_ns) {
  boost::asio::post(strand_, [self = shared_from_this(), event = std::move(event), position, published_ns] {
    self->apply_on_strand(event, position, published_ns);
  });
}

// The competition's events come through two consumers (activations and competition-level events; the
// rest), which may run at different speeds. The state orders them by stream position; clients apply frames
// in arrival order, so two cases need care to give a client that saw everything the same view as a late
// joiner:
// - an event from before the latest activation arriving after it belongs to the replaced competition: the
//   state ignores it, and it is not forwarded;
// - an activation arriving after later events of the other consumer were forwarded would make a client
//   reset over them: every client is sent a fresh snapshot instead, which starts with that activation.
void CompetitionFeed::apply_on_strand(const core::Event& event, core::Position position,
                                      std::int64_t published_ns) {
  if (!state_) state_.emplace(core::make_longtrack_state(competition_id_));
  const bool activation = event.header.type == core::EventType::kCompetitionActivated;
  const bool overtaken = activation && state_->last_position(core::Level::kDistance) > position;
  const core::ApplyResult result = state_->apply(event, position);
  if (result == core::ApplyResult::kDuplicate || result == core::ApplyResult::kWrongCompetition) {
    if (observer_) observer_->duplicate_skipped();
    return;
  }
  if (activation) activation_position_ = std::max(activation_position_, position);
  if (position < activation_position_) return;
  if (overtaken) {
    std::erase_if(subscribers_, [&](const std::shared_ptr<hub::Connection>& connection) {
      return !send_snapshot(connection);
    });
    if (observer_) observer_->clients_resynchronized(subscribers_.size());
    return;
  }
  // Other events that change nothing are forwarded too: a client that saw everything sees them, and a late
  // joiner's view does not depend on them.
  const hub::Frame frame = hub::make_text_frame(event.bytes, published_ns);
  // send() fails only for a connection that is closed or closing: it leaves the feed.
  std::erase_if(subscribers_,
                [&](const std::shared_ptr<hub::Connection>& connection) { return !connection->send(frame); });
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

void CompetitionFeed::reset() {
  boost::asio::post(strand_, [self = shared_from_this()] {
    self->state_.reset();
    self->activation_position_ = 0;
    self->framed_snapshot_.reset();
    self->snapshot_frames_.clear();
    self->snapshot_block_ = {};
  });
}

void CompetitionFeed::state_view(std::function<void(std::string)> done) {
  boost::asio::post(strand_, [self = shared_from_this(), done = std::move(done)] {
    done(self->state_ ? self->state_->state_view_json() : std::string("null"));
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
