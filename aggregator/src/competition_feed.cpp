#include "competition_feed.hpp"

#include <algorithm>
#include <utility>

#include <boost/asio/post.hpp>

#include "ovalstream/hub/frame.hpp"

namespace ovalstream::aggregator {

CompetitionFeed::CompetitionFeed(boost::asio::io_context& io, std::string competition_id,
                                 std::shared_ptr<FeedObserver> observer, core::ResumeLimits resume_limits,
                                 std::chrono::milliseconds resume_catch_up_wait)
    : strand_(boost::asio::make_strand(io)),
      competition_id_(std::move(competition_id)),
      observer_(std::move(observer)),
      window_(resume_limits),
      resume_catch_up_wait_(resume_catch_up_wait) {}

bool CompetitionFeed::apply(core::Event event, core::Position position, std::int64_t published_ns,
                            SharedStreamContext context) {
  return enqueue(Inbound{std::move(event), position, published_ns, std::move(context)});
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

std::size_t CompetitionFeed::inbox_events() {
  std::lock_guard lock(inbox_mutex_);
  return inbox_.size();
}

void CompetitionFeed::count_clients() {
  clients_.store(subscribers_.size() + pending_resumes_.size(), std::memory_order_relaxed);
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
      apply_on_strand(inbound);
      if (pending_frames_.size() >= kMaxBlockEvents) forward_pending();
    } else {
      forward_pending();
      reset_on_strand();
    }
  }
  forward_pending();
  if (!pending_resumes_.empty()) serve_pending_resumes();
  count_clients();  // forwarding drops the closed ones
  // A burst's capacity is given back; the usual batch is a few events.
  if (draining_.capacity() > kMaxBlockEvents) {
    std::vector<Inbound>().swap(draining_);
  } else {
    draining_.clear();
  }
}

void CompetitionFeed::forward_pending() {
  if (pending_frames_.empty()) return;
  // send() fails only for a connection that is closed or closing: it leaves the feed.
  auto send_or_leave = [&](const std::vector<hub::Frame>& frames, const hub::Frame* block, bool positions) {
    std::erase_if(subscribers_, [&](const Subscriber& subscriber) {
      if (subscriber.positions != positions) return false;
      const bool sent = block ? subscriber.connection->send_block(frames, *block)
                              : subscriber.connection->send(frames.front());
      if (!sent && positions) --position_subscribers_;
      return !sent;
    });
  };
  if (position_subscribers_ < subscribers_.size()) {
    if (pending_frames_.size() == 1) {
      // A lone event needs no block: its frame shares the published bytes.
      send_or_leave(pending_frames_, nullptr, false);
    } else {
      // Encoded once for every subscriber: one buffer to queue and write per subscriber instead of a header
      // and a payload per event.
      const hub::Frame block = hub::make_frame_block(pending_frames_);
      send_or_leave(pending_frames_, &block, false);
    }
  }
  if (position_subscribers_ > 0) {
    // One control frame per batch, not per event, so that positions cost little at high rates.
    const core::Position position = state_ ? state_->last_position() : window_.last();
    auto marker = std::make_shared<const std::string>(
        std::exchange(announce_live_, false) ? live_marker(position, epoch()) : position_marker(position));
    pending_frames_.push_back(hub::make_text_frame(std::move(marker)));
    const hub::Frame block = hub::make_frame_block(pending_frames_);
    send_or_leave(pending_frames_, &block, true);
  }
  pending_frames_.clear();
}

const std::string& CompetitionFeed::epoch() const {
  static const std::string kNone;
  return context_ ? context_->epoch : kNone;
}

void CompetitionFeed::apply_on_strand(const Inbound& inbound) {
  const core::Event& event = *inbound.event;
  const core::Position position = inbound.position;
  const std::int64_t published_ns = inbound.published_ns;
  if (inbound.context) context_ = inbound.context;
  if (!state_) {
    // The id as published: the feed's may be a client's spelling (ids match case-insensitively).
    state_.emplace(core::make_longtrack_state(event.header.competition_id));
    // Every later event of the competition goes into the window: after a reset (drop, rebuild) from this
    // one on; the first time from where the consumer started reading.
    const core::Position first_time_floor = context_ ? std::min(context_->floor, position - 1) : position - 1;
    window_.reset(had_state_ ? position - 1 : first_time_floor);
    had_state_ = true;
  }
  const core::ApplyResult result = state_->apply(event, position);
  if (result == core::ApplyResult::kDuplicate || result == core::ApplyResult::kWrongCompetition) {
    if (observer_) observer_->duplicate_skipped();
    return;
  }
  // An activation comes with what the state kept below the competition (a re-activation keeps the distance
  // and heats), since clients reset their view at one.
  std::vector<core::EventBytes> payloads = core::frames_for(*state_, event, result);
  for (const core::EventBytes& payload : payloads) {
    pending_frames_.push_back(hub::make_text_frame(payload, payload == event.bytes ? published_ns : 0));
  }
  const bool starts_view =
      event.header.type == core::EventType::kCompetitionActivated && result == core::ApplyResult::kApplied;
  window_.append(position, published_ns, std::move(payloads), starts_view);
}

