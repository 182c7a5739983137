// The replayer in process, with a fake sink that notes when each event arrives: pacing by --speed (gaps
// within a stated tolerance), --speed max, --loop, --from (snapshot first, then the rest), cancel, a
// failing sink. Timers never fire early, so each arrival is at or after its due time; the upper bound is
// generous because the machine running the tests may be loaded.
#include <utility>  // before Asio: Boost 1.74 with C++20 needs it

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <thread>

#include "ovalstream/core/competition_state.hpp"
#include "recorder/support/replay_files.hpp"
#include "recording/recording_reader.hpp"
#include "replay/replayer.hpp"
#include "support/recording.hpp"
#include "support/skips.hpp"

namespace ovalstream::recorder {
namespace {

using namespace std::chrono_literals;
using itest::FakeSink;

// Late by at most this much on a loaded machine (two test runs in parallel on 2 cores reached 230 ms);
// early by at most the clock's rounding. Ignoring the speed would be off by more than this in every test.
constexpr auto kLateTolerance = 300ms;
constexpr auto kEarlyTolerance = 2ms;

struct EndRecorder : ReplayObserver {
  std::optional<ReplayEnd> how;
  std::optional<std::string> error;
  std::vector<ReplayProgress> progress;
  void on_progress(const ReplayProgress& p) override { progress.push_back(p); }
  void on_end(ReplayEnd end, const std::optional<std::string>& message, const ReplayProgress&) override {
    how = end;
    error = message;
  }
};

std::vector<std::chrono::microseconds> gaps_ms(std::initializer_list<int> ms) {
  std::vector<std::chrono::microseconds> gaps;
  for (int m : ms) gaps.emplace_back(std::chrono::milliseconds(m));
  return gaps;
}

// Runs a replay to its end (bounded by `limit`) on this thread.
std::shared_ptr<EndRecorder> run(ReplayPlan plan, const std::shared_ptr<FakeSink>& sink,
                                 std::chrono::milliseconds limit = 20s) {
  boost::asio::io_context io;
  auto observer = std::make_shared<EndRecorder>();
  auto replayer = Replayer::create(io.get_executor(), std::move(plan), sink, observer);
  boost::asio::steady_timer guard(io, limit);
  guard.async_wait([replayer](const boost::system::error_code& error) {
    if (!error) replayer->cancel();
  });
  const auto started = std::chrono::steady_clock::now();
  replayer->start();
  while (!observer->how && std::chrono::steady_clock::now() - started < limit + 5s) io.run_one_for(100ms);
  guard.cancel();
  return observer;
}

void expect_paced(const std::vector<FakeSink::Sent>& sent,
                  const std::vector<std::chrono::milliseconds>& due) {
  ASSERT_EQ(sent.size(), due.size());
  const auto start = sent.front().at;
  for (std::size_t i = 0; i < sent.size(); ++i) {
    const auto offset = std::chrono::duration_cast<std::chrono::microseconds>(sent[i].at - start);
    EXPECT_GE(offset, due[i] - kEarlyTolerance) << "event " << i << " came early";
    EXPECT_LE(offset, due[i] + kLateTolerance) << "event " << i << " came late";
  }
}

TEST(ReplayTiming, SpeedTwoHalvesTheRecordedGaps) {
  const auto events = itest::generated_events(6);
  const auto lines =
      itest::parse_recording_text(itest::recording_text(events, gaps_ms({0, 300, 200, 500, 100, 400})));
  auto sink = std::make_shared<FakeSink>();
  const auto end = run(make_replay_plan(lines, std::nullopt, core::ReplaySpeed::times(2), false), sink);
  ASSERT_EQ(end->how, ReplayEnd::kFinished);
  const auto sent = sink->sent();
  expect_paced(sent, {0ms, 150ms, 250ms, 500ms, 550ms, 750ms});
  for (std::size_t i = 0; i < sent.size(); ++i) EXPECT_EQ(sent[i].bytes, events[i]);  // _time stripped
}

TEST(ReplayTiming, FractionalSpeedStretchesTheGaps) {
  const auto lines =
      itest::parse_recording_text(itest::recording_text(itest::generated_events(3), gaps_ms({0, 100, 150})));
  auto sink = std::make_shared<FakeSink>();
  const auto end = run(make_replay_plan(lines, std::nullopt, core::ReplaySpeed::times(0.5), false), sink);
  ASSERT_EQ(end->how, ReplayEnd::kFinished);
  expect_paced(sink->sent(), {0ms, 200ms, 500ms});
}

TEST(ReplayTiming, SpeedMaxDoesNotWait) {
  // 400 events recorded one minute apart: over six hours of recording.
  const auto events = itest::generated_events(400);
  std::vector<std::chrono::microseconds> gaps(events.size(), std::chrono::minutes(1));
  gaps[0] = 0us;
  const auto lines = itest::parse_recording_text(itest::recording_text(events, gaps));
  auto sink = std::make_shared<FakeSink>();
  const auto started = std::chrono::steady_clock::now();
  const auto end = run(make_replay_plan(lines, std::nullopt, core::ReplaySpeed::max(), false), sink);
  ASSERT_EQ(end->how, ReplayEnd::kFinished);
  EXPECT_EQ(sink->sent().size(), 400u);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);  // bound for a loaded machine; typically ms
  EXPECT_EQ(end->progress.back().sent, 400u);
  EXPECT_EQ(end->progress.back().total, 400u);
  EXPECT_EQ(end->progress.back().eta, std::chrono::nanoseconds(0));
}

TEST(ReplayTiming, LoopStartsOverWithoutAGapAndKeepsPacing) {
  const auto events = itest::generated_events(3);
  const auto lines = itest::parse_recording_text(itest::recording_text(events, gaps_ms({0, 100, 100})));
  auto sink = std::make_shared<FakeSink>();
  boost::asio::io_context io;
  auto observer = std::make_shared<EndRecorder>();
  auto replayer = Replayer::create(io.get_executor(),
                                   make_replay_plan(lines, std::nullopt, core::ReplaySpeed::times(1), true),
                                   sink, observer);
  replayer->start();
  const auto started = std::chrono::steady_clock::now();
  while (sink->sent().size() < 8 && std::chrono::steady_clock::now() - started < 10s) io.run_one_for(50ms);
  replayer->cancel();
  while (!observer->how && std::chrono::steady_clock::now() - started < 15s) io.run_one_for(50ms);
  ASSERT_EQ(observer->how, ReplayEnd::kCancelled);
  auto sent = sink->sent();
  ASSERT_GE(sent.size(), 8u);
  sent.resize(8);
  for (std::size_t i = 0; i < sent.size(); ++i) EXPECT_EQ(sent[i].bytes, events[i % 3]) << i;
  EXPECT_GE(sink->passes_begun(), 2u);
  // Pass k starts at k * 200 ms: the last line of a pass and the first of the next go out together.
  expect_paced(sent, {0ms, 100ms, 200ms, 200ms, 300ms, 400ms, 400ms, 500ms});
  EXPECT_EQ(observer->progress[3].pass, 1u);
  EXPECT_EQ(observer->progress[3].sent, 1u);
}

TEST(ReplayTiming, CancelStopsBeforeTheNextEvent) {
  const auto lines = itest::parse_recording_text(
      itest::recording_text(itest::generated_events(3), gaps_ms({0, 10'000, 10'000})));
  auto sink = std::make_shared<FakeSink>();
  boost::asio::io_context io;
  auto observer = std::make_shared<EndRecorder>();
  auto replayer = Replayer::create(io.get_executor(),
                                   make_replay_plan(lines, std::nullopt, core::ReplaySpeed::times(1), false),
                                   sink, observer);
  replayer->start();
  const auto started = std::chrono::steady_clock::now();
  while (sink->sent().empty() && std::chrono::steady_clock::now() - started < 10s) io.run_one_for(50ms);
  replayer->cancel();
  io.run_for(2s);  // returns early: the cancelled timer leaves no work
  EXPECT_EQ(observer->how, ReplayEnd::kCancelled);
  EXPECT_EQ(sink->sent().size(), 1u);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 9s);
}

