// Positions and resume (docs/protocol.md, "Positions and resume") through the registry and its feeds, with
// fake connections: the query, the control frames, an exact resume, the cases that fall back to a reset and
// the snapshot, and the property over the real recording and a simulated competition: clients that drop at
// random points and resume end with exactly the events of a client that never dropped, nothing missing or
// repeated, and the same view.
#include <utility>  // before Asio

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "aggregator/support/control_frames.hpp"
#include "aggregator/support/quiet_observer.hpp"
#include "competition_registry.hpp"
#include "ovalstream/core/subject.hpp"
#include "resume.hpp"
#include "support/event_builder.hpp"
#include "support/fake_connection.hpp"
#include "support/recording.hpp"
#include "support/skips.hpp"
#include "support/snapshot_property.hpp"

namespace ovalstream::aggregator {
namespace {

using namespace std::chrono_literals;

using testing::FakeConnection;
using testing::kCompetition;
using testing::kDistanceA;

using itest::events_only;

// The position of the last control frame that has one (0 when none).
core::Position last_position(const std::vector<std::string>& payloads) {
  const auto latest = itest::latest_position(payloads);
  return latest ? latest->position : 0;
}

// A client's view: its event frames folded in arrival order (control frames skipped).
core::CompetitionState fold(const std::string& id, const std::vector<std::string>& events) {
  core::CompetitionState state = core::make_longtrack_state(id);
  core::Position arrival = 0;
  for (const std::string& bytes : events) {
    auto parsed = core::parse_event(bytes);
    EXPECT_TRUE(parsed.ok()) << bytes;
    if (parsed.ok()) state.apply(*parsed, ++arrival);
  }
  return state;
}

// Counts the resumes the feeds serve (called on a feed's strand: the test's one io thread).
class ResumeCounter final : public FeedObserver {
 public:
  void snapshot_sent(std::size_t, std::size_t) override {}
  void duplicate_skipped() override {}
  void resume_served(bool exact, std::size_t) override { ++(exact ? exact_resumes : snapshot_resumes); }
  int exact_resumes = 0;
  int snapshot_resumes = 0;
};

TEST(ResumeRequest, ParsesTheQuery) {
  auto plain = std::get<ResumeRequest>(parse_resume_request("/v1/competitions/x"));
  EXPECT_FALSE(plain.positions);
  auto positions = std::get<ResumeRequest>(parse_resume_request("/v1/competitions/x?positions=1&token=abc"));
  EXPECT_TRUE(positions.positions);
  EXPECT_FALSE(positions.since);
  auto resume =
      std::get<ResumeRequest>(parse_resume_request("/v1/competitions/x?since=42&epoch=1700000000123"));
  EXPECT_TRUE(resume.positions) << "since implies positions";
  ASSERT_TRUE(resume.since);
  EXPECT_EQ(*resume.since, 42u);
  EXPECT_EQ(resume.epoch, "1700000000123");
  for (const char* bad : {"/x?since=42", "/x?epoch=1", "/x?since=-1&epoch=1", "/x?since=1x&epoch=1",
                          "/x?since=1&since=2&epoch=1", "/x?since=1&epoch=a%22b", "/x?positions=yes",
                          "/x?since=99999999999999999999999&epoch=1"}) {
    EXPECT_TRUE(std::holds_alternative<std::string>(parse_resume_request(bad))) << bad;
  }
}

// With one fan-out lane and with three.
class ResumeTest : public ::testing::TestWithParam<std::size_t> {
 protected:
  ResumeTest() { make_registry({}); }

  // A short catch-up wait: a resume ahead of what the registry read gets its reset soon.
  void make_registry(core::ResumeLimits limits, std::chrono::milliseconds catch_up_wait = 50ms) {
    RegistryOptions options;
    options.resume_limits = limits;
    options.resume_catch_up_wait = catch_up_wait;
    options.fanout_lanes = GetParam();
    resumes = std::make_shared<ResumeCounter>();
    registry = std::make_shared<CompetitionRegistry>(io, options, std::make_shared<EventValidator>(),
                                                     observer, resumes);
    registry->begin_catch_up(0, "epoch-1", 0);
  }

