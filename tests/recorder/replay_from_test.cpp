// --from: an RFC 3339 recorded time or a Go duration after the first event, resolved against a recording.
#include <gtest/gtest.h>

#include "recorder/support/replay_files.hpp"
#include "replay/replay_time.hpp"

namespace ovalstream::recorder {
namespace {

using namespace std::chrono_literals;

TEST(ReplayFrom, ParsesTimesAndDurations) {
  const auto time = parse_replay_from("2020-01-12T14:45:54.216352+01:00");
  ASSERT_TRUE(time);
  EXPECT_EQ(std::get<std::int64_t>(time->value), itest::kGeneratedStartMicros);
  const auto offset = parse_replay_from("1m30s");
  ASSERT_TRUE(offset);
  EXPECT_EQ(std::get<std::chrono::nanoseconds>(offset->value), 90s);
  EXPECT_FALSE(parse_replay_from("-1m"));
  EXPECT_FALSE(parse_replay_from("noon"));
  EXPECT_FALSE(parse_replay_from(""));
}

TEST(ReplayFrom, ResolvesAgainstTheRecording) {
  const auto lines = itest::parse_recording_text(itest::recording_text(
      itest::generated_events(3), {0us, std::chrono::minutes(1), std::chrono::minutes(1)}));
  const auto offset = resolve_replay_from(*parse_replay_from("90s"), *lines);
  ASSERT_TRUE(offset.unix_micros) << offset.error;
  EXPECT_EQ(*offset.unix_micros, itest::kGeneratedStartMicros + 90'000'000);
  const auto at_end = resolve_replay_from(*parse_replay_from("2m"), *lines);
  EXPECT_TRUE(at_end.unix_micros);  // the last event's time itself is inside
  const auto after = resolve_replay_from(*parse_replay_from("2m1s"), *lines);
  EXPECT_FALSE(after.unix_micros);
  EXPECT_NE(after.error.find("after the end of the recording"), std::string::npos);
  EXPECT_NE(after.error.find("(2m0s)"), std::string::npos) << after.error;
}

}  // namespace
}  // namespace ovalstream::recorder
