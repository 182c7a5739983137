// `recorder replay` as a user runs it (the real executable): bad flags exit 2 with a clear message; a
// corrupt recording stops with exit 1 naming file and line before anything is published, or is skipped line
// by line; a missing stream, or a stream that does not capture the subjects, is a clear error naming them;
// --create-stream and --subject-prefix publish under the prefix.
#include <gtest/gtest.h>

#include "aggregator/support/aggregator_process.hpp"
#include "ovalstream/nats/connection.hpp"
#include "ovalstream/nats/jetstream.hpp"
#include "recorder/support/recorder_process.hpp"
#include "recorder/support/replay_files.hpp"
#include "support/nats_server.hpp"
#include "support/skips.hpp"

namespace ovalstream::recorder::itest {
namespace {

using aggregator::itest::TempDir;
using testing::NatsServerProcess;

std::string small_recording(const std::string& dir, std::size_t events = 5) {
  std::vector<std::chrono::microseconds> gaps(events, std::chrono::milliseconds(10));
  return write_text_file(dir, "small.jsonl", recording_text(generated_events(events), gaps));
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::unique_ptr<nats::Connection> connect(const std::string& url) {
  nats::ConnectionOptions options;
  options.url = url;
  auto connection = nats::Connection::connect(options);
  if (!connection) throw std::runtime_error(connection.error().message);
  return std::move(connection).value();
}

std::uint64_t messages_in(const nats::Connection& connection, const std::string& stream) {
  auto info = nats::stream_info(connection, stream);
  return info && info->exists ? info->messages : 0;
}

struct BadFlags {
  std::string name;
  std::vector<std::string> args;  // after "replay"; "FILE" is replaced by a valid recording
  std::string message_part;
};

class ReplayBadFlags : public ::testing::TestWithParam<BadFlags> {};

TEST_P(ReplayBadFlags, ExitTwoWithAClearMessage) {
  TempDir dir;
  const std::string file = small_recording(dir.path());
  std::vector<std::string> args{"replay"};
  for (const auto& arg : GetParam().args) args.push_back(arg == "FILE" ? file : arg);
  // Nothing listens on this port: a usage error must come before any connection attempt.
  args.insert(args.end(), {"--nats-url", "nats://127.0.0.1:1"});
  const RecorderRun run = run_recorder(args, 30s);
  ASSERT_TRUE(run.exit_code);
  EXPECT_EQ(*run.exit_code, 2) << run.output;
  EXPECT_TRUE(contains(run.output, GetParam().message_part)) << run.output;
}

INSTANTIATE_TEST_SUITE_P(
    Each, ReplayBadFlags,
    ::testing::Values(
        BadFlags{"MissingFile", {}, "--file is required"},
        BadFlags{"SpeedZero", {"--file", "FILE", "--speed", "0"}, "must be greater than 0"},
        BadFlags{"SpeedNegative", {"--file", "FILE", "--speed", "-2"}, "must be greater than 0"},
        BadFlags{"SpeedNotANumber", {"--file", "FILE", "--speed", "fast"}, "not a number or \"max\""},
        BadFlags{"BadFrom", {"--file", "FILE", "--from", "noon"}, "not an RFC 3339 time"},
        BadFlags{"NegativeFrom", {"--file", "FILE", "--from", "-5m"}, "not an RFC 3339 time"},
        BadFlags{"FromAfterTheEnd", {"--file", "FILE", "--from", "10m"}, "after the end of the recording"},
        BadFlags{"FromTimeAfterTheEnd",
                 {"--file", "FILE", "--from", "2021-01-01T00:00:00Z"},
                 "after the end of the recording"},
        BadFlags{"OnError", {"--file", "FILE", "--on-error", "ignore"}, "must be skip or stop"},
        BadFlags{"Address", {"--file", "FILE", "--address", "3000"}, "missing port"},
        BadFlags{"SubjectPrefix", {"--file", "FILE", "--subject-prefix", "a.*"}, "not a subject prefix"},
        BadFlags{"PrefixWithAddress",
                 {"--file", "FILE", "--address", ":0", "--subject-prefix", "r"},
                 "--subject-prefix is for replays into JetStream"},
        BadFlags{"UnknownFlag", {"--file", "FILE", "--sped", "2"}, "sped"}),
    [](const ::testing::TestParamInfo<BadFlags>& info) { return info.param.name; });

TEST(ReplayCommand, HelpExitsZero) {
  const RecorderRun run = run_recorder({"replay", "--help"}, 30s);
  ASSERT_TRUE(run.exit_code);
  EXPECT_EQ(*run.exit_code, 0);
  EXPECT_TRUE(contains(run.output, "--speed")) << run.output;
  EXPECT_TRUE(contains(run.output, "--on-error")) << run.output;
}

TEST(ReplayCommand, MissingFileIsAClearError) {
  const RecorderRun run =
      run_recorder({"replay", "--file", "/nonexistent/x.jsonl", "--nats-url", "nats://127.0.0.1:1"});
  ASSERT_TRUE(run.exit_code);
  EXPECT_EQ(*run.exit_code, 1);
  EXPECT_TRUE(contains(run.output, "cannot open /nonexistent/x.jsonl")) << run.output;
}

TEST(ReplayCommand, CorruptLineStopsBeforeAnythingIsPublishedOrIsSkipped) {
  SKIP_WITHOUT_NATS();
  NatsServerProcess nats;
  auto connection = connect(nats.url());
  ASSERT_TRUE(nats::create_stream(*connection, "VANTAGE", {"competition.>"}).ok());
  TempDir dir;
  const auto events = generated_events(4);
  std::string text =
      recording_text(events, std::vector<std::chrono::microseconds>(4, std::chrono::milliseconds(1)));
  // Line 3 loses its "_time"; the last line is cut short.
  const auto third = text.find('\n', text.find('\n') + 1) + 1;
  const auto third_end = text.find('\n', third);
  text.replace(third, third_end - third, events[2]);
  text += R"({"_time":"2020-01-12T14:46:00+01:00","typeName":"RacePass)";
  const std::string file = write_text_file(dir.path(), "corrupt.jsonl", text);

  const RecorderRun stopped =
      run_recorder({"replay", "--file", file, "--speed", "max", "--nats-url", nats.url()});
  ASSERT_TRUE(stopped.exit_code);
  EXPECT_EQ(*stopped.exit_code, 1) << stopped.output;
  EXPECT_TRUE(contains(stopped.output, file + ":3: missing _time")) << stopped.output;
  EXPECT_EQ(messages_in(*connection, "VANTAGE"), 0u);

  const RecorderRun skipped =
      run_recorder({"replay", "--file", file, "--speed", "max", "--on-error=skip", "--nats-url", nats.url()});
  ASSERT_TRUE(skipped.exit_code);
  EXPECT_EQ(*skipped.exit_code, 0) << skipped.output;
  EXPECT_TRUE(contains(skipped.output, file + ":3: missing _time")) << skipped.output;
  EXPECT_TRUE(contains(skipped.output, file + ":5: truncated last line")) << skipped.output;
  EXPECT_EQ(messages_in(*connection, "VANTAGE"), 3u);
}

TEST(ReplayCommand, MissingStreamIsAClearErrorAndCreateStreamCreatesIt) {
  SKIP_WITHOUT_NATS();
  NatsServerProcess nats;
  TempDir dir;
  const std::string file = small_recording(dir.path());
  const RecorderRun missing =
      run_recorder({"replay", "--file", file, "--speed", "max", "--nats-url", nats.url()});
  ASSERT_TRUE(missing.exit_code);
  EXPECT_EQ(*missing.exit_code, 1);
  EXPECT_TRUE(contains(missing.output, "stream VANTAGE does not exist")) << missing.output;
  EXPECT_TRUE(contains(missing.output, "--create-stream")) << missing.output;

  const RecorderRun created =
      run_recorder({"replay", "--file", file, "--speed", "max", "--create-stream", "--stream", "REPLAY",
                    "--subject-prefix", "replay.r1", "--nats-url", nats.url()});
  ASSERT_TRUE(created.exit_code);
  EXPECT_EQ(*created.exit_code, 0) << created.output;
  auto connection = connect(nats.url());
  const auto info = nats::stream_info(*connection, "REPLAY");
  ASSERT_TRUE(info.ok());
  ASSERT_TRUE(info->exists);
  EXPECT_EQ(info->subjects, std::vector<std::string>{"replay.r1.competition.>"});
  EXPECT_EQ(info->messages, 5u);
}

TEST(ReplayCommand, AStreamThatDoesNotCaptureTheSubjectIsNamed) {
  SKIP_WITHOUT_NATS();
  NatsServerProcess nats;
  auto connection = connect(nats.url());
  ASSERT_TRUE(nats::create_stream(*connection, "VANTAGE", {"competition.>"}).ok());
  TempDir dir;
  const std::string file = small_recording(dir.path());
  const RecorderRun run = run_recorder(
      {"replay", "--file", file, "--speed", "max", "--subject-prefix", "test", "--nats-url", nats.url()});
  ASSERT_TRUE(run.exit_code);
  EXPECT_EQ(*run.exit_code, 1);
  EXPECT_TRUE(contains(run.output, "does not capture subject test.competition.activations")) << run.output;
  EXPECT_EQ(messages_in(*connection, "VANTAGE"), 0u);
}

TEST(ReplayCommand, SigtermStopsAPacedReplayCleanly) {
  SKIP_WITHOUT_NATS();
  NatsServerProcess nats;
  TempDir dir;
  const auto events = generated_events(3);
  const std::string file =
      write_text_file(dir.path(), "slow.jsonl",
                      recording_text(events, {0us, std::chrono::minutes(10), std::chrono::minutes(10)}));
  RecorderProcess replay({"replay", "--file", file, "--create-stream", "--nats-url", nats.url()});
  ASSERT_TRUE(replay.wait_for_log("replaying into JetStream", 20s)) << replay.log_tail();
  auto connection = connect(nats.url());
  ASSERT_TRUE(aggregator::itest::wait_until([&] { return messages_in(*connection, "VANTAGE") == 1; }, 20s));
  replay.send_signal(SIGTERM);
  const auto code = replay.wait_exit(20s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0) << replay.log_tail();
  EXPECT_FALSE(replay.log_lines_with("replay stopped").empty()) << replay.log_tail();
  EXPECT_EQ(messages_in(*connection, "VANTAGE"), 1u);
}

}  // namespace
}  // namespace ovalstream::recorder::itest
