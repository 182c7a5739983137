// The competition registry without NATS: a fake consumer factory and fake connections, one io_context run
// to completion after each step so every strand has done its work.
#include <utility>  // before Asio

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <mutex>
#include <thread>

#include "competition_registry.hpp"
#include "ovalstream/core/subject.hpp"
#include "support/event_builder.hpp"
#include "support/fake_connection.hpp"
#include "support/recording.hpp"

namespace ovalstream::aggregator {
namespace {

using testing::kCompetition;
using testing::kDistanceA;

using testing::FakeConnection;

struct StartedConsumer {
  std::string filter;
  std::uint64_t start_sequence = 0;
  std::function<void(FeedMessage)> deliver;
  std::shared_ptr<bool> alive;
};

class FakeConsumers final : public ConsumerFactory {
 public:
  class Handle final : public ConsumerHandle {
   public:
    explicit Handle(std::shared_ptr<bool> alive) : alive_(std::move(alive)) {}
    ~Handle() override { *alive_ = false; }

   private:
    std::shared_ptr<bool> alive_;
  };

  std::unique_ptr<ConsumerHandle> start(const std::string& filter, std::uint64_t start_sequence,
                                        std::function<void(FeedMessage)> on_message) override {
    if (fail_next) {
      fail_next = false;
      return nullptr;
    }
    auto alive = std::make_shared<bool>(true);
    started.push_back({filter, start_sequence, std::move(on_message), alive});
    return std::make_unique<Handle>(alive);
  }

  bool fail_next = false;
  std::vector<StartedConsumer> started;
};

class RecordingObserver final : public IngestObserver {
 public:
  void event_received(const core::Event&) override { ++received; }
  void event_rejected(const FeedMessage&, const std::string& reason, const std::string&) override {
    rejected.push_back(reason);
  }
  void competitions_followed(std::size_t count) override { followed = count; }
  void competition_followed(const std::string&, std::uint64_t) override {}
  void competition_dropped(const std::string& id) override { dropped.push_back(id); }
  void consumer_start_failed(const std::string&) override { ++start_failures; }
  void feed_backpressure(const std::string&, bool drained) override {
    (drained ? backpressure_drained : backpressure_timeouts)++;
  }

  int received = 0;
  std::vector<std::string> rejected;
  std::size_t followed = 0;
  std::vector<std::string> dropped;
  int start_failures = 0;
  // From the consumer's thread.
  std::atomic<int> backpressure_drained{0};
  std::atomic<int> backpressure_timeouts{0};
};

class RegistryTest : public ::testing::Test {
 protected:
  RegistryTest() { make_registry({}); }

  void make_registry(std::set<std::string> filter) {
    RegistryOptions options;
    options.filter = std::move(filter);
    options.idle_drop_ns = 1000;
    registry = std::make_shared<CompetitionRegistry>(io, options, consumers,
                                                     std::make_shared<EventValidator>(), observer, nullptr);
  }

  void settle() {
    io.restart();
    io.run();
  }

  // A message as JetStream would deliver it: on the core's subject for the event.
  FeedMessage message(const core::PositionedEvent& event, std::uint64_t pending = 0,
                      std::int64_t time_ns = 100) {
    const auto subject = core::subject_for(event.event.header, 0);
    return FeedMessage{*subject, event.event.bytes, event.position, time_ns, pending};
  }

  FeedMessage raw_message(std::string subject, std::string bytes, std::uint64_t sequence) {
    return FeedMessage{std::move(subject), std::make_shared<const std::string>(std::move(bytes)), sequence,
                       100, 0};
  }

  // Delivers a sequence: top-level events to the registry, the rest to the competition's consumer.
  void deliver(const std::vector<core::PositionedEvent>& events, std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) {
      if (events[i].event.header.level() == core::Level::kCompetition) {
        registry->on_top_level_message(message(events[i]));
      } else {
        ASSERT_FALSE(consumers->started.empty());
        consumers->started.back().deliver(message(events[i]));
      }
    }
    settle();
  }

