// The competition registry without NATS: messages handed to it as the one consumer would deliver them, fake
// connections, one io_context run to completion after each step so every strand has done its work.
#include <utility>  // before Asio

#include <gtest/gtest.h>

#include <algorithm>

#include <cctype>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <mutex>
#include <thread>

#include "competition_registry.hpp"
#include "ovalstream/core/subject.hpp"
#include "support/event_builder.hpp"
#include "support/fake_connection.hpp"
#include "support/recording.hpp"
#include "support/skips.hpp"
#include "support/snapshot_property.hpp"

namespace ovalstream::aggregator {
namespace {

using testing::kCompetition;
using testing::kDistanceA;

using testing::FakeConnection;

class RecordingObserver final : public IngestObserver {
 public:
  void event_received(const core::Event&) override { ++received; }
  void event_rejected(const FeedMessage&, const std::string& reason, const std::string&) override {
    rejected.push_back(reason);
  }
  void message_consumed(const FeedMessage& message) override { last_pending = message.pending; }
  void competitions_held(std::size_t count) override { held = count; }
  void competition_held(const std::string&, std::uint64_t) override {}
  void competition_dropped(const std::string& id, const std::string& reason) override {
    dropped.push_back(id + ":" + reason);
  }
  void event_applied(const FeedMessage& message) override { applied_times.push_back(message.timestamp_ns); }
  void caught_up(std::uint64_t) override { ++caught_up_reports; }
  void feed_backpressure(const std::string&, bool drained) override {
    (drained ? backpressure_drained : backpressure_timeouts)++;
  }

  int received = 0;
  std::vector<std::int64_t> applied_times;
  std::vector<std::string> rejected;
  std::size_t held = 0;
  std::vector<std::string> dropped;
  std::uint64_t last_pending = 0;
  int caught_up_reports = 0;
  // From the consumer's thread.
  std::atomic<int> backpressure_drained{0};
  std::atomic<int> backpressure_timeouts{0};
};

// Every test runs with one fan-out lane and with three (on this test's one thread: the lanes' order, not
// their concurrency; fanout_lanes_test.cpp runs them on several threads).
class RegistryTest : public ::testing::TestWithParam<std::size_t> {
 protected:
  RegistryTest() { make_registry({}); }

  void make_registry(std::set<std::string> filter, std::size_t max_competitions = 1000) {
    RegistryOptions options;
    options.filter.insert(filter.begin(), filter.end());
    options.idle_drop_ns = 1000;
    options.max_competitions = max_competitions;
    options.fanout_lanes = GetParam();
    registry = std::make_shared<CompetitionRegistry>(io, options, std::make_shared<EventValidator>(),
                                                     observer, nullptr);
    registry->begin_catch_up(0);
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

  // Delivers events[begin, end) as the one consumer does: every level, in stream order.
  void deliver(const std::vector<core::PositionedEvent>& events, std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) registry->on_message(message(events[i]));
    settle();
  }

  std::string view_of(const std::string& id) {
    std::string view;
    registry->state_view(id, [&](std::string json) { view = std::move(json); });
    settle();
    return view;
  }

