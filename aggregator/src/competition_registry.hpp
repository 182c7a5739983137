#pragma once
// Routes validated events to competition feeds, decides which competitions to follow, and starts one
// JetStream consumer per followed competition (never one per client). NATS specifics stay behind
// ConsumerFactory, so the routing is tested without a server.
// Thread safety: every public member may be called from any thread (a mutex guards the map of feeds;
// per-competition work runs on each feed's strand).

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "activation_feed.hpp"
#include "competition_feed.hpp"
#include "event_validator.hpp"
#include "feed_message.hpp"

namespace ovalstream::aggregator {

// A running consumer; destroying it stops it (no callback runs after the destructor returns).
class ConsumerHandle {
 public:
  virtual ~ConsumerHandle() = default;
};

class ConsumerFactory {
 public:
  virtual ~ConsumerFactory() = default;
  // An ordered consumer on `filter_subject` from stream sequence `start_sequence`; messages are delivered
  // in stream order to `on_message`, on any thread. nullptr when it cannot be started (the caller retries).
  virtual std::unique_ptr<ConsumerHandle> start(const std::string& filter_subject,
                                                std::uint64_t start_sequence,
                                                std::function<void(FeedMessage)> on_message) = 0;
};

// What the registry reports, for metrics and logs. Called from any thread; must be thread-safe.
class IngestObserver {
 public:
  virtual ~IngestObserver() = default;
  virtual void event_received(const core::Event& event) = 0;
  virtual void event_rejected(const FeedMessage& message, const std::string& reason,
                              const std::string& detail) = 0;
  virtual void competitions_followed(std::size_t count) = 0;
  virtual void competition_followed(const std::string& competition_id, std::uint64_t from_sequence) = 0;
  virtual void competition_dropped(const std::string& competition_id) = 0;
  virtual void consumer_start_failed(const std::string& filter_subject) = 0;
  // A consumer's thread found the competition's feed over its inbox limit and waited for it (up to
  // kFeedBackpressureWait); `drained`: whether the feed made room in that time.
  virtual void feed_backpressure(const std::string& competition_id, bool drained) = 0;
};

// How long a consumer's thread waits for a competition's feed that is over its inbox limit before it
// delivers the next event anyway. Bounded, so that no shutdown or rebuild can wait on it for long.
inline constexpr std::chrono::milliseconds kFeedBackpressureWait{1000};

struct RegistryOptions {
  std::set<std::string> filter;  // competition ids to follow; empty = all
  std::int64_t idle_drop_ns =
      24LL * 3600 * 1'000'000'000;  // drop a competition this long after its last event
};

class CompetitionRegistry : public std::enable_shared_from_this<CompetitionRegistry> {
 public:
  CompetitionRegistry(boost::asio::io_context& io, RegistryOptions options,
                      std::shared_ptr<ConsumerFactory> consumers, std::shared_ptr<EventValidator> validator,
                      std::shared_ptr<IngestObserver> observer, std::shared_ptr<FeedObserver> feed_observer);
  ~CompetitionRegistry();

  // A message from the consumer on `competition.*`: activations and competition-level events.
  void on_top_level_message(FeedMessage message);
  // True once the top-level consumer delivered everything that was pending when it started.
  bool caught_up() const;
  // For a top-level consumer that started with nothing pending (no message will say pending == 0).
  void mark_caught_up();
  // Starts the consumers that could not be started before (NATS was down).
  void retry_failed_consumers();

  // Websocket clients.
  bool follows(const std::string& competition_id) const;  // would follow it (passes --filter)
  void join(const std::string& competition_id, std::shared_ptr<hub::Connection> connection);
  void leave(const std::string& competition_id, const std::shared_ptr<hub::Connection>& connection);
  void join_activations(std::shared_ptr<hub::Connection> connection);
  void leave_activations(const std::shared_ptr<hub::Connection>& connection);

  // Plain GETs: the competition's JSON state view ("null" if unknown), the list of competitions.
  void state_view(const std::string& competition_id, std::function<void(std::string)> done);
  void list(std::function<void(std::string)> done);

  // Drops competitions idle for longer than idle_drop_ns and activations older than `history_start_ns`.
  void collect_garbage(std::int64_t now_ns, std::int64_t history_start_ns);

  // Forgets every state and consumer and follows again from the latest activations (after the stream was
  // recreated or purged under us). Clients stay and receive each competition afresh.
  void rebuild();
  // The highest stream sequence applied so far (to detect a stream that went backwards).
  std::uint64_t highest_sequence() const;

  std::size_t followed_count() const;

 private:
  struct Followed {
    std::shared_ptr<CompetitionFeed> feed;
    std::unique_ptr<ConsumerHandle> consumer;
    core::Position activation_position = 0;
    std::int64_t last_event_ns = 0;
  };

  std::optional<core::Event> validate(const FeedMessage& message);
  void on_competition_message(const std::string& competition_id, FeedMessage message);
  // Caller holds mutex_.
  std::shared_ptr<CompetitionFeed> feed_locked(const std::string& competition_id);
  void start_consumer_locked(const std::string& competition_id, Followed& followed);
  // Hands a top-level message's event to its feed; returns the feed when it is over its inbox limit.
  std::shared_ptr<CompetitionFeed> deliver_top_level_locked(const FeedMessage& message,
                                                            const std::optional<core::Event>& event);
  // Without the lock: waits for a feed over its inbox limit (if any), and reports it.
  void wait_for_feed(const std::shared_ptr<CompetitionFeed>& feed);
  void report_followed_locked();

  boost::asio::io_context& io_;
  RegistryOptions options_;
  std::shared_ptr<ConsumerFactory> consumers_;
  std::shared_ptr<EventValidator> validator_;
  std::shared_ptr<IngestObserver> observer_;
  std::shared_ptr<FeedObserver> feed_observer_;
  std::shared_ptr<ActivationFeed> activations_;

  mutable std::mutex mutex_;
  bool caught_up_ = false;
  std::uint64_t highest_sequence_ = 0;
  std::map<std::string, Followed> followed_;
  // Feeds with clients but no followed competition (not yet active, dropped, or filtered out).
  std::map<std::string, std::shared_ptr<CompetitionFeed>> waiting_;
};

}  // namespace ovalstream::aggregator
