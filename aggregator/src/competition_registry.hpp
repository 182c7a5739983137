#pragma once
// Routes the events of the one JetStream consumer (`competition.>`, in stream order) to competition feeds
// and decides which competitions are held. Every competition's state is folded in that one order, so every
// client of a competition receives its frames in stream order. The registry never waits on NATS: the
// service owns the consumer and calls on_message() from its thread.
// Thread safety: every public member may be called from any thread (a mutex guards the maps of feeds and is
// never held while waiting; per-competition work runs on each feed's strand).

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "activation_feed.hpp"
#include "competition_feed.hpp"
#include "event_validator.hpp"
#include "feed_message.hpp"
#include "ovalstream/core/competition_id.hpp"
#include "ovalstream/runtime/mutex.hpp"

namespace ovalstream::aggregator {

// What the registry reports, for metrics and logs. Called from any thread; must be thread-safe.
class IngestObserver {
 public:
  virtual ~IngestObserver() = default;
  virtual void event_received(const core::Event& event) = 0;
  virtual void event_rejected(const FeedMessage& message, const std::string& reason,
                              const std::string& detail) = 0;
  // Every message the consumer delivered, valid or not: its stream position, stored time and the messages
  // still pending behind it (the consumer's lag).
  virtual void message_consumed(const FeedMessage& message) = 0;
  // A valid event handed to the feed of a competition held (one --filter follows), after message_consumed.
  virtual void event_applied(const FeedMessage& message) { (void)message; }
  virtual void competitions_held(std::size_t count) = 0;
  virtual void competition_held(const std::string& competition_id, std::uint64_t from_sequence) = 0;
  // `reason`: "idle" (no event for idle_drop_ns) or "limit" (max_competitions reached, the least recently
  // active one goes).
  virtual void competition_dropped(const std::string& competition_id, const std::string& reason) = 0;
  // The consumer reached the stream's end as it was when the consumer started.
  virtual void caught_up(std::uint64_t sequence) = 0;
  // The consumer's thread found the competition's feed over its inbox limit and waited for it (up to
  // kFeedBackpressureWait); `drained`: whether the feed made room in that time.
  virtual void feed_backpressure(const std::string& competition_id, bool drained) = 0;
};

// How long the consumer's thread waits for a competition's feed that is over its inbox limit before it
// delivers the next event anyway. Bounded, so that no shutdown or rebuild can wait on it for long.
inline constexpr std::chrono::milliseconds kFeedBackpressureWait{1000};

struct RegistryOptions {
  // Competition ids to hold (matched like every id here: ASCII case-insensitively); empty = all.
  std::set<std::string, core::CompetitionIdLess> filter;
  std::int64_t idle_drop_ns =
      24LL * 3600 * 1'000'000'000;  // drop a competition this long after its last event
  // Competitions held at most: anyone who can publish can invent ids, and each held competition costs
  // memory. Past it the least recently active competition is dropped (counted).
  std::size_t max_competitions = 1000;
  core::ResumeLimits resume_limits;  // per competition (--resume-window, --resume-window-bytes)
  // How long a resume at a position not read yet waits for it (CompetitionFeed::kResumeCatchUpWait).
  std::chrono::milliseconds resume_catch_up_wait = CompetitionFeed::kResumeCatchUpWait;
  // Fan-out lanes per competition (CompetitionFeed): 1 sends to every client of a competition on its one
  // strand; the service uses one per io thread (--fanout-lanes).
  std::size_t fanout_lanes = 1;
};

class CompetitionRegistry : public std::enable_shared_from_this<CompetitionRegistry> {
 public:
  CompetitionRegistry(boost::asio::io_context& io, RegistryOptions options,
                      std::shared_ptr<EventValidator> validator, std::shared_ptr<IngestObserver> observer,
                      std::shared_ptr<FeedObserver> feed_observer);

  // A message of the one consumer, in stream order. May block up to kFeedBackpressureWait (without the
  // lock) when its competition's feed is full: that holds the backlog upstream, in nats.c's bounded queue.
  void on_message(FeedMessage message);

  // The consumer (re)starts: ready once it delivered `last_sequence` (the stream's last sequence when it
  // started) or said nothing is pending behind a message; 0 = nothing to catch up on. `epoch` names the
  // stream for positions (its creation time); `floor`: every event after it will be delivered (the
  // consumer may also deliver some at or before it: the first delivered lowers it).
  void begin_catch_up(std::uint64_t last_sequence, std::string epoch = "", std::uint64_t floor = 0);
  // True once the consumer caught up (see begin_catch_up).
  bool caught_up() const;