  boost::asio::io_context io;
  std::shared_ptr<RecordingObserver> observer = std::make_shared<RecordingObserver>();
  std::shared_ptr<CompetitionRegistry> registry;
};

TEST_P(RegistryTest, ReadyOnceTheConsumerReachedTheStreamsEndAsOfStart) {
  testing::EventSequence seq;
  seq.competition_activated().distance_activated(kDistanceA).competition_activated();
  registry->begin_catch_up(3);
  EXPECT_FALSE(registry->caught_up());
  registry->on_message(message(seq.events()[0], 5));
  registry->on_message(message(seq.events()[1], 4));
  EXPECT_FALSE(registry->caught_up()) << "sequence 2 of 3, more pending";
  registry->on_message(message(seq.events()[2], 2));  // published meanwhile: still pending, but at the end
  EXPECT_TRUE(registry->caught_up());
  EXPECT_EQ(observer->caught_up_reports, 2) << "once at make_registry, once here";
  EXPECT_EQ(observer->last_pending, 2u);
}

TEST_P(RegistryTest, ReadyWhenAMessageSaysNothingIsPending) {
  testing::EventSequence seq;
  seq.competition_activated();
  registry->begin_catch_up(10);  // e.g. the stream ends with messages outside competition.>
  registry->on_message(message(seq.events()[0], 0));
  EXPECT_TRUE(registry->caught_up());
}

TEST_P(RegistryTest, NothingToCatchUpOnIsReadyAtOnce) {
  registry->begin_catch_up(0);
  EXPECT_TRUE(registry->caught_up());
}

TEST_P(RegistryTest, EveryLevelOfACompetitionComesThroughOneCallInStreamOrder) {
  testing::EventSequence seq;
  seq.competition_activated()
      .add(testing::make_event_json("CompetitionNoteEvent", "", 0, "", R"("note":"before")"))
      .distance_activated(kDistanceA)
      .add(testing::make_event_json("CompetitionNoteEvent", "", 0, "", R"("note":"after")"))
      .heat_activated(kDistanceA, 1, {"r1"});
  auto client = std::make_shared<FakeConnection>();
  registry->join(kCompetition, client);
  deliver(seq.events(), 0, seq.events().size());
  const auto got = client->payloads();
  ASSERT_EQ(got.size(), seq.events().size());
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], seq.events()[i].event.raw()) << i;
  EXPECT_EQ(observer->held, 1u);
}

TEST_P(RegistryTest, ManyClientsShareOneFeed) {
  testing::EventSequence seq;
  seq.competition_activated();
  registry->on_message(message(seq.events()[0]));
  std::vector<std::shared_ptr<FakeConnection>> clients;
  for (int i = 0; i < 100; ++i) {
    clients.push_back(std::make_shared<FakeConnection>());
    registry->join(kCompetition, clients.back());
  }
  settle();
  EXPECT_EQ(registry->held_count(), 1u);
  for (const auto& client : clients) EXPECT_EQ(client->payloads().size(), 1u);
}

TEST_P(RegistryTest, LateJoinerGetsTheSnapshotThenTheLiveStreamWithoutGapOrDuplicate) {
  const auto events = testing::load_recording(testing::kRealRecordingName);
  SKIP_WITHOUT_RECORDING(events);
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

  core::CompetitionState truth = core::make_longtrack_state(id);
  testing::apply_range(truth, *events, 0, events->size());
  // The client from the start saw every event, byte for byte, in order, plus after each re-activation what
  // the state kept below the competition.
  core::CompetitionState seen = core::make_longtrack_state(id);
  core::Position arrival = 0;
  for (const std::string& payload : from_start->payloads()) {
    const auto parsed = core::parse_event(payload);
    ASSERT_TRUE(parsed.ok());
    seen.apply(*parsed, ++arrival);
  }
  EXPECT_TRUE(testing::same_view(truth, seen));
  // The late joiner: the snapshot at the cut, then exactly the events after it.
  core::CompetitionState prefix = core::make_longtrack_state(id);
  testing::apply_range(prefix, *events, 0, cut);
  const auto snapshot = prefix.snapshot();
  const auto got = late->payloads();
  ASSERT_GE(got.size(), snapshot->size() + (events->size() - cut));
  for (std::size_t i = 0; i < snapshot->size(); ++i) EXPECT_EQ(got[i], (*snapshot)[i].event.raw());
  EXPECT_EQ(got[snapshot->size()], (*events)[cut].event.raw());
  EXPECT_EQ(got.back(), events->back().event.raw());
  EXPECT_TRUE(early->payloads().empty());
}

TEST_P(RegistryTest, AReactivationResendsWhatTheStateKeptRightAfterIt) {
  testing::EventSequence seq;
  seq.competition_activated()
      .add(testing::make_event_json("CompetitionNoteEvent", "", 0, "", R"("note":"dropped")"))
      .distance_activated(kDistanceA)
      .heat_activated(kDistanceA, 1, {"r1"})
      .heat_event("HeatStartedEvent", kDistanceA, 1)
      .competition_activated()
      .race_event("RacePassingAddedEvent", kDistanceA, 1, "r1", R"("passing":{"time":1})");
  const auto& e = seq.events();
  auto live = std::make_shared<FakeConnection>();
  registry->join(kCompetition, live);
  deliver(e, 0, e.size());
  auto raw = [&](std::size_t i) { return std::string(e[i].event.raw()); };
  const std::vector<std::string> expected = {
      raw(0), raw(1), raw(2), raw(3), raw(4),
      // the re-activation, then the distance and heat it kept, then the live stream
      raw(5), raw(2), raw(3), raw(4), raw(6)};
  EXPECT_EQ(live->payloads(), expected);
  // A late joiner gets the same from the re-activation on.
  auto late = std::make_shared<FakeConnection>();
  registry->join(kCompetition, late);
  settle();
  EXPECT_EQ(late->payloads(), std::vector<std::string>(expected.begin() + 5, expected.end()));
  EXPECT_NE(view_of(kCompetition).find(kDistanceA), std::string::npos) << "the race stays on screen";
}

