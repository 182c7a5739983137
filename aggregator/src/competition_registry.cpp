#include "competition_registry.hpp"

#include <utility>

#include "ovalstream/core/subject.hpp"

namespace ovalstream::aggregator {

CompetitionRegistry::CompetitionRegistry(boost::asio::io_context& io, RegistryOptions options,
                                         std::shared_ptr<ConsumerFactory> consumers,
                                         std::shared_ptr<EventValidator> validator,
                                         std::shared_ptr<IngestObserver> observer,
                                         std::shared_ptr<FeedObserver> feed_observer)
    : io_(io),
      options_(std::move(options)),
      consumers_(std::move(consumers)),
      validator_(std::move(validator)),
      observer_(std::move(observer)),
      feed_observer_(std::move(feed_observer)),
      activations_(std::make_shared<ActivationFeed>(io)) {}

CompetitionRegistry::~CompetitionRegistry() {
  // Stop every consumer before the feeds go: no callback may run into a half-destroyed registry.
  std::vector<std::unique_ptr<ConsumerHandle>> consumers;
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, followed] : followed_) consumers.push_back(std::move(followed.consumer));
  }
  consumers.clear();
}

std::optional<core::Event> CompetitionRegistry::validate(const FeedMessage& message) {
  auto result = validator_->validate(message.subject, message.data);
  if (auto* rejection = std::get_if<Rejection>(&result)) {
    observer_->event_rejected(message, rejection->reason, rejection->detail);
    return std::nullopt;
  }
  core::Event event = std::get<core::Event>(std::move(result));
  observer_->event_received(event);
  return event;
}

void CompetitionRegistry::on_top_level_message(FeedMessage message) {
  std::optional<core::Event> event = validate(message);
  std::shared_ptr<CompetitionFeed> full_feed;
  {
    std::lock_guard lock(mutex_);
    full_feed = deliver_top_level_locked(message, event);
  }
  wait_for_feed(full_feed);
}

std::shared_ptr<CompetitionFeed> CompetitionRegistry::deliver_top_level_locked(
    const FeedMessage& message, const std::optional<core::Event>& event) {
  std::shared_ptr<CompetitionFeed> full_feed;
  highest_sequence_ = std::max(highest_sequence_, message.stream_sequence);
  if (event) {
    const std::string& id = event->header.competition_id;
    if (event->header.type == core::EventType::kCompetitionActivated) {
      activations_->activated(*event, message.stream_sequence, message.timestamp_ns);
      if (options_.filter.empty() || options_.filter.contains(id)) {
        auto [it, inserted] = followed_.try_emplace(id);
        Followed& followed = it->second;
        if (inserted) {
          followed.feed = feed_locked(id);
          waiting_.erase(id);
        }
        followed.activation_position = message.stream_sequence;
        followed.last_event_ns = message.timestamp_ns;
        if (!followed.feed->apply(*event, message.stream_sequence, message.timestamp_ns)) {
          full_feed = followed.feed;
        }
        if (caught_up_ && !followed.consumer) start_consumer_locked(id, followed);
        if (inserted) report_followed_locked();
      }
    } else if (auto it = followed_.find(id); it != followed_.end()) {
      it->second.last_event_ns = message.timestamp_ns;
      if (!it->second.feed->apply(*event, message.stream_sequence, message.timestamp_ns)) {
        full_feed = it->second.feed;
      }
    }
  }
  if (message.pending == 0 && !caught_up_) {
    // Caught up: follow each competition from its latest activation only, not from every activation the
    // history window holds.
    caught_up_ = true;
    for (auto& [id, followed] : followed_) {
      if (!followed.consumer) start_consumer_locked(id, followed);
    }
  }
  return full_feed;
}

void CompetitionRegistry::wait_for_feed(const std::shared_ptr<CompetitionFeed>& feed) {
  if (!feed) return;
  // Outside the lock: the consumer's thread holds back its next message, so the backlog stays in nats.c's
  // bounded pending queue; joins and the other consumer go on meanwhile.
  const bool drained = feed->wait_for_room(kFeedBackpressureWait);
  observer_->feed_backpressure(feed->competition_id(), drained);
}

void CompetitionRegistry::mark_caught_up() {
  std::lock_guard lock(mutex_);
  if (caught_up_) return;
  caught_up_ = true;
  for (auto& [id, followed] : followed_) {
    if (!followed.consumer) start_consumer_locked(id, followed);
  }
}

bool CompetitionRegistry::caught_up() const {
  std::lock_guard lock(mutex_);
  return caught_up_;
}

void CompetitionRegistry::start_consumer_locked(const std::string& competition_id, Followed& followed) {
  const std::string subject = std::string(core::kSubjectRoot) + "." + competition_id + ".>";
  const std::uint64_t start = followed.activation_position + 1;
  std::weak_ptr<CompetitionRegistry> weak = weak_from_this();
  followed.consumer = consumers_->start(subject, start, [weak, competition_id](FeedMessage message) {
    if (auto self = weak.lock()) self->on_competition_message(competition_id, std::move(message));
  });
  if (followed.consumer) {
    observer_->competition_followed(competition_id, start);
  } else {
    observer_->consumer_start_failed(subject);
  }
}

