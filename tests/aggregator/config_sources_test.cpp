// The real aggregator takes its settings as the Go original's deployments give them: a $HOME/.aggregator.yaml
// or --config file, VANTAGE_* variables over it, OVALSTREAM_* over those, the command line over all; -d and
// --driver nats. Every bad input exits 2 with a message naming where it came from.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "aggregator/support/aggregator_process.hpp"
#include "support/child_process.hpp"
#include "support/nats_server.hpp"
#include "support/skips.hpp"

namespace ovalstream::aggregator::itest {
namespace {

using ovalstream::testing::ChildProcess;
using ovalstream::testing::NatsServerProcess;

std::string write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The string field `name` of a JSON log line; "" when absent.
std::string field(const std::string& line, const char* name) {
  rapidjson::Document document;
  document.Parse(line.c_str());
  if (!document.IsObject() || !document.HasMember(name) || !document[name].IsString()) return {};
  return document[name].GetString();
}

struct AggregatorRun {
  std::optional<int> exit_code;
  std::string output;
};

// Runs `aggregator <args...>` in `environment` (HOME included) until it exits.
AggregatorRun run_aggregator(const TempDir& dir, std::vector<std::string> args,
                             std::vector<std::string> environment) {
  args.insert(args.begin(), AggregatorProcess::executable());
  ChildProcess child(args, dir.path() + "/aggregator.log", environment);
  AggregatorRun run;
  run.exit_code = child.wait_exit(20s);
  run.output = child.log();
  return run;
}

void expect_usage_error(const AggregatorRun& run, const std::vector<std::string>& parts) {
  ASSERT_TRUE(run.exit_code.has_value()) << "did not exit";
  EXPECT_EQ(*run.exit_code, 2) << run.output;
  for (const std::string& part : parts)
    EXPECT_TRUE(contains(run.output, part)) << part << " not in:\n" << run.output;
}

// Issue 13: a deployment of the Go original (its config file in $HOME, its VANTAGE_* variables) runs the
// aggregator unchanged; each source wins over the ones below it.
TEST(AggregatorConfig, HomeConfigFileAndVantageVariablesRunARealAggregator) {
  SKIP_WITHOUT_NATS();
  NatsServerProcess nats;
  TempDir home;
  write_file(home.path() + "/.aggregator.yaml",
             "# as a deployment of the Go original writes it\n"
             "nats-url: nats://127.0.0.1:1   # VANTAGE_NATS_URL wins\n"
             "stream: FROM_FILE              # VANTAGE_STREAM wins\n"
             "history: 5h                    # VANTAGE_HISTORY loses to OVALSTREAM_HISTORY\n"
             "hub-address: 127.0.0.1:0       # only here\n"
             "metrics-address: \"127.0.0.1:0\"\n"
             "create-stream: true\n"
             "driver: nats\n"
             "filter:\n"
             "  - competition-a\n"
             "  - competition-b\n"
             "drain-delay: 0s\n");
  ChildProcess aggregator(
      {AggregatorProcess::executable(), "start", "-d", "--idle-drop", "2h"}, home.path() + "/aggregator.log",
      {"HOME=" + home.path(), "VANTAGE_NATS_URL=" + nats.url(), "VANTAGE_STREAM=CONFIGURED",
       "VANTAGE_HISTORY=3h", "OVALSTREAM_HISTORY=2h", "OVALSTREAM_CONFIG=", "VANTAGE_CONFIG="});
  ASSERT_TRUE(aggregator.wait_for_log("starting the one ordered consumer", 20s)) << aggregator.log();

  const auto read = aggregator.log_lines_with("read the config file");
  ASSERT_EQ(read.size(), 1u) << aggregator.log();
  EXPECT_EQ(field(read[0], "file"), home.path() + "/.aggregator.yaml");
  const auto consumer = aggregator.log_lines_with("starting the one ordered consumer");
  EXPECT_EQ(field(consumer[0], "stream"),
            "CONFIGURED");                             // VANTAGE_STREAM over the file; created by the file's
  EXPECT_EQ(field(consumer[0], "history"), "2h0m0s");  // create-stream; OVALSTREAM_ over VANTAGE_ over file
  const auto websockets = aggregator.log_lines_with("serving websockets");
  ASSERT_EQ(websockets.size(), 1u);
  EXPECT_TRUE(field(websockets[0], "address").starts_with("127.0.0.1:")) << websockets[0];
  const auto connected = aggregator.log_lines_with("nats connected");
  ASSERT_EQ(connected.size(), 1u) << aggregator.log();
  EXPECT_EQ(field(connected[0], "url"), nats.url());

  aggregator.send_signal(SIGTERM);
  EXPECT_EQ(aggregator.wait_exit(20s), 0) << aggregator.log_tail();
}

TEST(AggregatorConfig, ExplicitConfigFileAndTheCommandLineOverIt) {
  SKIP_WITHOUT_NATS();
  NatsServerProcess nats;
  TempDir dir;
  const std::string file = write_file(dir.path() + "/deploy.yaml", "nats-url: " + nats.url() +
                                                                       "\n"
                                                                       "stream: FROM_FILE\n"
                                                                       "create-stream: true\n"
                                                                       "hub-address: 127.0.0.1:0\n"
                                                                       "metrics-address: 127.0.0.1:0\n");
  // The default file would be refused: a file named explicitly replaces it.
  write_file(dir.path() + "/.aggregator.yaml", "bogus: true\n");
  ChildProcess aggregator({AggregatorProcess::executable(), "--stream=FROM_FLAG", "start"},
                          dir.path() + "/aggregator.log", {"HOME=" + dir.path(), "VANTAGE_CONFIG=" + file});
  ASSERT_TRUE(aggregator.wait_for_log("starting the one ordered consumer", 20s)) << aggregator.log();
  EXPECT_EQ(field(aggregator.log_lines_with("starting the one ordered consumer")[0], "stream"), "FROM_FLAG");
  EXPECT_EQ(field(aggregator.log_lines_with("read the config file")[0], "file"), file);
  aggregator.kill9();
}

TEST(AggregatorConfig, BadInputFromEverySourceExitsTwoNamingIt) {
  TempDir dir;
  const std::vector<std::string> home = {"HOME=" + dir.path(), "OVALSTREAM_CONFIG=", "VANTAGE_CONFIG="};
  expect_usage_error(run_aggregator(dir, {"--config", dir.path() + "/missing.yaml"}, home),
                     {"cannot read config file \"" + dir.path() + "/missing.yaml\" (named by --config)"});

  write_file(dir.path() + "/.aggregator.yaml", "debug: true\nnats-ur: nats://x:4222\n");
  expect_usage_error(run_aggregator(dir, {}, home),
                     {"config file \"" + dir.path() + "/.aggregator.yaml\", line 2",
                      "unknown key \"nats-ur\"", "did you mean nats-url?"});

  write_file(dir.path() + "/.aggregator.yaml", "max-connections:\n  limit: 5\n");
  expect_usage_error(run_aggregator(dir, {}, home), {"line 1: key \"max-connections\" holds a mapping"});

  write_file(dir.path() + "/.aggregator.yaml", "filter: [a, b\n");
  expect_usage_error(run_aggregator(dir, {}, home), {".aggregator.yaml\", line 2, column 1: not valid YAML"});

  write_file(dir.path() + "/.aggregator.yaml", "drain-seconds: 99999\n");
  expect_usage_error(run_aggregator(dir, {}, home), {"invalid value \"99999\" in config file",
                                                     "key \"drain-seconds\"", "between 0 and 3600"});

  std::filesystem::remove(dir.path() + "/.aggregator.yaml");
  std::vector<std::string> vantage = home;
  vantage.push_back("VANTAGE_MAX_CONNECTIONS=-1");
  expect_usage_error(run_aggregator(dir, {}, vantage), {"environment variable VANTAGE_MAX_CONNECTIONS"});
  expect_usage_error(run_aggregator(dir, {"--driver", "stan"}, home), {"only nats is supported"});
  expect_usage_error(run_aggregator(dir, {"-d", "false"}, home), {"--debug=false"});
}

TEST(AggregatorConfig, HelpShowsTheSources) {
  TempDir dir;
  const AggregatorRun run = run_aggregator(dir, {"--help"}, {"HOME=" + dir.path()});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  for (const char* part :
       {"VANTAGE_<FLAG>", "--config file", "$HOME/.aggregator.yaml", "-d, --debug", "--driver nats"}) {
    EXPECT_TRUE(contains(run.output, part)) << part << " not in:\n" << run.output;
  }
}

}  // namespace
}  // namespace ovalstream::aggregator::itest
