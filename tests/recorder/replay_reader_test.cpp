// Reading a recording for a replay: good lines keep their bytes (without "_time") and line numbers; every
// kind of corrupt line is named by line number; skip goes on, stop ends at the first; lines are bounded.
#include <gtest/gtest.h>

#include "aggregator/support/aggregator_process.hpp"
#include "recorder/support/replay_files.hpp"
#include "recording/recording_reader.hpp"

namespace ovalstream::recorder {
namespace {

using aggregator::itest::TempDir;

const std::string kGood1 =
    R"({"_time":"2020-01-12T14:45:54.216352+01:00","typeName":"CompetitionActivatedEvent","competitionId":"c1"})";
const std::string kGood2 =
    R"({"_time":"2020-01-12T14:45:55.5+01:00","typeName":"DistanceActivatedEvent","competitionId":"c1","distanceId":"d1"})";

struct Case {
  std::string name;
  std::string bad_line;  // inserted as line 2
  std::string reason_part;
  bool last = false;  // put it last without a newline (a crash while writing)
};

class CorruptLine : public ::testing::TestWithParam<Case> {};

TEST_P(CorruptLine, StopNamesTheLineSkipGoesOn) {
  const Case& c = GetParam();
  TempDir dir;
  const std::string text =
      c.last ? kGood1 + "\n" + kGood2 + "\n" + c.bad_line : kGood1 + "\n" + c.bad_line + "\n" + kGood2 + "\n";
  const std::string path = itest::write_text_file(dir.path(), "r.jsonl", text);
  const std::uint64_t bad_line_number = c.last ? 3 : 2;

  const Recording stopped = read_recording(path, {.on_error = OnError::kStop}).value();
  ASSERT_EQ(stopped.problems.size(), 1u);
  EXPECT_EQ(stopped.problems[0].line_number, bad_line_number);
  EXPECT_NE(stopped.problems[0].reason.find(c.reason_part), std::string::npos) << stopped.problems[0].reason;
  EXPECT_EQ(describe_problem(path, stopped.problems[0])
                .rfind(path + ":" + std::to_string(bad_line_number) + ": ", 0),
            0u);
  EXPECT_FALSE(stopped.ok());

  const Recording skipped = read_recording(path, {.on_error = OnError::kSkip}).value();
  ASSERT_EQ(skipped.problems.size(), 1u);
  ASSERT_EQ(skipped.lines.size(), 2u);
  EXPECT_EQ(skipped.lines[0].line_number, 1u);
  EXPECT_EQ(skipped.lines[1].line_number, c.last ? 2u : 3u);
  EXPECT_EQ(skipped.lines[1].event.header.type_name, "DistanceActivatedEvent");
}

INSTANTIATE_TEST_SUITE_P(
    EachKind, CorruptLine,
    ::testing::Values(
        Case{"InvalidJson", R"({"_time":"2020-01-12T14:45:55+01:00","typeName":)", "invalid JSON"},
        Case{"NotAnObject", R"(["a","b"])", "invalid JSON or not a JSON object"},
        Case{"MissingTime", R"({"typeName":"HeatStartedEvent","competitionId":"c1"})", "missing _time"},
        Case{"BadTime", R"({"_time":"yesterday","typeName":"X","competitionId":"c1"})", "RFC 3339"},
        Case{"NotAnEvent", R"({"_time":"2020-01-12T14:45:55+01:00","typeName":"X"})",
             "missing_competition_id"},
        Case{"TruncatedLastLine", R"({"_time":"2020-01-12T14:45:56+01:00","typeName":"RaceLa)",
             "truncated last line", true}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

TEST(RecordingReader, KeepsTheEventBytesWithoutTimeAndTheRecordedTime) {
  TempDir dir;
  const std::string path = itest::write_text_file(dir.path(), "r.jsonl", kGood1 + "\r\n\n" + kGood2 + "\n");
  const Recording recording = read_recording(path).value();
  ASSERT_TRUE(recording.ok());
  ASSERT_EQ(recording.lines.size(), 2u);
  EXPECT_EQ(recording.lines[0].event.raw(),
            R"({"typeName":"CompetitionActivatedEvent","competitionId":"c1"})");
  EXPECT_EQ(recording.lines[0].unix_micros, 1578836754216352);
  EXPECT_EQ(recording.lines[0].utc_offset_minutes, 60);
  EXPECT_EQ(recording.lines[1].line_number, 3u);  // the empty line counts
}

TEST(RecordingReader, AnOverlongLineIsAProblemAndTheNextLineIsRead) {
  TempDir dir;
  const std::string huge =
      R"({"_time":"2020-01-12T14:45:55+01:00","typeName":"X","competitionId":"c1","pad":")" +
      std::string(200'000, 'x') + "\"}";
  const std::string path =
      itest::write_text_file(dir.path(), "r.jsonl", kGood1 + "\n" + huge + "\n" + kGood2 + "\n");
  const Recording recording =
      read_recording(path, {.on_error = OnError::kSkip, .max_line_bytes = 100'000}).value();
  ASSERT_EQ(recording.problems.size(), 1u);
  EXPECT_EQ(recording.problems[0].line_number, 2u);
  EXPECT_NE(recording.problems[0].reason.find("longer than 100000 bytes"), std::string::npos);
  ASSERT_EQ(recording.lines.size(), 2u);
  EXPECT_EQ(recording.lines[1].line_number, 3u);
}

TEST(RecordingReader, IdsThatCannotFormASubjectAreAProblemOnlyWhenPublishing) {
  TempDir dir;
  const std::string bad = R"({"_time":"2020-01-12T14:45:55+01:00","typeName":"X","competitionId":"a.b"})";
  const std::string path = itest::write_text_file(dir.path(), "r.jsonl", kGood1 + "\n" + bad + "\n");
  EXPECT_TRUE(read_recording(path).value().ok());
  const Recording publishing = read_recording(path, {.require_subject = true}).value();
  ASSERT_EQ(publishing.problems.size(), 1u);
  EXPECT_NE(publishing.problems[0].reason.find("NATS subject"), std::string::npos);
}

TEST(RecordingReader, AMissingFileIsAnOpenError) {
  const auto recording = read_recording("/nonexistent/dir/r.jsonl");
  ASSERT_FALSE(recording.ok());
  EXPECT_NE(recording.error().message.find("/nonexistent/dir/r.jsonl"), std::string::npos);
}

TEST(RecordingReader, OnErrorValues) {
  EXPECT_EQ(parse_on_error("skip"), OnError::kSkip);
  EXPECT_EQ(parse_on_error("stop"), OnError::kStop);
  EXPECT_FALSE(parse_on_error("ignore"));
}

}  // namespace
}  // namespace ovalstream::recorder
