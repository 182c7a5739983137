// Fan-out lanes (CompetitionFeed): with several lanes on several io threads, while the consumer's thread
// delivers a whole competition and clients join at random moments, every client receives its snapshot and
// then every later frame, once, in stream order (no gap, no repeat), and no two lanes ever send to one
// connection (a connection whose frames crossed lanes could see them reordered).
#include <utility>  // before Asio

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "aggregator/support/control_frames.hpp"
#include "aggregator/support/quiet_observer.hpp"
#include "competition_registry.hpp"
#include "config.hpp"
#include "ovalstream/core/subject.hpp"
#include "support/event_builder.hpp"
#include "support/recording.hpp"
#include "support/skips.hpp"

namespace ovalstream::aggregator {
namespace {

// Records what it is sent, and whether two threads ever sent to it at the same time (two lanes would).
// Sometimes yields inside send(), so that a second sender, if there were one, would overlap.
class CheckingConnection final : public hub::Connection {
 public:
  explicit CheckingConnection(std::uint64_t id) : id_(id) {}
  bool send(std::span<const hub::Frame> frames) override {
    if (in_send_.exchange(true)) overlapping_sends_.fetch_add(1);
    {
      std::lock_guard lock(mutex_);
      for (const hub::Frame& frame : frames) payloads_.push_back(*frame.payload);
    }
    if ((id_ + payload_count()) % 3 == 0) std::this_thread::yield();
    in_send_.store(false);
    return true;
  }
  void close(std::uint16_t, std::string_view) override {}
  bool is_open() const override { return true; }
  std::uint64_t id() const override { return id_; }

  std::vector<std::string> payloads() const {
    std::lock_guard lock(mutex_);
    return payloads_;
  }
  int overlapping_sends() const { return overlapping_sends_.load(); }

 private:
  std::size_t payload_count() const {
    std::lock_guard lock(mutex_);
    return payloads_.size();
  }
  const std::uint64_t id_;
  std::atomic<bool> in_send_{false};
  std::atomic<int> overlapping_sends_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> payloads_;
};

// A hash of a sequence of frames that composes: H(a ++ b) = H(a) * kBase^|b| + H(b) (mod 2^64).
constexpr std::uint64_t kBase = 0x100000001b3ULL;
std::uint64_t element_hash(std::string_view bytes) {
  return std::hash<std::string_view>{}(bytes) | 1;
}
std::uint64_t power(std::uint64_t base, std::size_t exponent) {
  std::uint64_t result = 1;
  for (; exponent != 0; exponent >>= 1, base *= base) {
    if (exponent & 1) result *= base;
  }
  return result;
}
struct SequenceHash {
  std::size_t length = 0;
  std::uint64_t hash = 0;
  void append(std::string_view bytes) {
    hash = hash * kBase + element_hash(bytes);
    ++length;
  }
  bool operator<(const SequenceHash& other) const {
    return std::tie(length, hash) < std::tie(other.length, other.hash);
  }
};
SequenceHash concat(const SequenceHash& a, const SequenceHash& b) {
  return {a.length + b.length, a.hash * power(kBase, b.length) + b.hash};
}

// What a client that joined after the first k events may receive, for every k: the snapshot after k, then
// the frames the feed forwards for each later event (an event, or an activation and what the state kept
// after it), as (length, hash) of the whole sequence.
std::set<SequenceHash> every_join_point(const std::vector<core::PositionedEvent>& events) {
  const std::string id = events.front().event.header.competition_id;
  core::CompetitionState truth = core::make_longtrack_state(id);
  std::vector<std::vector<core::EventBytes>> forwarded(events.size());
  std::vector<SequenceHash> snapshots(events.size() + 1);  // snapshots[k]: after the first k
  for (std::size_t i = 0; i < events.size(); ++i) {
    const core::ApplyResult result = truth.apply(events[i].event, events[i].position);
    if (result != core::ApplyResult::kDuplicate && result != core::ApplyResult::kWrongCompetition) {
      forwarded[i] = core::frames_for(truth, events[i].event, result);
    }
    for (const core::PositionedEvent& item : *truth.snapshot()) snapshots[i + 1].append(item.event.raw());
  }
  std::set<SequenceHash> expected;
  SequenceHash rest;  // the frames forwarded for events k..end
  for (std::size_t k = events.size() + 1; k-- > 0;) {
    expected.insert(concat(snapshots[k], rest));
    if (k == 0) break;
    SequenceHash frames;
    for (const core::EventBytes& payload : forwarded[k - 1]) frames.append(*payload);
    rest = concat(frames, rest);
  }
  return expected;
}

// Enough joins to land in batches of every kind; each joiner's snapshot costs the check a copy.
constexpr std::size_t kMaxJoins = 250;

void check_concurrent_joins(const std::vector<core::PositionedEvent>& events, std::size_t lanes,
                            unsigned io_threads, unsigned seed) {
  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < io_threads; ++i) threads.emplace_back([&] { io.run(); });
  RegistryOptions options;
  options.fanout_lanes = lanes;
  auto registry = std::make_shared<CompetitionRegistry>(io, options, std::make_shared<EventValidator>(),
                                                        std::make_shared<QuietObserver>(), nullptr);
  registry->begin_catch_up(0, "e", 0);
  const std::string id = events.front().event.header.competition_id;