  // Websocket clients.
  bool follows(const std::string& competition_id) const;  // would hold it (passes --filter)
  void join(const std::string& competition_id, std::shared_ptr<hub::Connection> connection,
            ResumeRequest request = {});
  void leave(const std::string& competition_id, const std::shared_ptr<hub::Connection>& connection);
  // `scope`: the competitions the connection may see; null = every one.
  void join_activations(std::shared_ptr<hub::Connection> connection,
                        std::shared_ptr<const auth::CompetitionScope> scope = nullptr);
  void leave_activations(const std::shared_ptr<hub::Connection>& connection);

  // Plain GETs: the competition's JSON state view ("null" if unknown), the list of competitions (those
  // `scope` covers; null = every one).
  void state_view(const std::string& competition_id, std::function<void(std::string)> done);
  void list(std::function<void(std::string)> done,
            std::shared_ptr<const auth::CompetitionScope> scope = nullptr);

  // Drops competitions idle for longer than idle_drop_ns and activations older than `history_start_ns`.
  void collect_garbage(std::int64_t now_ns, std::int64_t history_start_ns);

  // Forgets every state, before the consumer reads the stream again (it was recreated or purged under us).
  // Clients stay and receive each competition afresh.
  void rebuild();
  // The highest stream sequence delivered so far (to detect a stream that went backwards).
  std::uint64_t highest_sequence() const;

  std::size_t held_count() const;

  // The competitions held now, for metrics: O(competitions held), each feed's inbox locked in turn.
  struct HeldCompetition {
    std::string competition_id;
    std::int64_t last_event_ns = 0;  // when JetStream stored its last event
    std::size_t clients = 0;
    std::size_t inbox_events = 0;
  };
  std::vector<HeldCompetition> held_competitions() const;

 private:
  struct Held {
    std::shared_ptr<CompetitionFeed> feed;
    std::int64_t last_event_ns = 0;
  };

  std::optional<core::Event> validate(const FeedMessage& message);
  // Hands the event to its competition's feed; returns the feed when it is over its inbox limit.
  std::shared_ptr<CompetitionFeed> deliver_locked(const FeedMessage& message, const core::Event& event)
      REQUIRES(mutex_);
  Held& hold_locked(const std::string& competition_id, std::uint64_t sequence) REQUIRES(mutex_);
  void drop_locked(std::map<std::string, Held, core::CompetitionIdLess>::iterator it,
                   const std::string& reason) REQUIRES(mutex_);
  std::shared_ptr<CompetitionFeed> feed_locked(const std::string& competition_id) REQUIRES(mutex_);
  // A waiting feed without clients is forgotten (checked on its strand).
  void forget_if_unwatched_locked(const std::string& competition_id,
                                  const std::shared_ptr<CompetitionFeed>& feed) REQUIRES(mutex_);
  // Without the lock: waits for a feed over its inbox limit (if any), and reports it.
  void wait_for_feed(const std::shared_ptr<CompetitionFeed>& feed) EXCLUDES(mutex_);

  boost::asio::io_context& io_;
  RegistryOptions options_;
  std::shared_ptr<EventValidator> validator_;
  std::shared_ptr<IngestObserver> observer_;
  std::shared_ptr<FeedObserver> feed_observer_;
  std::shared_ptr<ActivationFeed> activations_;

  mutable runtime::Mutex mutex_;
  bool caught_up_ GUARDED_BY(mutex_) = false;
  std::uint64_t catch_up_sequence_ GUARDED_BY(mutex_) = 0;
  SharedStreamContext context_ GUARDED_BY(mutex_) = std::make_shared<const StreamContext>();
  bool context_floor_final_ GUARDED_BY(mutex_) = false;  // lowered by the first message of the consumer
  std::uint64_t highest_sequence_ GUARDED_BY(mutex_) = 0;
  // Keyed by competition id, ASCII case-insensitively (core/competition_id.hpp): a client asking for an
  // upper-case GUID gets the competition Vantage publishes in lower case, as the original matched them.
  std::map<std::string, Held, core::CompetitionIdLess> held_ GUARDED_BY(mutex_);
  // Feeds with clients but no held competition (not yet active, dropped, or filtered out).
  std::map<std::string, std::shared_ptr<CompetitionFeed>, core::CompetitionIdLess> waiting_
      GUARDED_BY(mutex_);
};

}  // namespace ovalstream::aggregator