void CompetitionFeed::join(std::shared_ptr<hub::Connection> connection, ResumeRequest request,
                           SharedStreamContext context) {
  boost::asio::post(strand_, [self = shared_from_this(), connection = std::move(connection),
                              request = std::move(request), context = std::move(context)] {
    if (request.positions) {
      self->join_with_positions(connection, request, context);
    } else {
      if (self->state_) self->send_snapshot(connection);
      self->subscribers_.push_back({connection, false});
    }
    self->count_clients();
  });
}

void CompetitionFeed::join_with_positions(const std::shared_ptr<hub::Connection>& connection,
                                          const ResumeRequest& request, const SharedStreamContext& context,
                                          bool may_wait) {
  if (!context_) context_ = context;
  const core::Position position = state_ ? state_->last_position() : window_.last();
  auto live = std::make_shared<const std::string>(live_marker(position, epoch()));
  if (request.since) {
    const bool same_stream = request.epoch == epoch();
    const bool not_read_yet = !state_ || *request.since > window_.last();
    if (may_wait && same_stream && not_read_yet && (!state_ || *request.since >= window_.floor())) {
      auto deadline = std::make_shared<boost::asio::steady_timer>(strand_, resume_catch_up_wait_);
      deadline->async_wait([weak = weak_from_this(), connection](const boost::system::error_code& error) {
        if (error) return;  // served before its deadline (cancelled)
        if (auto self = weak.lock()) self->resume_deadline_passed(connection);
      });
      pending_resumes_.push_back({connection, request, std::move(deadline)});
      return;
    }
    const bool exact = state_ && same_stream && window_.covers(*request.since);
    if (exact) {
      // Only what it missed, then the live frame: what it would have received had it stayed.
      std::vector<hub::Frame> frames;
      std::size_t bytes = 0;
      for (const core::EventBytes& payload : window_.frames_after(*request.since)) {
        bytes += payload->size();
        frames.push_back(hub::make_text_frame(payload));
      }
      frames.push_back(hub::make_text_frame(std::move(live)));
      connection->send_block(frames, hub::make_frame_block(frames));
      if (observer_) observer_->resume_served(true, bytes);
      subscribers_.push_back({connection, true});
      ++position_subscribers_;
      return;
    }
    if (observer_) observer_->resume_served(false, 0);
    connection->send(hub::make_text_frame(std::make_shared<const std::string>(reset_marker())));
  }
  if (state_) send_snapshot(connection);
  connection->send(hub::make_text_frame(std::move(live)));
  subscribers_.push_back({connection, true});
  ++position_subscribers_;
}

void CompetitionFeed::serve_pending_resumes() {
  std::vector<PendingResume> ready;
  std::erase_if(pending_resumes_, [&](PendingResume& pending) {
    const core::Position since = *pending.request.since;
    // Reached, or passed by the floor (a gap after a reset: it never will be).
    if (!state_ || (since > window_.last() && since >= window_.floor())) return false;
    ready.push_back(std::move(pending));
    return true;
  });
  for (PendingResume& pending : ready) {
    pending.deadline->cancel();
    join_with_positions(pending.connection, pending.request, nullptr, false);
  }
}

void CompetitionFeed::resume_deadline_passed(const std::shared_ptr<hub::Connection>& connection) {
  const auto it =
      std::find_if(pending_resumes_.begin(), pending_resumes_.end(),
                   [&](const PendingResume& pending) { return pending.connection == connection; });
  if (it == pending_resumes_.end()) return;
  PendingResume pending = std::move(*it);
  pending_resumes_.erase(it);
  join_with_positions(pending.connection, pending.request, nullptr, false);
}

void CompetitionFeed::leave(std::shared_ptr<hub::Connection> connection) {
  boost::asio::post(strand_, [self = shared_from_this(), connection = std::move(connection)] {
    std::erase_if(self->pending_resumes_, [&](const PendingResume& pending) {
      if (pending.connection != connection) return false;
      pending.deadline->cancel();
      return true;
    });
    std::erase_if(self->subscribers_, [&](const Subscriber& subscriber) {
      if (subscriber.connection != connection) return false;
      if (subscriber.positions) --self->position_subscribers_;
      return true;
    });
    self->count_clients();
  });
}

void CompetitionFeed::reset_on_strand() {
  state_.reset();
  view_version_.reset();
  window_.reset(window_.last());  // its memory goes; the next event sets the floor
  // Clients with positions learn that their position no longer holds; the competition's next batch ends
  // with a live frame (with the epoch then in force).
  if (position_subscribers_ > 0) {
    const hub::Frame reset = hub::make_text_frame(std::make_shared<const std::string>(reset_marker()));
    std::erase_if(subscribers_, [&](const Subscriber& subscriber) {
      if (!subscriber.positions || subscriber.connection->send(reset)) return false;
      --position_subscribers_;
      return true;
    });
    announce_live_ = true;
  }
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
