// `recorder record` command line: --help, and bad usage exits 2 with a message naming the problem.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "recorder/support/recorder_process.hpp"

namespace ovalstream::recorder::itest {
namespace {

void expect_usage_error(std::vector<std::string> args, const std::string& message) {
  args.insert(args.begin(), "record");
  const RecorderRun run = run_recorder(args, 20s);
  ASSERT_TRUE(run.exit_code.has_value()) << "did not exit";
  EXPECT_EQ(*run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find(message), std::string::npos) << "expected \"" << message << "\" in:\n"
                                                         << run.output;
}

TEST(RecordFlags, HelpListsTheFlags) {
  const RecorderRun run = run_recorder({"record", "--help"}, 20s);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  for (const char* flag : {"--file", "--competition", "--from-url", "--durable", "--nats-url", "--stream"}) {
    EXPECT_NE(run.output.find(flag), std::string::npos) << flag << " missing from:\n" << run.output;
  }
}

TEST(RecordFlags, MissingFile) {
  expect_usage_error({}, "--file is required");
}

TEST(RecordFlags, UnknownFlag) {
  expect_usage_error({"--file", "/tmp/x.jsonl", "--speed", "2"}, "speed");
}

TEST(RecordFlags, CompetitionThatCannotBeASubjectToken) {
  expect_usage_error({"--file", "/tmp/x.jsonl", "--competition", "a.b"}, "cannot be a subject token");
}

TEST(RecordFlags, BadDurableName) {
  expect_usage_error({"--file", "/tmp/x.jsonl", "--durable", "a.b"}, "--durable may hold only");
}

TEST(RecordFlags, FromUrlThatIsNotAWebsocketUrl) {
  expect_usage_error({"--file", "/tmp/x.jsonl", "--from-url", "http://localhost:8080/v1/competitions"},
                     "must start with ws://");
  expect_usage_error({"--file", "/tmp/x.jsonl", "--from-url", "ws://localhost:8080/v2/other"},
                     "path must be");
}

TEST(RecordFlags, FromUrlWithJetStreamFlags) {
  expect_usage_error(
      {"--file", "/tmp/x.jsonl", "--from-url", "ws://localhost:1/v1/competitions", "--durable", "d"},
      "--durable is for recording from JetStream");
  expect_usage_error({"--file", "/tmp/x.jsonl", "--from-url", "ws://localhost:1/v1/competitions",
                      "--nats-url", "nats://x:4222"},
                     "--nats-url is for recording from JetStream");
  expect_usage_error({"--file", "/tmp/x.jsonl", "--from-url", "ws://localhost:1/v1/competitions", "--nats-ca",
                      "/tmp/ca.pem"},
                     "--nats-ca is for recording from JetStream");
  expect_usage_error(
      {"--file", "/tmp/x.jsonl", "--from-url", "ws://localhost:1/v1/competitions/c1", "--competition", "c1"},
      "--competition does not go with --from-url");
}

TEST(RecordFlags, TheOriginalsHostFlag) {
  expect_usage_error({"--file", "/tmp/x.jsonl", "--host", "h", "--from-url", "ws://h/v1/competitions"},
                     "--host and --from-url both name the aggregator");
  expect_usage_error({"--file", "/tmp/x.jsonl", "--host", "h/path"}, "must be host[:port]");
  expect_usage_error({"--file", "/tmp/x.jsonl", "--host", "h", "--durable", "d"},
                     "--durable is for recording from JetStream");
}

TEST(RecordFlags, StrayArgument) {
  expect_usage_error({"--file", "/tmp/x.jsonl", "extra"}, "unexpected argument");
}

}  // namespace
}  // namespace ovalstream::recorder::itest