  // The consumer's thread delivers every event in stream order, now and then pausing so that batches of
  // every size form.
  std::atomic<bool> delivered{false};
  std::thread consumer([&] {
    std::mt19937 random(seed);
    for (const core::PositionedEvent& event : events) {
      const auto subject = core::subject_for(event.event.header, 0);
      registry->on_message(FeedMessage{*subject, event.event.bytes, event.position, 1, 0});
      if (random() % 64 == 0) std::this_thread::sleep_for(std::chrono::microseconds(random() % 300));
    }
    delivered = true;
  });
  // Meanwhile clients join at random moments, with and without positions.
  std::mt19937 random(seed * 31 + 7);
  std::vector<std::shared_ptr<CheckingConnection>> plain;
  std::vector<std::shared_ptr<CheckingConnection>> positioned;
  std::uint64_t next_id = 1;
  while (!delivered && plain.size() + positioned.size() < kMaxJoins) {
    const bool positions = random() % 3 == 0;
    auto connection = std::make_shared<CheckingConnection>(next_id++);
    ResumeRequest request;
    request.positions = positions;
    registry->join(id, connection, request);
    (positions ? positioned : plain).push_back(std::move(connection));
    std::this_thread::sleep_for(std::chrono::microseconds(random() % 200));
  }
  consumer.join();
  work.reset();
  for (auto& thread : threads) thread.join();  // every strand has run everything handed to it