  boost::asio::io_context io;
  std::shared_ptr<FakeConsumers> consumers = std::make_shared<FakeConsumers>();
  std::shared_ptr<RecordingObserver> observer = std::make_shared<RecordingObserver>();
  std::shared_ptr<CompetitionRegistry> registry;
};

TEST_F(RegistryTest, FollowsFromTheLatestActivationOnceCaughtUp) {
  testing::EventSequence seq;
  seq.competition_activated().competition_activated().competition_activated();
  registry->on_top_level_message(message(seq.events()[0], 2));
  registry->on_top_level_message(message(seq.events()[1], 1));
  EXPECT_TRUE(consumers->started.empty()) << "no consumer while catching up";
  EXPECT_FALSE(registry->caught_up());
  registry->on_top_level_message(message(seq.events()[2], 0));
  EXPECT_TRUE(registry->caught_up());
  ASSERT_EQ(consumers->started.size(), 1u);
  EXPECT_EQ(consumers->started[0].filter, std::string("competition.") + kCompetition + ".>");
  EXPECT_EQ(consumers->started[0].start_sequence, 4u) << "from the latest activation + 1";
  EXPECT_EQ(observer->followed, 1u);
}

TEST_F(RegistryTest, ANewActivationAfterCatchingUpStartsAConsumerAtOnce) {
  registry->mark_caught_up();
  testing::EventSequence seq;
  seq.competition_activated();
  registry->on_top_level_message(message(seq.events()[0], 0));
  ASSERT_EQ(consumers->started.size(), 1u);
  EXPECT_EQ(consumers->started[0].start_sequence, 2u);
  // A re-activation of the same competition keeps its consumer: the reducer starts afresh.
  seq.competition_activated();
  registry->on_top_level_message(message(seq.events()[1], 0));
  EXPECT_EQ(consumers->started.size(), 1u);
}

TEST_F(RegistryTest, OneConsumerPerCompetitionWhateverTheClients) {
  registry->mark_caught_up();
  testing::EventSequence seq;
  seq.competition_activated();
  registry->on_top_level_message(message(seq.events()[0]));
  std::vector<std::shared_ptr<FakeConnection>> clients;
  for (int i = 0; i < 100; ++i) {
    clients.push_back(std::make_shared<FakeConnection>());
    registry->join(kCompetition, clients.back());
  }
  settle();
  EXPECT_EQ(consumers->started.size(), 1u);
  for (const auto& client : clients) EXPECT_EQ(client->payloads().size(), 1u);
}

TEST_F(RegistryTest, LateJoinerGetsTheSnapshotThenTheLiveStreamWithoutGapOrDuplicate) {
  const auto events = testing::load_recording(testing::kRealRecordingName);
  if (!events) GTEST_SKIP() << testing::missing_recording_message(testing::kRealRecordingName);
  registry->mark_caught_up();
  auto early = std::make_shared<FakeConnection>();
  registry->join(kCompetition, early);  // another competition: must see nothing
  const std::string id = events->front().event.header.competition_id;
  auto from_start = std::make_shared<FakeConnection>();
  registry->join(id, from_start);
  settle();
  const std::size_t cut = 300;
  deliver(*events, 0, cut);
  auto late = std::make_shared<FakeConnection>();
  registry->join(id, late);
  settle();
  deliver(*events, cut, events->size());

  // The client from the start saw every event, byte for byte, in order.
  ASSERT_EQ(from_start->payloads().size(), events->size());
  for (std::size_t i = 0; i < events->size(); ++i)
    EXPECT_EQ(from_start->payloads()[i], (*events)[i].event.raw());
  // The late joiner: the snapshot at the cut, then exactly the events after it.
  core::CompetitionState prefix = core::make_longtrack_state(id);
  testing::apply_range(prefix, *events, 0, cut);
  const auto snapshot = prefix.snapshot();
  const auto got = late->payloads();
  ASSERT_EQ(got.size(), snapshot->size() + (events->size() - cut));
  for (std::size_t i = 0; i < snapshot->size(); ++i) EXPECT_EQ(got[i], (*snapshot)[i].event.raw());
  for (std::size_t i = cut; i < events->size(); ++i)
    EXPECT_EQ(got[snapshot->size() + i - cut], (*events)[i].event.raw());
  EXPECT_TRUE(early->payloads().empty());
}

TEST_F(RegistryTest, AClientOfACompetitionNotYetActiveWaitsForIt) {
  registry->mark_caught_up();
  auto client = std::make_shared<FakeConnection>();
  registry->join(kCompetition, client);
  settle();
  EXPECT_TRUE(client->payloads().empty());
  testing::EventSequence seq;
  seq.competition_activated().distance_activated(kDistanceA);
  deliver(seq.events(), 0, 2);
  ASSERT_EQ(client->payloads().size(), 2u);
  EXPECT_EQ(client->payloads()[0], seq.events()[0].event.raw());
}

TEST_F(RegistryTest, FilteredOutCompetitionsAreNotFollowed) {
  make_registry({"other"});
  registry->mark_caught_up();
  testing::EventSequence seq;
  seq.competition_activated();
  registry->on_top_level_message(message(seq.events()[0]));
  EXPECT_TRUE(consumers->started.empty());
  EXPECT_FALSE(registry->follows(kCompetition));
  EXPECT_TRUE(registry->follows("other"));
  // It is still listed on /v1/competitions: the list is of activations.
  std::string list;
  registry->list([&](std::string json) { list = std::move(json); });
  settle();
  EXPECT_NE(list.find(kCompetition), std::string::npos);
}

TEST_F(RegistryTest, RejectedEventsAreCountedAndNotForwarded) {
  registry->mark_caught_up();
  testing::EventSequence seq;
  seq.competition_activated();
  registry->on_top_level_message(message(seq.events()[0]));
  auto client = std::make_shared<FakeConnection>();
  registry->join(kCompetition, client);
  settle();
  const std::string prefix = std::string("competition.") + kCompetition;
  auto& consumer = consumers->started.at(0);
  consumer.deliver(raw_message(prefix + ".distances.x", "{not json", 5));
  consumer.deliver(raw_message(prefix + ".distances.x", std::string(2 << 20, ' '), 6));
  consumer.deliver(raw_message(prefix + ".distances.x",
                               R"({"typeName":"DistanceActivatedEvent","competitionId":")" +
                                   std::string(kCompetition) + R"(","distanceId":"x","distance":7})",
                               7));
  consumer.deliver(
      raw_message(prefix + ".distances.y", testing::make_event_json("DistanceDeactivatedEvent", "x"), 8));
  settle();
  EXPECT_EQ(observer->rejected,
            (std::vector<std::string>{"not_json", "too_large", "schema", "subject_mismatch"}));
  EXPECT_EQ(client->payloads().size(), 1u) << "only the activation";
}