TEST_P(RegistryTest, AClientOfACompetitionNotYetActiveWaitsForIt) {
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

std::string upper(std::string id) {
  for (char& c : id) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return id;
}

// The original matched /v1/competitions/{id} with strings.EqualFold: an upper-case GUID finds the competition
// Vantage publishes in lower case, whether the client comes before it is active or after.
TEST_P(RegistryTest, IdsMatchCaseInsensitively) {
  const std::string shouting = upper(kCompetition);
  ASSERT_NE(shouting, kCompetition);
  auto early = std::make_shared<FakeConnection>();
  registry->join(shouting, early);
  settle();
  testing::EventSequence seq;
  seq.competition_activated().distance_activated(kDistanceA).heat_activated(kDistanceA, 1, {"r1"});
  deliver(seq.events(), 0, 3);
  ASSERT_EQ(early->payloads().size(), 3u) << "the waiting client with the upper-case id";
  EXPECT_EQ(early->payloads()[0], seq.events()[0].event.raw());
  auto late = std::make_shared<FakeConnection>();
  registry->join(shouting, late);
  settle();
  EXPECT_EQ(late->payloads(), early->payloads()) << "the late joiner's snapshot";
  EXPECT_EQ(view_of(shouting), view_of(kCompetition));
  EXPECT_NE(view_of(shouting), "null");
  EXPECT_EQ(registry->held_count(), 1u);
  // --filter too.
  make_registry({shouting});
  EXPECT_TRUE(registry->follows(kCompetition));
}

TEST_P(RegistryTest, FilteredOutCompetitionsAreNotHeld) {
  make_registry({"other"});
  testing::EventSequence seq;
  seq.competition_activated().distance_activated(kDistanceA);
  deliver(seq.events(), 0, 2);
  EXPECT_EQ(registry->held_count(), 0u);
  EXPECT_EQ(view_of(kCompetition), "null");
  EXPECT_FALSE(registry->follows(kCompetition));
  EXPECT_TRUE(registry->follows("other"));
  // It is still listed on /v1/competitions: the list is of activations.
  std::string list;
  registry->list([&](std::string json) { list = std::move(json); });
  settle();
  EXPECT_NE(list.find(kCompetition), std::string::npos);
}

TEST_P(RegistryTest, RejectedEventsAreCountedAndNotForwarded) {
  testing::EventSequence seq;
  seq.competition_activated();
  registry->on_message(message(seq.events()[0]));
  auto client = std::make_shared<FakeConnection>();
  registry->join(kCompetition, client);
  settle();
  const std::string prefix = std::string("competition.") + kCompetition;
  registry->on_message(raw_message(prefix + ".distances.x", "{not json", 5));
  registry->on_message(raw_message(prefix + ".distances.x", std::string(2 << 20, ' '), 6));
  registry->on_message(raw_message(prefix + ".distances.x",
                                   R"({"typeName":"DistanceActivatedEvent","competitionId":")" +
                                       std::string(kCompetition) + R"(","distanceId":"x","distance":7})",
                                   7));
  registry->on_message(
      raw_message(prefix + ".distances.y", testing::make_event_json("DistanceDeactivatedEvent", "x"), 8));
  settle();
  EXPECT_EQ(observer->rejected,
            (std::vector<std::string>{"not_json", "too_large", "schema", "subject_mismatch"}));
  EXPECT_EQ(client->payloads().size(), 1u) << "only the activation";
  EXPECT_EQ(registry->highest_sequence(), 8u) << "rejected messages count as read";
}