  const std::set<SequenceHash> expected = every_join_point(events);
  std::size_t index = 0;
  for (const auto& connection : plain) {
    SequenceHash got;
    for (const std::string& payload : connection->payloads()) got.append(payload);
    EXPECT_TRUE(expected.contains(got))
        << "plain client " << index << " (lanes " << lanes << ", seed " << seed << ", " << got.length
        << " frames): not a snapshot followed by every later frame once, in order";
    EXPECT_EQ(connection->overlapping_sends(), 0) << "two lanes sent to plain client " << index;
    ++index;
  }
  index = 0;
  for (const auto& connection : positioned) {
    const std::vector<std::string> payloads = connection->payloads();
    SequenceHash got;
    for (const std::string& payload : itest::events_only(payloads)) got.append(payload);
    EXPECT_TRUE(expected.contains(got)) << "positions client " << index << " (lanes " << lanes << ", seed "
                                        << seed << "): not a snapshot followed by every later frame once";
    // The live frame after the snapshot, then a position frame per batch: positions never go back.
    core::Position last = 0;
    for (const std::string& payload : payloads) {
      const auto control = core::parse_control_frame(payload);
      if (!control || control->kind == core::ControlFrame::Kind::kReset) continue;
      EXPECT_GE(control->position, last) << "positions client " << index;
      last = control->position;
    }
    EXPECT_EQ(last, events.back().position) << "positions client " << index << " missed the last batch";
    EXPECT_EQ(connection->overlapping_sends(), 0) << "two lanes sent to positions client " << index;
    ++index;
  }
  EXPECT_GE(plain.size() + positioned.size(), 10u) << "too few joins to exercise the join";
  ::testing::Test::RecordProperty("joins_lanes_" + std::to_string(lanes) + "_seed_" + std::to_string(seed),
                                  static_cast<int>(plain.size() + positioned.size()));
}

std::vector<core::PositionedEvent> simulated_competition() {
  auto events =
      testing::load_recording_file(std::string(OVALSTREAM_SOURCE_DIR) + "/examples/competition.jsonl");
  EXPECT_TRUE(events) << "examples/competition.jsonl is part of the repository";
  return events ? std::move(*events) : std::vector<core::PositionedEvent>{};
}

TEST(FanoutLanes, ConcurrentJoinersGetTheirSnapshotThenEveryLaterFrameOnceWithThreeLanesOnTwoThreads) {
  const auto events = simulated_competition();
  ASSERT_FALSE(events.empty());
  for (unsigned seed = 1; seed <= 3; ++seed) check_concurrent_joins(events, 3, 2, seed);
}

TEST(FanoutLanes, OneLaneIsTheFeedsOwnStrand) {
  const auto events = simulated_competition();
  ASSERT_FALSE(events.empty());
  check_concurrent_joins(events, 1, 2, 11);
}

TEST(FanoutLanes, RealRecordingWithTwoLanes) {
  const auto events = testing::load_recording(testing::kRealRecordingName);
  SKIP_WITHOUT_RECORDING(events);
  check_concurrent_joins(*events, 2, 2, 5);
}

// Counts the consumer's waits for a full feed.
class BackpressureObserver final : public QuietObserver {
 public:
  void feed_backpressure(const std::string&, bool drained) override {
    {
      std::lock_guard lock(mutex_);
      report_times_.push_back(std::chrono::steady_clock::now());
    }
    (drained ? drained_ : timeouts_)++;
  }
  // When the first wait that ended at or after `time` ended.
  std::optional<std::chrono::steady_clock::time_point> first_report_after(
      std::chrono::steady_clock::time_point time) {
    std::lock_guard lock(mutex_);
    for (const auto report : report_times_) {
      if (report >= time) return report;
    }
    return std::nullopt;
  }
  std::mutex mutex_;
  std::vector<std::chrono::steady_clock::time_point> report_times_;
  std::atomic<int> drained_{0};
  std::atomic<int> timeouts_{0};
};

// A connection whose send() blocks while the test holds it, as a lane stuck in a long write would.
class BlockingConnection final : public hub::Connection {
 public:
  bool send(std::span<const hub::Frame> frames) override {
    std::unique_lock lock(mutex_);
    ++sends_;
    entered_.notify_all();
    released_.wait(lock, [&] { return !held_; });
    for (const hub::Frame& frame : frames) payloads_.push_back(*frame.payload);
    return true;
  }
  void close(std::uint16_t, std::string_view) override {}
  bool is_open() const override { return true; }
  std::uint64_t id() const override { return 7; }
  void hold() {
    std::lock_guard lock(mutex_);
    held_ = true;
  }
  void release() {
    {
      std::lock_guard lock(mutex_);
      held_ = false;
    }
    released_.notify_all();
  }
  std::vector<std::string> payloads() const {
    std::lock_guard lock(mutex_);
    return payloads_;
  }
  std::size_t sends() const {
    std::lock_guard lock(mutex_);
    return sends_;
  }
  // Until a send() has been entered (and, while held, is blocked), at most `timeout`.
  bool wait_for_send(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return entered_.wait_for(lock, timeout, [&] { return sends_ > 0; });
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable released_;
  std::condition_variable entered_;
  std::size_t sends_ = 0;
  bool held_ = false;
  std::vector<std::string> payloads_;
};

// The ingest's hand-over of one event to the registry.
void deliver(CompetitionRegistry& registry, const core::PositionedEvent& event) {
  const auto subject = core::subject_for(event.event.header, 0);
  registry.on_message(FeedMessage{*subject, event.event.bytes, event.position, 1, 0});
}

// A competition, a distance and a heat, then `passings` passings of its one race.
testing::EventSequence heat_with_passings(std::size_t passings) {
  testing::EventSequence seq;
  seq.competition_activated()
      .distance_activated(testing::kDistanceA)
      .heat_activated(testing::kDistanceA, 1, {"r1"});
  for (std::size_t i = 0; i < passings; ++i) {
    seq.race_event("RacePassingAddedEvent", testing::kDistanceA, 1, "r1",
                   R"("passing":{"time":)" + std::to_string(i) + "}");
  }
  return seq;
}

// A registry with 2 fan-out lanes on an io_context run by 2 threads; stop() (or the destructor) lets every
// strand finish what it was handed and joins the threads.
struct TwoLanesOnTwoThreads {
  explicit TwoLanesOnTwoThreads(std::shared_ptr<IngestObserver> observer)
      : work(boost::asio::make_work_guard(io)) {
    for (int i = 0; i < 2; ++i) threads.emplace_back([this] { io.run(); });
    RegistryOptions options;
    options.fanout_lanes = 2;
    registry = std::make_shared<CompetitionRegistry>(io, options, std::make_shared<EventValidator>(),
                                                     std::move(observer), nullptr);
    registry->begin_catch_up(0);
  }
  ~TwoLanesOnTwoThreads() { stop(); }
  void stop() {
    work.reset();
    for (auto& thread : threads) {
      if (thread.joinable()) thread.join();
    }
  }

  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work;
  std::vector<std::thread> threads;
  std::shared_ptr<CompetitionRegistry> registry;
};

// A lane behind the feed holds its batches; their events count in the feed's inbox bound, so the consumer
// waits for that lane (and is woken when it catches up) instead of the backlog growing in the lanes.
TEST(FanoutLanes, ALaneBehindHoldsBackTheConsumerAndWakesItWhenItCatchesUp) {
  auto observer = std::make_shared<BackpressureObserver>();
  TwoLanesOnTwoThreads lanes(observer);
  auto& registry = lanes.registry;
  const testing::EventSequence seq = heat_with_passings(3 * CompetitionFeed::kInboxLimit);
  // Two clients, one per lane; the first one's lane gets stuck in its send.
  auto stuck = std::make_shared<BlockingConnection>();
  auto fine = std::make_shared<CheckingConnection>(1);
  registry->join(testing::kCompetition, stuck);
  registry->join(testing::kCompetition, fine);
  stuck->hold();
  std::atomic<bool> delivered{false};
  std::thread consumer([&] {
    for (const core::PositionedEvent& event : seq.events()) deliver(*registry, event);
    delivered = true;
  });
  // The feed keeps draining its inbox into the lanes; the stuck lane's backlog fills the bound.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  auto backlog = [&] {
    const auto held = registry->held_competitions();
    return held.empty() ? std::size_t{0} : held.front().inbox_events;
  };
  while (backlog() <= CompetitionFeed::kInboxLimit && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_GT(backlog(), CompetitionFeed::kInboxLimit);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(delivered) << "the consumer went on while a lane held more than the inbox bound";
  const auto released = std::chrono::steady_clock::now();
  stuck->release();
  consumer.join();
  lanes.stop();
  EXPECT_GE(observer->drained_.load(), 1);
  EXPECT_EQ(observer->timeouts_.load(), 0);
  // Woken by the lane as it caught up, not by the end of its wait (kFeedBackpressureWait, 1 s).
  const auto woken = observer->first_report_after(released);
  ASSERT_TRUE(woken) << "the consumer did not wait for the stuck lane";
  EXPECT_LT(*woken - released, kFeedBackpressureWait / 2)
      << "the consumer was not woken when the lane caught up";
  // Nothing lost or reordered on either lane.
  for (const auto& got : {stuck->payloads(), fine->payloads()}) {
    ASSERT_EQ(got.size(), seq.events().size());
    for (std::size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], seq.events()[i].event.raw()) << i;
  }
}

// One lane unless asked: more measured slower end to end where the cores are not free (a join storm on a
// busy core took 30 times as long), see docs/benchmarks.md.
TEST(FanoutLanes, OneLaneByDefaultAndOnePerIoThreadForZero) {
  Config config;
  EXPECT_EQ(fanout_lanes(config), 1u);
  config.fanout_lanes = 0;
  EXPECT_EQ(fanout_lanes(config), io_thread_count());
  config.fanout_lanes = 3;
  EXPECT_EQ(fanout_lanes(config), 3u);
}

// A lane that falls behind (here: stuck in one client's write) finds the batches the feed handed it meanwhile
// all queued, and sends them to each client in one write, as the feed's inbox does for events: under load
// the work per event shrinks instead of every batch costing a write per client (a join storm on a busy
// core collapsed without this).
TEST(FanoutLanes, ALaneBehindSendsTheBatchesThatQueuedMeanwhileInOneWritePerClient) {
  TwoLanesOnTwoThreads lanes(std::make_shared<QuietObserver>());
  auto& registry = lanes.registry;
  constexpr std::size_t kLive = 10;
  const testing::EventSequence seq = heat_with_passings(kLive);
  auto deliver_at = [&](std::size_t index) { deliver(*registry, seq.events()[index]); };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  // The activations first, then two clients, one per lane; the first one's lane gets stuck in its next send.
  for (std::size_t i = 0; i < 3; ++i) deliver_at(i);
  auto stuck = std::make_shared<BlockingConnection>();
  auto fine = std::make_shared<CheckingConnection>(1);
  registry->join(testing::kCompetition, stuck);
  registry->join(testing::kCompetition, fine);
  while (fine->payloads().size() < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(fine->payloads().size(), 3u) << "the snapshot";
  ASSERT_TRUE(stuck->wait_for_send(std::chrono::seconds(10))) << "the snapshot";
  const std::size_t snapshot_sends = stuck->sends();
  stuck->hold();
  deliver_at(3);
  ASSERT_TRUE(stuck->wait_for_send(std::chrono::seconds(10)));
  while (stuck->sends() == snapshot_sends && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(stuck->sends(), snapshot_sends + 1) << "the first live event's send, held";
  // One event at a time, each handed out (the other lane has sent it) before the next: one batch each.
  for (std::size_t i = 4; i < seq.events().size(); ++i) {
    deliver_at(i);
    while (fine->payloads().size() < i + 1 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_EQ(fine->payloads().size(), i + 1);
  }
  stuck->release();
  while (stuck->payloads().size() < seq.events().size() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  lanes.stop();
  EXPECT_EQ(stuck->sends(), snapshot_sends + 2)
      << "the " << kLive - 1 << " batches queued behind the held send went out in one send";
  for (const auto& got : {stuck->payloads(), fine->payloads()}) {
    ASSERT_EQ(got.size(), seq.events().size());
    for (std::size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], seq.events()[i].event.raw()) << i;
  }
}

}  // namespace
}  // namespace ovalstream::aggregator
