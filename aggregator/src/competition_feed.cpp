#include "competition_feed.hpp"

#include <algorithm>
#include <utility>

#include <boost/asio/post.hpp>

#include "ovalstream/hub/frame.hpp"

namespace ovalstream::aggregator {

CompetitionFeed::CompetitionFeed(boost::asio::io_context& io, std::string competition_id,
                                 std::shared_ptr<FeedObserver> observer, core::ResumeLimits resume_limits,
                                 std::chrono::milliseconds resume_catch_up_wait, std::size_t lanes)
    : strand_(boost::asio::make_strand(io)),
      competition_id_(std::move(competition_id)),
      observer_(std::move(observer)),
      window_(resume_limits),
      resume_catch_up_wait_(resume_catch_up_wait) {
  const std::size_t count = std::max<std::size_t>(lanes, 1);
  lanes_.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    lanes_.push_back(std::make_unique<Lane>(count == 1 ? strand_ : boost::asio::make_strand(io)));
  }
  lane_joins_.assign(count, 0);
}

void CompetitionFeed::on_lane(std::size_t lane, LaneWork work) {
  if (lanes_.size() == 1) {
    work(*this, *lanes_.front());  // the lane's strand is the feed's: as before lanes existed
    return;
  }
  enqueue_on_lane(lane, LaneItem{nullptr, std::move(work)});
}

void CompetitionFeed::hand_batch(std::size_t lane, const std::shared_ptr<Batch>& batch) {
  if (lanes_.size() == 1) {
    send_batch(*lanes_.front(), *batch);
    return;
  }
  enqueue_on_lane(lane, LaneItem{batch, {}});
}

void CompetitionFeed::enqueue_on_lane(std::size_t lane, LaneItem item) {
  Lane& target = *lanes_[lane];
  // Only the feed's strand hands out items, and the lane's drain runs them in the order queued.
  if (target.queue.push(std::move(item)).post_turn) {
    boost::asio::post(target.strand,
                      [self = shared_from_this(), lane] { self->drain_lane(*self->lanes_[lane]); });
  }
}

void CompetitionFeed::drain_lane(Lane& lane) {
  lane.queue.take_all(lane.running);
  std::vector<std::shared_ptr<Batch>> batches;
  auto send_batches = [&] {
    if (batches.empty()) return;
    if (batches.size() == 1) {
      send_batch(lane, *batches.front());
    } else {
      send_batch(lane, *merge_batches(lane, batches));
    }
    for (const auto& batch : batches) batch_sent(*batch);
    batches.clear();
  };
  for (LaneItem& item : lane.running) {
    if (item.batch) {
      batches.push_back(std::move(item.batch));
      continue;
    }
    send_batches();  // what was handed out before the work goes first
    item.work(*this, lane);
  }
  send_batches();
  lane.running.clear();
}

std::unique_ptr<CompetitionFeed::Batch> CompetitionFeed::merge_batches(
    const Lane& lane, const std::vector<std::shared_ptr<Batch>>& batches) {
  auto merged = std::make_unique<Batch>();
  for (const auto& batch : batches) {
    merged->frames.insert(merged->frames.end(), batch->frames.begin(), batch->frames.end());
  }
  // Encoded only for the kinds of subscriber the lane has.
  const bool plain = std::any_of(lane.subscribers.begin(), lane.subscribers.end(),
                                 [](const Subscriber& subscriber) { return !subscriber.positions; });
  const bool positions = std::any_of(lane.subscribers.begin(), lane.subscribers.end(),
                                     [](const Subscriber& subscriber) { return subscriber.positions; });
  if (plain) merged->block = hub::make_frame_block(merged->frames);
  if (positions) {
    // Each batch's control frame stays after its events. A batch made while no client had positions has
    // none; it cannot reach one that has (that one joined after it), but the events are what counts.
    for (const auto& batch : batches) {
      const auto& frames = batch->position_frames.empty() ? batch->frames : batch->position_frames;
      merged->position_frames.insert(merged->position_frames.end(), frames.begin(), frames.end());
    }
    merged->position_block = hub::make_frame_block(merged->position_frames);
  }
  return merged;
}

bool CompetitionFeed::apply(core::Event event, core::Position position, std::int64_t published_ns,
                            SharedStreamContext context) {
  return enqueue(Inbound{std::move(event), position, published_ns, std::move(context)});
}

void CompetitionFeed::reset() {
  enqueue(Inbound{});
}

bool CompetitionFeed::enqueue(Inbound inbound) {
  const auto pushed = inbox_.push(std::move(inbound));
  if (pushed.post_turn) boost::asio::post(strand_, [self = shared_from_this()] { self->drain(); });
  return pushed.queued + lane_backlog_events_.load() <= kInboxLimit;
}

bool CompetitionFeed::wait_for_room(std::chrono::milliseconds timeout) {
  return inbox_.wait_until(
      timeout, [&](std::size_t queued) { return queued + lane_backlog_events_.load() <= kInboxLimit; });
}

std::size_t CompetitionFeed::inbox_events() {
  return inbox_.size() + lane_backlog_events_.load();
}