  void settle() {
    io.restart();
    io.run();
  }
  // Runs what is ready, not the timers (a resume waiting for its position would hold run() until its
  // deadline).
  void settle_ready() {
    io.restart();
    io.poll();
  }

  void deliver(const core::PositionedEvent& event) {
    const auto subject = core::subject_for(event.event.header, 0);
    ASSERT_TRUE(subject.has_value());
    registry->on_message(FeedMessage{*subject, event.event.bytes, event.position, 100, 0});
  }

  std::shared_ptr<FakeConnection> join(const std::string& id, const std::string& query,
                                       bool run_timers = true) {
    auto connection = std::make_shared<FakeConnection>();
    auto request = parse_resume_request("/v1/competitions/" + id + query);
    EXPECT_TRUE(std::holds_alternative<ResumeRequest>(request));
    registry->join(id, connection, std::get<ResumeRequest>(request));
    if (run_timers) {
      settle();
    } else {
      settle_ready();
    }
    return connection;
  }

  boost::asio::io_context io;
  std::shared_ptr<QuietObserver> observer = std::make_shared<QuietObserver>();
  std::shared_ptr<ResumeCounter> resumes;
  std::shared_ptr<CompetitionRegistry> registry;
};

testing::EventSequence heat(std::size_t live) {
  testing::EventSequence seq;
  seq.competition_activated().distance_activated(kDistanceA).heat_activated(kDistanceA, 1, {"r1"});
  for (std::size_t i = 0; i < live; ++i) {
    seq.race_event("RacePassingAddedEvent", kDistanceA, 1, "r1",
                   R"("passing":{"time":)" + std::to_string(i) + "}");
  }
  return seq;
}

TEST_P(ResumeTest, APositionsClientGetsALiveFrameAfterItsSnapshotAndOnePositionFramePerBatch) {
  const auto seq = heat(6);
  const auto& e = seq.events();
  for (std::size_t i = 0; i < 3; ++i) deliver(e[i]);
  settle();
  auto plain = join(kCompetition, "");
  auto client = join(kCompetition, "?positions=1");
  ASSERT_EQ(client->payloads().size(), 4u);
  EXPECT_EQ(client->payloads()[3], live_marker(3, "epoch-1"));
  deliver(e[3]);
  settle();
  deliver(e[4]);
  deliver(e[5]);
  settle();
  const std::vector<std::string> expected = {
      std::string(e[0].event.raw()), std::string(e[1].event.raw()), std::string(e[2].event.raw()),
      live_marker(3, "epoch-1"),     std::string(e[3].event.raw()), position_marker(4),
      std::string(e[4].event.raw()), std::string(e[5].event.raw()), position_marker(6)};
  EXPECT_EQ(client->payloads(), expected);
  // The original's clients see the published bytes only.
  EXPECT_EQ(plain->payloads(), events_only(expected));
}

TEST_P(ResumeTest, AResumeGetsOnlyWhatWasMissedThenLive) {
  const auto seq = heat(10);
  const auto& e = seq.events();
  for (std::size_t i = 0; i < 5; ++i) deliver(e[i]);
  settle();
  auto first = join(kCompetition, "?positions=1");
  ASSERT_EQ(last_position(first->payloads()), 5u);
  registry->leave(kCompetition, first);
  settle();
  for (std::size_t i = 5; i < 8; ++i) deliver(e[i]);
  settle();
  auto resumed = join(kCompetition, "?since=5&epoch=epoch-1");
  const std::vector<std::string> expected = {std::string(e[5].event.raw()), std::string(e[6].event.raw()),
                                             std::string(e[7].event.raw()), live_marker(8, "epoch-1")};
  EXPECT_EQ(resumed->payloads(), expected);
  // Nothing missed: at the latest position, only the live frame.
  auto current = join(kCompetition, "?since=8&epoch=epoch-1");
  EXPECT_EQ(current->payloads(), std::vector<std::string>{live_marker(8, "epoch-1")});
}

TEST_P(ResumeTest, AnotherEpochOrAPositionOutsideTheWindowGetsAResetAndTheSnapshot) {
  make_registry({.max_bytes = 200, .max_age_ns = 1'000'000'000'000});
  const auto seq = heat(10);
  const auto& e = seq.events();
  for (const auto& event : e) deliver(event);
  settle();
  core::CompetitionState truth = core::make_longtrack_state(kCompetition);
  testing::apply_range(truth, e, 0, e.size());
  std::vector<std::string> snapshot;
  for (const auto& item : *truth.snapshot()) snapshot.emplace_back(item.event.raw());
  for (const char* query : {"?since=12&epoch=epoch-0", "?since=1&epoch=epoch-1", "?since=99&epoch=epoch-1"}) {
    auto client = join(kCompetition, query);
    const auto got = client->payloads();
    ASSERT_GE(got.size(), 2u) << query;
    EXPECT_EQ(got.front(), reset_marker()) << query;
    EXPECT_EQ(got.back(), live_marker(13, "epoch-1")) << query;
    EXPECT_EQ(std::vector<std::string>(got.begin() + 1, got.end() - 1), snapshot) << query;
  }
}

// A client coming from a replica that has read further (or to a replica that restarted and is catching up)
// waits for its position instead of getting a snapshot.
TEST_P(ResumeTest, AResumeAheadOfWhatThisReplicaReadWaitsForItThenGetsOnlyWhatItMissed) {
  make_registry({}, 60s);
  const auto seq = heat(10);
  const auto& e = seq.events();
  for (std::size_t i = 0; i < 5; ++i) deliver(e[i]);
  settle();
  auto ahead = join(kCompetition, "?since=7&epoch=epoch-1", false);
  EXPECT_TRUE(ahead->payloads().empty());
  deliver(e[5]);  // position 6
  settle_ready();
  EXPECT_TRUE(ahead->payloads().empty()) << "served before this replica reached its position";
  deliver(e[6]);  // position 7: reached
  deliver(e[7]);
  settle_ready();
  const std::vector<std::string> expected = {std::string(e[7].event.raw()), live_marker(8, "epoch-1")};
  EXPECT_EQ(ahead->payloads(), expected);
  EXPECT_EQ(resumes->exact_resumes, 1);
  deliver(e[8]);
  settle();  // returns at once: the deadline was cancelled
  EXPECT_EQ(ahead->payloads().back(), position_marker(9));
}

TEST_P(ResumeTest, AResumeAheadThatNeverComesGetsTheSnapshotAtItsDeadline) {
  const auto seq = heat(3);
  const auto& e = seq.events();
  for (const auto& event : e) deliver(event);
  settle();
  auto ahead = join(kCompetition, "?since=60&epoch=epoch-1");  // runs the 50 ms deadline
  const auto got = ahead->payloads();
  ASSERT_GE(got.size(), 2u);
  EXPECT_EQ(got.front(), reset_marker());
  EXPECT_EQ(got.back(), live_marker(6, "epoch-1"));
  EXPECT_EQ(resumes->snapshot_resumes, 1);
}

TEST_P(ResumeTest, AResumeWaitingForItsPositionFromAnotherEpochDoesNotWait) {
  make_registry({}, 60s);
  const auto seq = heat(3);
  for (const auto& event : seq.events()) deliver(event);
  settle();
  auto other = join(kCompetition, "?since=60&epoch=epoch-0", false);
  ASSERT_FALSE(other->payloads().empty());
  EXPECT_EQ(other->payloads().front(), reset_marker());
}

TEST_P(ResumeTest, AClientThatLeavesWhileWaitingIsForgotten) {
  make_registry({}, 60s);
  const auto seq = heat(3);
  const auto& e = seq.events();
  deliver(e[0]);
  settle();
  auto ahead = join(kCompetition, "?since=3&epoch=epoch-1", false);
  registry->leave(kCompetition, ahead);
  settle();  // returns at once: the deadline was cancelled
  deliver(e[1]);
  deliver(e[2]);
  settle();
  EXPECT_TRUE(ahead->payloads().empty());
}

TEST_P(ResumeTest, AResetTellsPositionsClientsAndTheNextBatchIsLive) {
  const auto seq = heat(2);
  const auto& e = seq.events();
  for (std::size_t i = 0; i < 3; ++i) deliver(e[i]);
  settle();
  auto client = join(kCompetition, "?positions=1");
  registry->rebuild();
  registry->begin_catch_up(0, "epoch-2", 0);
  settle();
  EXPECT_EQ(client->payloads().back(), reset_marker());
  deliver(e[0]);
  settle();
  EXPECT_EQ(client->payloads().back(), live_marker(1, "epoch-2"));
}

// The property, over one recording: several clients drop at random points and resume a random number of
// events later; a small window makes some resumes fall back to the snapshot. `lanes` fan-out lanes, the
// io_context run by `io_threads` threads at each step.
void check_resume_property(const std::vector<core::PositionedEvent>& events, core::ResumeLimits limits,
                           unsigned seed, int* exact_resumes, int* activation_resumes, std::size_t lanes = 1,
                           unsigned io_threads = 1) {
  boost::asio::io_context io;
  RegistryOptions options;
  options.resume_limits = limits;
  options.fanout_lanes = lanes;
  auto registry = std::make_shared<CompetitionRegistry>(io, options, std::make_shared<EventValidator>(),
                                                        std::make_shared<QuietObserver>(), nullptr);
  registry->begin_catch_up(0, "e", 0);
  auto settle = [&] {
    io.restart();
    std::vector<std::thread> helpers;
    for (unsigned i = 1; i < io_threads; ++i) helpers.emplace_back([&] { io.run(); });
    io.run();
    for (auto& helper : helpers) helper.join();
  };
  const std::string id = events.front().event.header.competition_id;
  std::mt19937 random(seed);
  struct Dropper {
    std::size_t drop_at = 0;
    std::size_t back_at = 0;
    std::shared_ptr<FakeConnection> before;
    std::shared_ptr<FakeConnection> after;
  };
  std::vector<Dropper> droppers(8);
  for (auto& d : droppers) {
    d.drop_at = random() % events.size();
    d.back_at = std::min(events.size(), d.drop_at + 1 + random() % 200);
  }
  auto join = [&](const std::string& query) {
    auto connection = std::make_shared<FakeConnection>();
    registry->join(id, connection, std::get<ResumeRequest>(parse_resume_request("/x" + query)));
    return connection;
  };
  auto never_dropped = join("?positions=1");
  for (auto& d : droppers) d.before = join("?positions=1");
  settle();
  std::size_t i = 0;
  while (i <= events.size()) {
    for (auto& d : droppers) {
      if (d.drop_at == i) {
        registry->leave(id, d.before);
        settle();
      }
      if (d.back_at == i && !d.after) {
        d.after = join("?since=" + std::to_string(last_position(d.before->payloads())) + "&epoch=e");
        settle();
      }
    }
    if (i == events.size()) break;
    // Batches of 1 to 4 events, as a busy feed forwards them.
    const std::size_t batch = 1 + random() % 4;
    for (std::size_t b = 0; b < batch && i < events.size(); ++b) {
      const auto subject = core::subject_for(events[i].event.header, 0);
      registry->on_message(FeedMessage{*subject, events[i].event.bytes, events[i].position,
                                       static_cast<std::int64_t>(i) * 1'000'000'000, 0});
      ++i;
      // A batch ends where a client drops or comes back.
      bool boundary = false;
      for (auto& d : droppers) boundary = boundary || d.drop_at == i || d.back_at == i;
      if (boundary) break;
    }
    settle();
  }
  core::CompetitionState truth = core::make_longtrack_state(id);
  testing::apply_range(truth, events, 0, events.size());
  const std::vector<std::string> all = events_only(never_dropped->payloads());
  ASSERT_TRUE(testing::same_view(truth, fold(id, all)));
  for (const auto& d : droppers) {
    ASSERT_TRUE(d.after) << "seed " << seed;
    const auto after = d.after->payloads();
    ASSERT_FALSE(after.empty());
    if (after.front() == reset_marker()) {
      // Not covered: the snapshot, then live; the view is the truth.
      EXPECT_TRUE(testing::same_view(truth, fold(id, events_only(after)))) << "seed " << seed;
      continue;
    }
    ++*exact_resumes;
    // Exactly what it missed; or, when the window starts with an activation after its position, everything
    // from that activation on (the activation starts every client's view afresh).
    const std::vector<std::string> had = events_only(d.before->payloads());
    const auto rest = events_only(after);
    ASSERT_LE(had.size() + rest.size(), all.size()) << "seed " << seed << ": more than a client that stayed";
    const std::vector<std::string> missed(all.begin() + had.size(), all.end());
    const std::vector<std::string> tail(all.end() - rest.size(), all.end());
    EXPECT_TRUE(std::equal(had.begin(), had.end(), all.begin())) << "seed " << seed;
    EXPECT_EQ(rest, tail) << "seed " << seed << ": dropped before event " << d.drop_at << ", back at "
                          << d.back_at;
    if (rest.size() < missed.size()) {
      ASSERT_FALSE(rest.empty());
      EXPECT_NE(rest.front().find(R"("typeName":"CompetitionActivatedEvent")"), std::string::npos)
          << "seed " << seed << ": frames skipped without an activation to start the view afresh";
      ++*activation_resumes;
    }
    std::vector<std::string> joined = had;
    joined.insert(joined.end(), rest.begin(), rest.end());
    EXPECT_TRUE(testing::same_view(truth, fold(id, joined))) << "seed " << seed;
  }
}

TEST(ResumeProperty, RealRecordingRandomDisconnects) {
  const auto events = testing::load_recording(testing::kRealRecordingName);
  SKIP_WITHOUT_RECORDING(events);
  int exact = 0;
  int from_activation = 0;
  for (unsigned seed = 1; seed <= 20; ++seed) {
    check_resume_property(*events, {}, seed, &exact, &from_activation);
    check_resume_property(*events, {.max_bytes = 30'000, .max_age_ns = 60LL * 1'000'000'000}, seed, &exact,
                          &from_activation);
  }
  EXPECT_GT(exact, 100) << "few resumes were exact: the property was hardly exercised";
  // The recording starts with four activations: clients that drop among them resume from the latest.
  EXPECT_GT(from_activation, 0);
}

// The same with two fan-out lanes on two io threads.
TEST(ResumeProperty, RealRecordingRandomDisconnectsTwoLanes) {
  const auto events = testing::load_recording(testing::kRealRecordingName);
  SKIP_WITHOUT_RECORDING(events);
  int exact = 0;
  int from_activation = 0;
  for (unsigned seed = 1; seed <= 20; ++seed) {
    check_resume_property(*events, {}, seed, &exact, &from_activation, 2, 2);
    check_resume_property(*events, {.max_bytes = 30'000, .max_age_ns = 60LL * 1'000'000'000}, seed, &exact,
                          &from_activation, 2, 2);
  }
  EXPECT_GT(exact, 100) << "few resumes were exact: the property was hardly exercised";
  EXPECT_GT(from_activation, 0);
}

TEST(ResumeProperty, SimulatedCompetitionRandomDisconnects) {
  const auto events =
      testing::load_recording_file(std::string(OVALSTREAM_SOURCE_DIR) + "/examples/competition.jsonl");
  ASSERT_TRUE(events) << "examples/competition.jsonl is part of the repository";
  int exact = 0;
  int from_activation = 0;
  for (unsigned seed = 1; seed <= 5; ++seed) {
    check_resume_property(*events, {}, seed, &exact, &from_activation);
    check_resume_property(*events, {.max_bytes = 50'000, .max_age_ns = 120LL * 1'000'000'000}, seed, &exact,
                          &from_activation);
  }
  EXPECT_GT(exact, 20);
}

TEST(ResumeProperty, SimulatedCompetitionRandomDisconnectsThreeLanes) {
  const auto events =
      testing::load_recording_file(std::string(OVALSTREAM_SOURCE_DIR) + "/examples/competition.jsonl");
  ASSERT_TRUE(events) << "examples/competition.jsonl is part of the repository";
  int exact = 0;
  int from_activation = 0;
  for (unsigned seed = 1; seed <= 5; ++seed) {
    check_resume_property(*events, {}, seed, &exact, &from_activation, 3, 2);
    check_resume_property(*events, {.max_bytes = 50'000, .max_age_ns = 120LL * 1'000'000'000}, seed, &exact,
                          &from_activation, 3, 2);
  }
  EXPECT_GT(exact, 20);
}

INSTANTIATE_TEST_SUITE_P(Lanes, ResumeTest, ::testing::Values(std::size_t{1}, std::size_t{3}));

}  // namespace
}  // namespace ovalstream::aggregator