TEST_P(RegistryTest, RedeliveredEventsAreForwardedOnce) {
  testing::EventSequence seq;
  seq.competition_activated().distance_activated(kDistanceA);
  auto client = std::make_shared<FakeConnection>();
  registry->join(kCompetition, client);
  deliver(seq.events(), 0, 2);
  registry->on_message(message(seq.events()[1]));
  registry->on_message(message(seq.events()[0]));
  settle();
  EXPECT_EQ(client->payloads().size(), 2u);
}

TEST_P(RegistryTest, IdleCompetitionsAreDroppedAndClientsWait) {
  testing::EventSequence seq;
  seq.competition_activated().distance_activated(kDistanceA).competition_activated();
  auto client = std::make_shared<FakeConnection>();
  registry->join(kCompetition, client);
  deliver(seq.events(), 0, 2);
  registry->collect_garbage(/*now_ns=*/100 + 999, 0);
  settle();
  EXPECT_EQ(registry->held_count(), 1u) << "not idle long enough";
  registry->collect_garbage(/*now_ns=*/100 + 1001, 0);
  settle();
  EXPECT_EQ(registry->held_count(), 0u);
  EXPECT_EQ(observer->dropped, (std::vector<std::string>{std::string(kCompetition) + ":idle"}));
  EXPECT_EQ(observer->held, 0u);
  EXPECT_EQ(view_of(kCompetition), "null");
  // Activated again: held again, and the waiting client gets it.
  registry->on_message(message(seq.events()[2]));
  settle();
  EXPECT_EQ(registry->held_count(), 1u);
  EXPECT_EQ(client->payloads().size(), 3u);
}

TEST_P(RegistryTest, PastMaxCompetitionsTheLeastRecentlyActiveOneGoes) {
  make_registry({}, 2);
  auto activation = [&](const std::string& id, std::uint64_t sequence, std::int64_t time_ns) {
    testing::EventSequence seq(id);
    seq.competition_activated();
    registry->on_message(message(core::PositionedEvent{sequence, seq.events()[0].event}, 0, time_ns));
  };
  activation("a", 1, 100);
  activation("b", 2, 200);
  activation("a", 3, 300);  // a is active again: b is now the least recently active
  activation("c", 4, 400);
  settle();
  ASSERT_TRUE(observer->rejected.empty()) << observer->rejected.front();
  EXPECT_EQ(registry->held_count(), 2u);
  EXPECT_EQ(observer->dropped, (std::vector<std::string>{"b:limit"}));
  EXPECT_EQ(view_of("b"), "null");
  EXPECT_NE(view_of("a"), "null");
  EXPECT_NE(view_of("c"), "null");
}

// What the metrics read when scraped (ovalstream_competition_clients, ..._last_event_timestamp_seconds,
// ovalstream_feed_inbox_max_events): one entry per competition held, gone with the competition.
TEST_P(RegistryTest, HeldCompetitionsReportClientsLastEventAndInboxAndGoWhenDropped) {
  make_registry({}, 2);
  auto activation = [&](const std::string& id, std::uint64_t sequence, std::int64_t time_ns) {
    testing::EventSequence seq(id);
    seq.competition_activated();
    registry->on_message(message(core::PositionedEvent{sequence, seq.events()[0].event}, 0, time_ns));
  };
  auto first = std::make_shared<FakeConnection>(), second = std::make_shared<FakeConnection>();
  registry->join("a", first);
  registry->join("a", second);
  registry->join("waiting", std::make_shared<FakeConnection>());  // not held: no series
  activation("a", 1, 100);
  activation("b", 2, 200);
  // Queued, not yet applied: the inbox holds it until the strand runs.
  EXPECT_EQ(registry->held_competitions().size(), 2u);
  std::size_t queued = 0;
  for (const auto& held : registry->held_competitions()) queued += held.inbox_events;
  EXPECT_EQ(queued, 2u);
  settle();

  auto held = registry->held_competitions();
  ASSERT_EQ(held.size(), 2u);
  std::sort(held.begin(), held.end(),
            [](const auto& x, const auto& y) { return x.competition_id < y.competition_id; });
  EXPECT_EQ(held[0].competition_id, "a");
  EXPECT_EQ(held[0].clients, 2u);
  EXPECT_EQ(held[0].last_event_ns, 100);
  EXPECT_EQ(held[0].inbox_events, 0u);
  EXPECT_EQ(held[1].competition_id, "b");
  EXPECT_EQ(held[1].clients, 0u);
  EXPECT_EQ(held[1].last_event_ns, 200);
  EXPECT_EQ(observer->applied_times, (std::vector<std::int64_t>{100, 200}));

  registry->leave("a", first);
  settle();
  activation("c", 3, 300);  // a is the least recently active: dropped
  settle();
  held = registry->held_competitions();
  ASSERT_EQ(held.size(), 2u);
  for (const auto& competition : held) EXPECT_NE(competition.competition_id, "a");
}