TEST(ReplayTiming, AFailingSinkEndsTheReplayWithItsMessage) {
  const auto lines = itest::parse_recording_text(
      itest::recording_text(itest::generated_events(5), gaps_ms({0, 0, 0, 0, 0})));
  auto sink = std::make_shared<FakeSink>();
  sink->fail_next("no JetStream stream captures subject x");
  const auto end = run(make_replay_plan(lines, std::nullopt, core::ReplaySpeed::max(), false), sink);
  EXPECT_EQ(end->how, ReplayEnd::kFailed);
  EXPECT_EQ(end->error, "no JetStream stream captures subject x");
  EXPECT_TRUE(sink->sent().empty());
}

TEST(ReplayTiming, FromSendsTheSnapshotAtOnceThenPacesTheRest) {
  // 10 events 100 ms apart; --from 450 ms after the first: lines 0..4 become the snapshot, line 5 is due
  // 50 ms later (at speed 1), line 6 150 ms, ...
  const auto events = itest::generated_events(10);
  std::vector<int> ms(10, 100);
  ms[0] = 0;
  std::vector<std::chrono::microseconds> gaps;
  for (int m : ms) gaps.emplace_back(std::chrono::milliseconds(m));
  const auto lines = itest::parse_recording_text(itest::recording_text(events, gaps));
  const std::int64_t from = itest::kGeneratedStartMicros + 450'000;
  const ReplayPlan plan = make_replay_plan(lines, from, core::ReplaySpeed::times(1), false);
  ASSERT_EQ(plan.next_index, 5u);
  const std::size_t snapshot_size = plan.snapshot.size();
  ASSERT_GT(snapshot_size, 0u);
  auto sink = std::make_shared<FakeSink>();
  const auto end = run(plan, sink);
  ASSERT_EQ(end->how, ReplayEnd::kFinished);
  const auto sent = sink->sent();
  ASSERT_EQ(sent.size(), snapshot_size + 5);
  std::vector<std::chrono::milliseconds> due(snapshot_size, 0ms);
  for (int i = 0; i < 5; ++i) due.push_back(std::chrono::milliseconds(50 + 100 * i));
  expect_paced(sent, due);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(sent[snapshot_size + i].bytes, events[5 + i]);
  // During the snapshot the recorded clock shows the --from time.
  EXPECT_EQ(end->progress.front().recorded_unix_micros, from);
}