TEST_F(RegistryTest, RedeliveredEventsAreForwardedOnce) {
  registry->mark_caught_up();
  testing::EventSequence seq;
  seq.competition_activated().distance_activated(kDistanceA);
  auto client = std::make_shared<FakeConnection>();
  registry->join(kCompetition, client);
  deliver(seq.events(), 0, 2);
  consumers->started.at(0).deliver(message(seq.events()[1]));
  settle();
  EXPECT_EQ(client->payloads().size(), 2u);
}

TEST_F(RegistryTest, IdleCompetitionsAreDroppedWithTheirConsumerAndClientsWait) {
  registry->mark_caught_up();
  testing::EventSequence seq;
  seq.competition_activated().distance_activated(kDistanceA).competition_activated();
  auto client = std::make_shared<FakeConnection>();
  registry->join(kCompetition, client);
  deliver(seq.events(), 0, 2);
  ASSERT_TRUE(*consumers->started.at(0).alive);
  registry->collect_garbage(/*now_ns=*/100 + 999, 0);
  settle();
  EXPECT_TRUE(*consumers->started.at(0).alive) << "not idle long enough";
  registry->collect_garbage(/*now_ns=*/100 + 1001, 0);
  settle();
  EXPECT_FALSE(*consumers->started.at(0).alive) << "the consumer is deleted";
  EXPECT_EQ(observer->dropped, (std::vector<std::string>{kCompetition}));
  EXPECT_EQ(observer->followed, 0u);
  std::string view;
  registry->state_view(kCompetition, [&](std::string json) { view = std::move(json); });
  settle();
  EXPECT_EQ(view, "null");
  // Activated again: followed again, and the waiting client gets it.
  registry->on_top_level_message(message(seq.events()[2]));
  settle();
  EXPECT_EQ(consumers->started.size(), 2u);
  EXPECT_EQ(client->payloads().size(), 3u);
}

TEST_F(RegistryTest, AConsumerThatCannotStartIsRetried) {
  registry->mark_caught_up();
  consumers->fail_next = true;
  testing::EventSequence seq;
  seq.competition_activated();
  registry->on_top_level_message(message(seq.events()[0]));
  EXPECT_TRUE(consumers->started.empty());
  EXPECT_EQ(observer->start_failures, 1);
  registry->retry_failed_consumers();
  EXPECT_EQ(consumers->started.size(), 1u);
}

TEST_F(RegistryTest, RebuildStopsEveryConsumerAndFollowsAgain) {
  registry->mark_caught_up();
  testing::EventSequence seq;
  seq.competition_activated();
  auto client = std::make_shared<FakeConnection>();
  registry->join(kCompetition, client);
  deliver(seq.events(), 0, 1);
  registry->rebuild();
  settle();
  EXPECT_FALSE(*consumers->started.at(0).alive);
  EXPECT_FALSE(registry->caught_up());
  EXPECT_EQ(registry->highest_sequence(), 0u);
  // The stream replays from the start: the client gets the competition afresh.
  registry->on_top_level_message(message(seq.events()[0], 0));
  settle();
  EXPECT_EQ(consumers->started.size(), 2u);
  EXPECT_EQ(client->payloads().size(), 2u);
}