void CompetitionRegistry::retry_failed_consumers() {
  std::lock_guard lock(mutex_);
  if (!caught_up_) return;
  for (auto& [id, followed] : followed_) {
    if (!followed.consumer) start_consumer_locked(id, followed);
  }
}

void CompetitionRegistry::on_competition_message(const std::string& competition_id, FeedMessage message) {
  std::optional<core::Event> event = validate(message);
  std::shared_ptr<CompetitionFeed> full_feed;
  {
    std::lock_guard lock(mutex_);
    highest_sequence_ = std::max(highest_sequence_, message.stream_sequence);
    if (!event) return;
    const auto it = followed_.find(competition_id);
    if (it == followed_.end() || event->header.competition_id != competition_id) return;
    it->second.last_event_ns = message.timestamp_ns;
    if (!it->second.feed->apply(std::move(*event), message.stream_sequence, message.timestamp_ns)) {
      full_feed = it->second.feed;
    }
  }
  wait_for_feed(full_feed);
}

bool CompetitionRegistry::follows(const std::string& competition_id) const {
  return options_.filter.empty() || options_.filter.contains(competition_id);
}

std::shared_ptr<CompetitionFeed> CompetitionRegistry::feed_locked(const std::string& competition_id) {
  if (auto it = followed_.find(competition_id); it != followed_.end() && it->second.feed)
    return it->second.feed;
  auto& waiting = waiting_[competition_id];
  if (!waiting) waiting = std::make_shared<CompetitionFeed>(io_, competition_id, feed_observer_);
  return waiting;
}

void CompetitionRegistry::join(const std::string& competition_id,
                               std::shared_ptr<hub::Connection> connection) {
  std::lock_guard lock(mutex_);
  feed_locked(competition_id)->join(std::move(connection));
}

void CompetitionRegistry::leave(const std::string& competition_id,
                                const std::shared_ptr<hub::Connection>& connection) {
  std::lock_guard lock(mutex_);
  if (auto it = followed_.find(competition_id); it != followed_.end()) {
    it->second.feed->leave(connection);
    return;
  }
  const auto waiting = waiting_.find(competition_id);
  if (waiting == waiting_.end()) return;
  waiting->second->leave(connection);
  // A waiting feed lives only while it has clients.
  std::weak_ptr<CompetitionRegistry> weak = weak_from_this();
  waiting->second->inspect([weak, competition_id](std::size_t subscribers, bool) {
    auto self = weak.lock();
    if (!self || subscribers > 0) return;
    std::lock_guard relock(self->mutex_);
    if (!self->followed_.contains(competition_id)) self->waiting_.erase(competition_id);
  });
}

void CompetitionRegistry::join_activations(std::shared_ptr<hub::Connection> connection) {
  activations_->join(std::move(connection));
}

void CompetitionRegistry::leave_activations(const std::shared_ptr<hub::Connection>& connection) {
  activations_->leave(connection);
}

void CompetitionRegistry::state_view(const std::string& competition_id,
                                     std::function<void(std::string)> done) {
  std::shared_ptr<CompetitionFeed> feed;
  {
    std::lock_guard lock(mutex_);
    if (auto it = followed_.find(competition_id); it != followed_.end()) feed = it->second.feed;
  }
  if (!feed) {
    done("null");
    return;
  }
  feed->state_view(std::move(done));
}

void CompetitionRegistry::list(std::function<void(std::string)> done) {
  activations_->list(std::move(done));
}

void CompetitionRegistry::collect_garbage(std::int64_t now_ns, std::int64_t history_start_ns) {
  std::vector<std::unique_ptr<ConsumerHandle>> stopped;
  {
    std::lock_guard lock(mutex_);
    for (auto it = followed_.begin(); it != followed_.end();) {
      if (now_ns - it->second.last_event_ns <= options_.idle_drop_ns) {
        ++it;
        continue;
      }
      observer_->competition_dropped(it->first);
      stopped.push_back(std::move(it->second.consumer));
      it->second.feed->reset();
      waiting_[it->first] = it->second.feed;  // its clients wait for the next activation
      it = followed_.erase(it);
    }
    if (!stopped.empty()) report_followed_locked();
  }
  // Outside the lock: stopping a consumer waits for its callback, which takes the lock.
  stopped.clear();
  activations_->expire(history_start_ns);
}

void CompetitionRegistry::rebuild() {
  std::vector<std::unique_ptr<ConsumerHandle>> stopped;
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, followed] : followed_) {
      stopped.push_back(std::move(followed.consumer));
      followed.feed->reset();
      waiting_[id] = followed.feed;
    }
    followed_.clear();
    caught_up_ = false;
    highest_sequence_ = 0;
    report_followed_locked();
  }
  stopped.clear();
}

std::uint64_t CompetitionRegistry::highest_sequence() const {
  std::lock_guard lock(mutex_);
  return highest_sequence_;
}

std::size_t CompetitionRegistry::followed_count() const {
  std::lock_guard lock(mutex_);
  return followed_.size();
}

void CompetitionRegistry::report_followed_locked() {
  observer_->competitions_followed(followed_.size());
}

}  // namespace ovalstream::aggregator