void CompetitionFeed::count_clients() {
  clients_.store(subscriber_joins_ + pending_resumes_.size(), std::memory_order_relaxed);
}

void CompetitionFeed::drain() {
  inbox_.take_all(draining_);
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
  if (subscriber_joins_ == 0) {
    pending_frames_.clear();
    return;
  }
  // Encoded once for every subscriber of every lane: one buffer to queue and write per subscriber instead of
  // a header and a payload per event.
  auto batch = std::make_shared<Batch>();
  batch->events = pending_frames_.size();
  if (position_subscribers_ > 0) {
    // One control frame per batch, not per event, so that positions cost little at high rates.
    const core::Position position = state_ ? state_->last_position() : window_.last();
    auto marker = std::make_shared<const std::string>(
        std::exchange(announce_live_, false) ? live_marker(position, epoch()) : position_marker(position));
    batch->position_frames.reserve(pending_frames_.size() + 1);
    batch->position_frames.assign(pending_frames_.begin(), pending_frames_.end());
    batch->position_frames.push_back(hub::make_text_frame(std::move(marker)));
    batch->position_block = hub::make_frame_block(batch->position_frames);
  }
  // A lone event needs no block: its frame shares the published bytes.
  if (position_subscribers_ < subscriber_joins_ && pending_frames_.size() > 1) {
    batch->block = hub::make_frame_block(pending_frames_);
  }
  batch->frames = std::move(pending_frames_);
  pending_frames_.clear();
  std::size_t busy_lanes = 0;
  for (const std::size_t joins : lane_joins_) busy_lanes += joins > 0 ? 1 : 0;
  batch->lanes_left.store(busy_lanes);
  if (lanes_.size() > 1) lane_backlog_events_ += batch->events;
  for (std::size_t lane = 0; lane < lanes_.size(); ++lane) {
    if (lane_joins_[lane] == 0) continue;
    hand_batch(lane, batch);
  }
}

void CompetitionFeed::send_batch(Lane& lane, const Batch& batch) {
  // send() fails only for a connection that is closed or closing: it leaves the lane (and the feed when its
  // on_close leaves).
  std::erase_if(lane.subscribers, [&](const Subscriber& subscriber) {
    if (subscriber.positions) {
      return !subscriber.connection->send_block(batch.position_frames, batch.position_block);
    }
    if (batch.frames.size() == 1) return !subscriber.connection->send(batch.frames.front());
    return !subscriber.connection->send_block(batch.frames, batch.block);
  });
}

void CompetitionFeed::batch_sent(Batch& batch) {
  if (lanes_.size() == 1) return;  // sent inline: never counted as a backlog
  if (batch.lanes_left.fetch_sub(1) != 1) return;
  lane_backlog_events_ -= batch.events;
  inbox_.wake_waiters();
}

void CompetitionFeed::subscribe(const std::shared_ptr<hub::Connection>& connection, bool positions) {
  auto [it, inserted] = members_.try_emplace(connection.get());
  Membership& membership = it->second;
  if (inserted) {
    // The lane with the fewest subscribers; a connection keeps its lane for its life, so its frames never
    // pass one another.
    membership.lane = static_cast<std::size_t>(std::min_element(lane_joins_.begin(), lane_joins_.end()) -
                                               lane_joins_.begin());
  }
  ++membership.joins;
  ++lane_joins_[membership.lane];
  ++subscriber_joins_;
  if (positions) {
    ++membership.position_joins;
    ++position_subscribers_;
  }
  on_lane(membership.lane, [connection, positions](CompetitionFeed&, Lane& lane) {
    lane.subscribers.push_back({connection, positions});
  });
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
      self->subscribe(connection, false);
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
      subscribe(connection, true);
      return;
    }
    if (observer_) observer_->resume_served(false, 0);
    connection->send(hub::make_text_frame(std::make_shared<const std::string>(reset_marker())));
  }
  if (state_) send_snapshot(connection);
  connection->send(hub::make_text_frame(std::move(live)));
  subscribe(connection, true);
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
    if (const auto it = self->members_.find(connection.get()); it != self->members_.end()) {
      const Membership membership = it->second;
      self->members_.erase(it);
      self->lane_joins_[membership.lane] -= membership.joins;
      self->subscriber_joins_ -= membership.joins;
      self->position_subscribers_ -= membership.position_joins;
      self->on_lane(membership.lane, [connection](CompetitionFeed&, Lane& lane) {
        std::erase_if(lane.subscribers,
                      [&](const Subscriber& subscriber) { return subscriber.connection == connection; });
      });
    }
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
    for (std::size_t lane = 0; lane < lanes_.size(); ++lane) {
      if (lane_joins_[lane] == 0) continue;
      on_lane(lane, [reset](CompetitionFeed&, Lane& target) {
        std::erase_if(target.subscribers, [&](const Subscriber& subscriber) {
          return subscriber.positions && !subscriber.connection->send(reset);
        });
      });
    }
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
    done(self->subscriber_joins_, self->state_.has_value());
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