// The events of one heat: its competition, distance and heat activations, then `live` race events.
testing::EventSequence heat_with_live_events(std::size_t live) {
  testing::EventSequence seq;
  seq.competition_activated().distance_activated(kDistanceA).heat_activated(kDistanceA, 1, {"r1"});
  for (std::size_t i = 0; i < live; ++i) {
    seq.race_event("LastRaceSpeedChangedEvent", kDistanceA, 1, "r1",
                   R"("passing":{"speed":)" + std::to_string(40 + i % 10) + "}");
  }
  return seq;
}

TEST_F(RegistryTest, EventsThatArriveWhileTheFeedIsBusyReachEachClientInOneSend) {
  registry->mark_caught_up();
  const testing::EventSequence seq = heat_with_live_events(10);
  auto first = std::make_shared<FakeConnection>();
  auto second = std::make_shared<FakeConnection>();
  registry->join(kCompetition, first);
  registry->join(kCompetition, second);
  for (std::size_t i = 0; i < 3; ++i) deliver(seq.events(), i, i + 1);
  ASSERT_EQ(first->send_calls(), 3u) << "one event at a time while the feed keeps up";
  // Ten events arrive before the feed's strand runs (it is busy elsewhere): one send each, not ten.
  for (std::size_t i = 3; i < seq.events().size(); ++i)
    consumers->started.at(0).deliver(message(seq.events()[i]));
  settle();
  ASSERT_TRUE(observer->rejected.empty()) << observer->rejected.front();
  for (const auto& client : {first, second}) {
    EXPECT_EQ(client->send_calls(), 4u);
    ASSERT_EQ(client->payloads().size(), seq.events().size());
    for (std::size_t i = 0; i < seq.events().size(); ++i)
      EXPECT_EQ(client->payloads()[i], seq.events()[i].event.raw());
  }
}

TEST_F(RegistryTest, ARebuildForgetsOnlyWhatCameBeforeIt) {
  registry->mark_caught_up();
  testing::EventSequence seq;
  seq.competition_activated();
  auto client = std::make_shared<FakeConnection>();
  registry->join(kCompetition, client);
  settle();
  // The activation, the rebuild and the replayed activation all reach the feed before its strand runs.
  registry->on_top_level_message(message(seq.events()[0]));
  registry->rebuild();
  registry->on_top_level_message(message(seq.events()[0], 0));
  settle();
  std::string view;
  registry->state_view(kCompetition, [&](std::string json) { view = std::move(json); });
  settle();
  EXPECT_NE(view, "null") << "the replayed activation was forgotten by the reset queued before it";
  EXPECT_EQ(client->payloads().size(), 2u);
}

TEST_F(RegistryTest, AFullFeedHoldsBackItsConsumerUntilItDrains) {
  registry->mark_caught_up();
  const std::size_t live = CompetitionFeed::kInboxLimit + 100;
  const testing::EventSequence seq = heat_with_live_events(live);
  auto client = std::make_shared<FakeConnection>();
  registry->join(kCompetition, client);
  deliver(seq.events(), 0, 3);
  // The consumer's thread delivers faster than the strand runs (not at all until the main thread runs it):
  // past the limit it must wait for the feed instead of queueing on.
  std::atomic<bool> delivered{false};
  std::thread consumer_thread([&] {
    for (std::size_t i = 3; i < seq.events().size(); ++i) {
      consumers->started.at(0).deliver(message(seq.events()[i]));
    }
    delivered = true;
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (observer->backpressure_drained + observer->backpressure_timeouts == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_GE(observer->backpressure_timeouts.load(), 1) << "the consumer did not wait while nothing drained";
  while (!delivered && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_for(std::chrono::milliseconds(10));
  }
  consumer_thread.join();
  settle();
  EXPECT_GE(observer->backpressure_drained.load() + observer->backpressure_timeouts.load(), 1);
  ASSERT_TRUE(observer->rejected.empty()) << observer->rejected.front();
  // Nothing lost, nothing reordered.
  const auto got = client->payloads();
  ASSERT_EQ(got.size(), seq.events().size());
  for (std::size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], seq.events()[i].event.raw()) << i;
  EXPECT_LT(client->send_calls(), 3 + live / 10) << "the backlog left in blocks";
}

}  // namespace
}  // namespace ovalstream::aggregator
