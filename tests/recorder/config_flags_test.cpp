// The real recorder takes its settings as the Go original's eventrecorder deployments give them: a
// $HOME/.eventrecorder.yaml or --config file shared by every command (a key of another command's flag is
// skipped), VANTAGE_* variables over it, OVALSTREAM_* over those, the command line over all; -d and
// --driver nats. Every bad input exits 2 with a message naming where it came from.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "aggregator/support/aggregator_process.hpp"
#include "recorder/support/recorder_process.hpp"
#include "support/nats_server.hpp"
#include "support/skips.hpp"

namespace ovalstream::recorder::itest {
namespace {

using aggregator::itest::TempDir;
using testing::NatsServerProcess;

std::string write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

void expect_usage_error(const RecorderRun& run, const std::vector<std::string>& parts) {
  ASSERT_TRUE(run.exit_code.has_value()) << "did not exit";
  EXPECT_EQ(*run.exit_code, 2) << run.output;
  for (const std::string& part : parts)
    EXPECT_TRUE(contains(run.output, part)) << part << " not in:\n" << run.output;
}

// Variables that would name another config file are emptied (empty counts as unset).
std::vector<std::string> environment_with_home(const std::string& home, std::vector<std::string> more = {}) {
  more.insert(more.end(), {"HOME=" + home, "OVALSTREAM_CONFIG=", "VANTAGE_CONFIG="});
  return more;
}

// One file serves every command: simulate takes its own keys and skips record's and replay's, and
// VANTAGE_* variables win over the file.
TEST(RecorderConfigFlags, SimulateFromTheHomeConfigFileAndVantageVariables) {
  TempDir home;
  write_file(home.path() + "/.eventrecorder.yaml",
             "seed: 3                        # VANTAGE_SEED wins\n"
             "distance: \"1000\"\n"
             "heats: 2\n"
             "file: cup.jsonl                # record's and replay's\n"
             "speed: 10                      # replay's\n"
             "nats-url: nats://127.0.0.1:1   # every NATS command's\n");
  const std::string configured = home.path() + "/configured.jsonl";
  const RecorderRun run = run_recorder(
      {"simulate"}, 30s, environment_with_home(home.path(), {"VANTAGE_SEED=9", "VANTAGE_OUT=" + configured}));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(contains(run.output, "read the config file")) << run.output;

  const std::string flagged = home.path() + "/flagged.jsonl";
  const RecorderRun by_flags = run_recorder(
      {"simulate", "--config=", "--seed", "9", "--distance", "1000", "--heats", "2", "--out", flagged}, 30s,
      environment_with_home(home.path()));
  ASSERT_EQ(by_flags.exit_code, 0) << by_flags.output;
  const std::string expected = read_file(flagged);
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(read_file(configured), expected);
}

TEST(RecorderConfigFlags, RecordFromAnExplicitConfigFileWithVantageNatsUrl) {
  SKIP_WITHOUT_NATS();
  NatsServerProcess nats;
  TempDir dir;
  const std::string recording = dir.path() + "/cup.jsonl";
  const std::string config =
      write_file(dir.path() + "/recorder.yaml", "file: " + recording +
                                                    "\n"
                                                    "competition: c1\n"
                                                    "create-stream: true\n"
                                                    "driver: nats\n"
                                                    "nats-url: nats://127.0.0.1:1   # VANTAGE_NATS_URL wins\n"
                                                    "max-replays: 2                 # serve's\n");
  RecorderProcess recorder(
      {"record", "-d"},
      environment_with_home(dir.path(), {"OVALSTREAM_CONFIG=" + config, "VANTAGE_NATS_URL=" + nats.url()}));
  // The "recording" line itself, not another that mentions the recording.
  const auto recording_line = [&recorder] {
    for (const std::string& candidate : recorder.log_lines_with("recording")) {
      if (contains(candidate, "\"msg\":\"recording\"")) return candidate;
    }
    return std::string();
  };
  ASSERT_TRUE(aggregator::itest::wait_until([&] { return !recording_line().empty(); }, 20s))
      << recorder.log();
  const std::string line = recording_line();
  EXPECT_TRUE(contains(line, "\"file\":\"" + recording + "\"")) << line;
  EXPECT_TRUE(contains(line, "\"competition\":\"c1\"")) << line;
  recorder.send_signal(SIGTERM);
  EXPECT_EQ(recorder.wait_exit(20s), 0) << recorder.log_tail();
}

TEST(RecorderConfigFlags, BadInputFromEverySourceExitsTwoNamingIt) {
  TempDir dir;
  const std::string home_file = dir.path() + "/.eventrecorder.yaml";
  write_file(home_file, "file: x.jsonl\nspeeed: 10\n");
  expect_usage_error(run_recorder({"replay"}, 30s, environment_with_home(dir.path())),
                     {"recorder replay: config file \"" + home_file + "\", line 2: unknown key \"speeed\"",
                      "did you mean speed?"});

  write_file(home_file, "file:\n  name: x.jsonl\n");
  expect_usage_error(run_recorder({"record"}, 30s, environment_with_home(dir.path())),
                     {"line 1: key \"file\" holds a mapping"});

  write_file(home_file, "competition: [a, b]\n");
  expect_usage_error(run_recorder({"record"}, 30s, environment_with_home(dir.path())),
                     {"key \"competition\" takes one value (string), not a list"});

  write_file(home_file, "max-replays: 0\n");
  expect_usage_error(run_recorder({"serve"}, 30s, environment_with_home(dir.path())),
                     {"invalid value \"0\" in config file", "key \"max-replays\"", "between 1 and 64"});

  write_file(home_file, "seed: [1\n");
  expect_usage_error(run_recorder({"simulate", "--out", "-"}, 30s, environment_with_home(dir.path())),
                     {"not valid YAML"});

  std::filesystem::remove(home_file);
  expect_usage_error(run_recorder({"serve", "--config", dir.path() + "/missing.yaml"}, 30s,
                                  environment_with_home(dir.path())),
                     {"cannot read config file \"" + dir.path() + "/missing.yaml\" (named by --config)"});
  expect_usage_error(run_recorder({"record", "--file", dir.path() + "/x.jsonl"}, 30s,
                                  environment_with_home(dir.path(), {"VANTAGE_COMPETITION=a.b"})),
                     {"cannot be a subject token"});
  expect_usage_error(run_recorder({"replay", "--file", "x.jsonl", "--driver", "stan"}, 30s,
                                  environment_with_home(dir.path())),
                     {"only nats is supported"});
  expect_usage_error(run_recorder({"serve"}, 30s, environment_with_home(dir.path(), {"VANTAGE_DRIVER=stan"})),
                     {"environment variable VANTAGE_DRIVER", "only nats is supported"});
  // -d is --debug in every command that has it: the error is the next check's, not an unknown flag.
  for (const char* command : {"record", "replay"}) {
    expect_usage_error(run_recorder({command, "-d"}, 30s, environment_with_home(dir.path())),
                       {"--file is required"});
  }
  expect_usage_error(run_recorder({"serve", "-d", "extra"}, 30s, environment_with_home(dir.path())),
                     {"unexpected argument \"extra\""});
}

TEST(RecorderConfigFlags, HelpOfEveryCommandShowsTheSources) {
  for (const char* command : {"record", "replay", "serve", "simulate"}) {
    const RecorderRun run = run_recorder({command, "--help"}, 30s);
    ASSERT_EQ(run.exit_code, 0) << run.output;
    for (const char* part : {"VANTAGE_<FLAG>", "--config file", "$HOME/.eventrecorder.yaml"}) {
      EXPECT_TRUE(contains(run.output, part)) << command << ": " << part << " not in:\n" << run.output;
    }
    if (std::string(command) != "simulate") {
      EXPECT_TRUE(contains(run.output, "-d, --debug")) << command;
      EXPECT_TRUE(contains(run.output, "--driver nats")) << command;
    }
  }
  const RecorderRun overview = run_recorder({"--help"}, 30s);
  EXPECT_TRUE(contains(overview.output, "$HOME/.eventrecorder.yaml")) << overview.output;
}

}  // namespace
}  // namespace ovalstream::recorder::itest