TEST_P(RegistryTest, RejectedOrFilteredEventsAreNotApplied) {
  make_registry({"a"});
  testing::EventSequence seq("b");
  seq.competition_activated();
  registry->on_message(message(seq.events()[0], 0, 500));  // filtered out
  registry->on_message(raw_message("competition.a", "not json", 2));
  settle();
  EXPECT_TRUE(observer->applied_times.empty());
  EXPECT_TRUE(registry->held_competitions().empty());
}

TEST_P(RegistryTest, RebuildForgetsEveryStateAndClientsGetTheCompetitionAfresh) {
  testing::EventSequence seq;
  seq.competition_activated();
  auto client = std::make_shared<FakeConnection>();
  registry->join(kCompetition, client);
  deliver(seq.events(), 0, 1);
  registry->rebuild();
  registry->begin_catch_up(1);
  settle();
  EXPECT_FALSE(registry->caught_up());
  EXPECT_EQ(registry->highest_sequence(), 0u);
  EXPECT_EQ(view_of(kCompetition), "null");
  // The stream is read again from the start: the client gets the competition afresh.
  registry->on_message(message(seq.events()[0], 0));
  settle();
  EXPECT_TRUE(registry->caught_up());
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

TEST_P(RegistryTest, EventsThatArriveWhileTheFeedIsBusyReachEachClientInOneSend) {
  const testing::EventSequence seq = heat_with_live_events(10);
  auto first = std::make_shared<FakeConnection>();
  auto second = std::make_shared<FakeConnection>();
  registry->join(kCompetition, first);
  registry->join(kCompetition, second);
  for (std::size_t i = 0; i < 3; ++i) deliver(seq.events(), i, i + 1);
  ASSERT_EQ(first->send_calls(), 3u) << "one event at a time while the feed keeps up";
  // Ten events arrive before the feed's strand runs (it is busy elsewhere): one send each, not ten.
  for (std::size_t i = 3; i < seq.events().size(); ++i) registry->on_message(message(seq.events()[i]));
  settle();
  ASSERT_TRUE(observer->rejected.empty()) << observer->rejected.front();
  for (const auto& client : {first, second}) {
    EXPECT_EQ(client->send_calls(), 4u);
    ASSERT_EQ(client->payloads().size(), seq.events().size());
    for (std::size_t i = 0; i < seq.events().size(); ++i)
      EXPECT_EQ(client->payloads()[i], seq.events()[i].event.raw());
  }
}

TEST_P(RegistryTest, ARebuildForgetsOnlyWhatCameBeforeIt) {
  testing::EventSequence seq;
  seq.competition_activated();
  auto client = std::make_shared<FakeConnection>();
  registry->join(kCompetition, client);
  settle();
  // The activation, the rebuild and the replayed activation all reach the feed before its strand runs.
  registry->on_message(message(seq.events()[0]));
  registry->rebuild();
  registry->on_message(message(seq.events()[0], 0));
  settle();
  EXPECT_NE(view_of(kCompetition), "null")
      << "the replayed activation was forgotten by the reset queued before it";
  EXPECT_EQ(client->payloads().size(), 2u);
}

TEST_P(RegistryTest, AFullFeedHoldsBackItsConsumerUntilItDrains) {
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
      registry->on_message(message(seq.events()[i]));
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

INSTANTIATE_TEST_SUITE_P(Lanes, RegistryTest, ::testing::Values(std::size_t{1}, std::size_t{3}));

}  // namespace
}  // namespace ovalstream::aggregator
