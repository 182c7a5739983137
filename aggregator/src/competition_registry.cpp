#include "competition_registry.hpp"

#include <algorithm>
#include <utility>

namespace ovalstream::aggregator {

CompetitionRegistry::CompetitionRegistry(boost::asio::io_context& io, RegistryOptions options,
                                         std::shared_ptr<EventValidator> validator,
                                         std::shared_ptr<IngestObserver> observer,
                                         std::shared_ptr<FeedObserver> feed_observer)
    : io_(io),
      options_(std::move(options)),
      validator_(std::move(validator)),
      observer_(std::move(observer)),
      feed_observer_(std::move(feed_observer)),
      activations_(std::make_shared<ActivationFeed>(io)) {}

std::optional<core::Event> CompetitionRegistry::validate(const FeedMessage& message) {
  auto validated = validator_->validate(message.subject, message.data);
  if (!validated.ok()) {
    const Rejection& rejection = validated.error();
    observer_->event_rejected(message, rejection.reason, rejection.detail);
    return std::nullopt;
  }
  core::Event event = std::move(validated).value();
  observer_->event_received(event);
  return event;
}

void CompetitionRegistry::on_message(FeedMessage message) {
  std::optional<core::Event> event = validate(message);
  observer_->message_consumed(message);
  std::shared_ptr<CompetitionFeed> full_feed;
  const bool applied = event && follows(event->header.competition_id);
  bool reached_end = false;
  {
    runtime::MutexLock lock(mutex_);
    highest_sequence_ = std::max(highest_sequence_, message.stream_sequence);
    if (!context_floor_final_) {
      // Everything from the first delivered message on is delivered: positions from here are exact.
      context_floor_final_ = true;
      if (message.stream_sequence - 1 < context_->floor) {
        context_ = std::make_shared<const StreamContext>(
            StreamContext{context_->epoch, message.stream_sequence - 1});
      }
    }
    if (event) full_feed = deliver_locked(message, *event);
    if (!caught_up_ && (message.pending == 0 || message.stream_sequence >= catch_up_sequence_)) {
      caught_up_ = true;
      reached_end = true;
    }
  }
  if (applied) observer_->event_applied(message);
  if (reached_end) observer_->caught_up(message.stream_sequence);
  wait_for_feed(full_feed);
}

std::shared_ptr<CompetitionFeed> CompetitionRegistry::deliver_locked(const FeedMessage& message,
                                                                     const core::Event& event) {
  const std::string& id = event.header.competition_id;
  if (event.header.type == core::EventType::kCompetitionActivated) {
    activations_->activated(event, message.stream_sequence, message.timestamp_ns);
  }
  if (!follows(id)) return nullptr;
  Held& held = hold_locked(id, message.stream_sequence);
  held.last_event_ns = message.timestamp_ns;
  if (held.feed->apply(event, message.stream_sequence, message.timestamp_ns, context_)) return nullptr;
  return held.feed;
}

CompetitionRegistry::Held& CompetitionRegistry::hold_locked(const std::string& competition_id,
                                                            std::uint64_t sequence) {
  if (auto it = held_.find(competition_id); it != held_.end()) return it->second;
  if (held_.size() >= std::max<std::size_t>(options_.max_competitions, 1)) {
    // The least recently active competition makes room.
    const auto oldest = std::min_element(held_.begin(), held_.end(), [](const auto& a, const auto& b) {
      return a.second.last_event_ns < b.second.last_event_ns;
    });
    drop_locked(oldest, "limit");
  }
  Held& held = held_[competition_id];
  held.feed = feed_locked(competition_id);
  waiting_.erase(competition_id);
  observer_->competition_held(competition_id, sequence);
  observer_->competitions_held(held_.size());
  return held;
}

void CompetitionRegistry::drop_locked(std::map<std::string, Held, core::CompetitionIdLess>::iterator it,
                                      const std::string& reason) {
  observer_->competition_dropped(it->first, reason);
  it->second.feed->reset();
  // Its clients stay and receive the competition when it comes back.
  waiting_[it->first] = it->second.feed;
  forget_if_unwatched_locked(it->first, it->second.feed);
  held_.erase(it);
  observer_->competitions_held(held_.size());
}

void CompetitionRegistry::forget_if_unwatched_locked(const std::string& competition_id,
                                                     const std::shared_ptr<CompetitionFeed>& feed) {
  // Counted on the feed's strand, after everything queued before: a waiting feed lives only while it has
  // clients, so waiting feeds are bounded by the connections.
  std::weak_ptr<CompetitionRegistry> weak = weak_from_this();
  std::weak_ptr<CompetitionFeed> weak_feed = feed;
  feed->inspect([weak, weak_feed, competition_id](std::size_t subscribers, bool) {
    auto self = weak.lock();
    if (!self || subscribers > 0) return;
    runtime::MutexLock relock(self->mutex_);
    const auto it = self->waiting_.find(competition_id);
    if (it != self->waiting_.end() && it->second == weak_feed.lock()) self->waiting_.erase(it);
  });
}

void CompetitionRegistry::wait_for_feed(const std::shared_ptr<CompetitionFeed>& feed) {
  if (!feed) return;
  // Outside the lock: the consumer's thread holds back its next message, so the backlog stays in nats.c's
  // bounded pending queue; joins go on meanwhile.
  const bool drained = feed->wait_for_room(kFeedBackpressureWait);
  observer_->feed_backpressure(feed->competition_id(), drained);
}

void CompetitionRegistry::begin_catch_up(std::uint64_t last_sequence, std::string epoch,
                                         std::uint64_t floor) {
  bool reached_end = false;
  {
    runtime::MutexLock lock(mutex_);
    context_ = std::make_shared<const StreamContext>(StreamContext{std::move(epoch), floor});
    context_floor_final_ = false;
    catch_up_sequence_ = last_sequence;
    caught_up_ = last_sequence == 0 || highest_sequence_ >= last_sequence;
    reached_end = caught_up_;
  }
  if (reached_end) observer_->caught_up(last_sequence);
}

bool CompetitionRegistry::caught_up() const {
  runtime::MutexLock lock(mutex_);
  return caught_up_;
}

bool CompetitionRegistry::follows(const std::string& competition_id) const {
  return options_.filter.empty() || options_.filter.contains(competition_id);
}

std::shared_ptr<CompetitionFeed> CompetitionRegistry::feed_locked(const std::string& competition_id) {
  if (auto it = held_.find(competition_id); it != held_.end() && it->second.feed) return it->second.feed;
  auto& waiting = waiting_[competition_id];
  if (!waiting) {
    waiting = std::make_shared<CompetitionFeed>(io_, competition_id, feed_observer_, options_.resume_limits,
                                                options_.resume_catch_up_wait, options_.fanout_lanes);
  }
  return waiting;
}

void CompetitionRegistry::join(const std::string& competition_id, std::shared_ptr<hub::Connection> connection,
                               ResumeRequest request) {
  runtime::MutexLock lock(mutex_);
  feed_locked(competition_id)->join(std::move(connection), std::move(request), context_);
}

void CompetitionRegistry::leave(const std::string& competition_id,
                                const std::shared_ptr<hub::Connection>& connection) {
  runtime::MutexLock lock(mutex_);
  if (auto it = held_.find(competition_id); it != held_.end()) {
    it->second.feed->leave(connection);
    return;
  }
  const auto waiting = waiting_.find(competition_id);
  if (waiting == waiting_.end()) return;
  waiting->second->leave(connection);
  forget_if_unwatched_locked(competition_id, waiting->second);
}

void CompetitionRegistry::join_activations(std::shared_ptr<hub::Connection> connection,
                                           std::shared_ptr<const auth::CompetitionScope> scope) {
  activations_->join(std::move(connection), std::move(scope));
}

void CompetitionRegistry::leave_activations(const std::shared_ptr<hub::Connection>& connection) {
  activations_->leave(connection);
}

void CompetitionRegistry::state_view(const std::string& competition_id,
                                     std::function<void(std::string)> done) {
  std::shared_ptr<CompetitionFeed> feed;
  {
    runtime::MutexLock lock(mutex_);
    if (auto it = held_.find(competition_id); it != held_.end()) feed = it->second.feed;
  }
  if (!feed) {
    done("null");
    return;
  }
  feed->state_view(std::move(done));
}

void CompetitionRegistry::list(std::function<void(std::string)> done,
                               std::shared_ptr<const auth::CompetitionScope> scope) {
  activations_->list(std::move(done), std::move(scope));
}

void CompetitionRegistry::collect_garbage(std::int64_t now_ns, std::int64_t history_start_ns) {
  {
    runtime::MutexLock lock(mutex_);
    for (auto it = held_.begin(); it != held_.end();) {
      const auto next = std::next(it);
      if (now_ns - it->second.last_event_ns > options_.idle_drop_ns) drop_locked(it, "idle");
      it = next;
    }
  }
  activations_->expire(history_start_ns);
}

void CompetitionRegistry::rebuild() {
  runtime::MutexLock lock(mutex_);
  for (auto& [id, held] : held_) {
    held.feed->reset();
    waiting_[id] = held.feed;
    forget_if_unwatched_locked(id, held.feed);
  }
  held_.clear();
  caught_up_ = false;
  highest_sequence_ = 0;
  observer_->competitions_held(0);
}

std::uint64_t CompetitionRegistry::highest_sequence() const {
  runtime::MutexLock lock(mutex_);
  return highest_sequence_;
}

std::size_t CompetitionRegistry::held_count() const {
  runtime::MutexLock lock(mutex_);
  return held_.size();
}

std::vector<CompetitionRegistry::HeldCompetition> CompetitionRegistry::held_competitions() const {
  runtime::MutexLock lock(mutex_);
  std::vector<HeldCompetition> competitions;
  competitions.reserve(held_.size());
  for (const auto& [id, held] : held_) {
    competitions.push_back({id, held.last_event_ns, held.feed->clients(), held.feed->inbox_events()});
  }
  return competitions;
}

}  // namespace ovalstream::aggregator
