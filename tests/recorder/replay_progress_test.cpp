// Progress for people: a one-line bar redrawn at most every redraw interval on a terminal, JSON log lines
// every log interval otherwise; and the subject helpers of the JetStream sink.
#include <gtest/gtest.h>

#include <sstream>

#include "replay/jetstream_sink.hpp"
#include "replay/progress.hpp"
#include "support/event_builder.hpp"

namespace ovalstream::recorder {
namespace {

using namespace std::chrono_literals;

ReplayProgress sample(std::uint64_t sent) {
  ReplayProgress progress;
  progress.sent = sent;
  progress.total = 555;
  progress.recorded_unix_micros = 1578836874216352;  // 2020-01-12T14:47:54.216352+01:00
  progress.utc_offset_minutes = 60;
  progress.speed = core::ReplaySpeed::times(2);
  progress.eta = 118s;
  return progress;
}

struct FakeClock {
  std::chrono::steady_clock::time_point now{};
  std::function<std::chrono::steady_clock::time_point()> function() {
    return [this] { return now; };
  }
};

std::size_t count(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

TEST(ReplayProgressBar, ShowsSentOfTotalClockSpeedAndEta) {
  EXPECT_EQ(ProgressReporter::format_bar(sample(111), 10),
            "[##........] 111/555 events  14:47:54  x2  ETA 1m58s");
  auto max = sample(555);
  max.speed = core::ReplaySpeed::max();
  max.eta.reset();
  max.pass = 2;
  EXPECT_EQ(ProgressReporter::format_bar(max, 4), "[####] 555/555 events  14:47:54  max  pass 3  ETA ?");
  EXPECT_EQ(ProgressReporter::format_speed(core::ReplaySpeed::times(0.5)), "x0.5");
}

TEST(ReplayProgressBar, OnATerminalRedrawsAtMostEveryInterval) {
  std::ostringstream terminal, log;
  FakeClock clock;
  ProgressOptions options;
  options.terminal = true;
  options.redraw_interval = 250ms;
  options.clock = clock.function();
  ProgressReporter reporter(terminal, runtime::Logger("recorder", log), options);
  for (int i = 1; i <= 100; ++i) {
    reporter.on_progress(sample(static_cast<std::uint64_t>(i)));
    clock.now += 10ms;  // 100 events in one second: at most 4 (+1 first) redraws
  }
  EXPECT_GE(count(terminal.str(), "\r"), 4u);
  EXPECT_LE(count(terminal.str(), "\r"), 5u);
  EXPECT_TRUE(log.str().empty());  // no log lines while the bar is shown
  reporter.on_end(ReplayEnd::kFinished, std::nullopt, sample(555));
  EXPECT_NE(terminal.str().find("555/555 events"), std::string::npos);
  EXPECT_EQ(terminal.str().back(), '\n');
  EXPECT_NE(log.str().find("replay finished"), std::string::npos);
}

TEST(ReplayProgressBar, OtherwiseALogLineEveryFewSeconds) {
  std::ostringstream terminal, log;
  FakeClock clock;
  ProgressOptions options;
  options.terminal = false;
  options.log_interval = 5s;
  options.clock = clock.function();
  ProgressReporter reporter(terminal, runtime::Logger("recorder", log), options);
  for (int i = 1; i <= 120; ++i) {
    reporter.on_progress(sample(static_cast<std::uint64_t>(i)));
    clock.now += 100ms;  // 12 s
  }
  EXPECT_TRUE(terminal.str().empty());
  EXPECT_EQ(count(log.str(), "\"msg\":\"replay progress\""), 3u);  // at 0 s, 5 s, 10 s
  EXPECT_NE(
      log.str().find(
          R"("sent":1,"total":555,"pass":1,"recordedTime":"2020-01-12T14:47:54.216352+01:00","speed":"x2","eta":"1m58s")"),
      std::string::npos)
      << log.str();
  reporter.on_end(ReplayEnd::kFailed, std::string("publishing to x failed"), sample(7));
  EXPECT_NE(log.str().find("\"level\":\"error\",\"msg\":\"replay failed\""), std::string::npos) << log.str();
  EXPECT_NE(log.str().find("publishing to x failed"), std::string::npos);
}

TEST(JetStreamSubjects, PrefixIsPrependedToTheLiveSubject) {
  const auto parsed = core::parse_event(testing::make_event_json("HeatStartedEvent", testing::kDistanceA, 2));
  ASSERT_TRUE(parsed.ok());
  const std::string live = "competition." + std::string(testing::kCompetition) + ".distances." +
                           testing::kDistanceA + ".heats.1.2";
  EXPECT_EQ(JetStreamSink::subject(parsed->header, 0, ""), live);
  EXPECT_EQ(JetStreamSink::subject(parsed->header, 0, "replay.r1"), "replay.r1." + live);
  EXPECT_EQ(replay_stream_subject(""), "competition.>");
  EXPECT_EQ(replay_stream_subject("replay.r1"), "replay.r1.competition.>");
}

TEST(JetStreamSubjects, PrefixValidity) {
  EXPECT_TRUE(is_valid_subject_prefix(""));
  EXPECT_TRUE(is_valid_subject_prefix("replay.r-1"));
  EXPECT_FALSE(is_valid_subject_prefix("a.*"));
  EXPECT_FALSE(is_valid_subject_prefix("a..b"));
  EXPECT_FALSE(is_valid_subject_prefix("a.>"));
  EXPECT_FALSE(is_valid_subject_prefix("a b"));
  EXPECT_FALSE(is_valid_subject_prefix(".a"));
}

TEST(JetStreamSubjects, StreamSubjectMatching) {
  EXPECT_TRUE(subject_matches("competition.>", "competition.activations"));
  EXPECT_FALSE(subject_matches("competition.>", "competition"));
  EXPECT_TRUE(subject_matches("*.competition.>", "r1.competition.c.distances.d"));
  EXPECT_FALSE(subject_matches("competition.*", "competition.c.distances.activations"));
  EXPECT_TRUE(subject_matches("competition.*", "competition.c"));
  EXPECT_FALSE(subject_matches("competition.>", "test.competition.activations"));
  EXPECT_TRUE(stream_captures({"other.>", "test.competition.>"}, "test.competition.activations"));
  EXPECT_FALSE(stream_captures({}, "competition.activations"));
}

}  // namespace
}  // namespace ovalstream::recorder