TEST(ReplayTiming, FromBeforeTheRecordingStartsDoesNotWaitForIt) {
  const auto events = itest::generated_events(2);
  const auto lines = itest::parse_recording_text(itest::recording_text(events, gaps_ms({0, 100})));
  const ReplayPlan plan = make_replay_plan(lines, itest::kGeneratedStartMicros - 3'600'000'000,
                                           core::ReplaySpeed::times(1), false);
  EXPECT_TRUE(plan.snapshot.empty());
  EXPECT_EQ(plan.next_index, 0u);
  auto sink = std::make_shared<FakeSink>();
  const auto started = std::chrono::steady_clock::now();
  const auto end = run(plan, sink);
  ASSERT_EQ(end->how, ReplayEnd::kFinished);
  const auto sent = sink->sent();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_LE(sent[0].at - started, kLateTolerance);  // not an hour
  expect_paced(sent, {0ms, 100ms});
}

// The real recording from its middle: the snapshot and the rest give a client the same live view as the
// whole recording.
TEST(ReplayTiming, FromOnTheRealRecordingRestoresTheLiveView) {
  const auto events = testing::load_recording(testing::kRealRecordingName);
  SKIP_WITHOUT_RECORDING(events);
  const std::string path = testing::shared_data_dir() + "/" + testing::kRealRecordingName;
  Recording recording = read_recording(path).value();
  ASSERT_TRUE(recording.ok());
  auto lines = std::make_shared<const std::vector<core::RecordedEvent>>(std::move(recording.lines));
  const std::int64_t from = (*lines)[300].unix_micros;
  auto sink = std::make_shared<FakeSink>();
  const auto end = run(make_replay_plan(lines, from, core::ReplaySpeed::max(), false), sink);
  ASSERT_EQ(end->how, ReplayEnd::kFinished);
  const auto sent = sink->sent();
  EXPECT_LT(sent.size(), lines->size());
  const std::string id = (*lines)[0].event.header.competition_id;
  auto whole = core::make_longtrack_state(id);
  for (std::size_t i = 0; i < lines->size(); ++i) whole.apply((*lines)[i].event, i + 1);
  auto client = core::make_longtrack_state(id);
  for (std::size_t i = 0; i < sent.size(); ++i) {
    auto parsed = core::parse_event(std::string_view(sent[i].bytes));
    ASSERT_TRUE(parsed.ok());
    client.apply(*parsed, i + 1);
  }
  EXPECT_EQ(client.state_view_json(), whole.state_view_json());
  ASSERT_EQ(client.snapshot()->size(), whole.snapshot()->size());
  for (std::size_t i = 0; i < whole.snapshot()->size(); ++i)
    EXPECT_EQ((*client.snapshot())[i].event.raw(), (*whole.snapshot())[i].event.raw());
}

}  // namespace
}  // namespace ovalstream::recorder
