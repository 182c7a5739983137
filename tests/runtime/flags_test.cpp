// The FlagSet reads command lines as the Go original did, with environment fallback, and reports every
// mistake as exit 2 with a message instead of exiting or throwing.
#include "ovalstream/runtime/flags.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace ovalstream::runtime {
namespace {

using namespace std::chrono_literals;

// The aggregator's kind of flags, bound to one options struct, with an injected environment.
struct Fixture {
  std::string nats_url = "nats://127.0.0.1:4222";
  bool debug = false;
  bool nats_tls = false;
  std::int64_t max_connections = 0;
  std::uint16_t port = 8080;
  double ratio = 0.5;
  std::chrono::nanoseconds retention = 24h;
  std::chrono::milliseconds ping_interval = 54s;
  std::vector<std::string> filters = {"default"};
  ListenAddress listen{"", 8080};

  std::map<std::string, std::string> environment;
  std::map<std::string, std::string> files;  // path -> text; others are missing
  int file_reads = 0;
  std::ostringstream out;
  std::ostringstream err;
  FlagSet flags{"aggregator", "1.2.3", "carries live timing events from NATS to websocket clients",
                "[start] [flags]"};

  Fixture() {
    flags.add_string("nats-url", &nats_url, "NATS server URL");
    flags.add_bool("debug", &debug, "log at debug level");
    flags.add_bool("nats-tls", &nats_tls, "connect to NATS over TLS");
    flags.add_int("max-connections", &max_connections, "websocket connection limit, 0 = none",
                  IntRange{0, 100000});
    flags.add_int("port", &port, "HTTP port", IntRange{1, 65535});
    flags.add_double("ratio", &ratio, "a fraction", DoubleRange{0.0, 1.0});
    flags.add_duration("retention", &retention, "how long events are kept", DurationRange{1s, 8760h});
    flags.add_duration("ping-interval", &ping_interval, "websocket ping interval");
    flags.add_string_list("filter", &filters, "competition ids to serve");
    flags.add_listen_address("listen", &listen, "HTTP listen address");
    flags.add_deprecated("nats-cluster-id", true, "NATS Streaming is replaced by JetStream");
    flags.add_deprecated("nats-client-id", true, "NATS Streaming is replaced by JetStream");
  }

  ParseOutcome parse(std::vector<std::string> args) {
    return flags.parse(
        args, out, err,
        [this](std::string_view name) -> std::optional<std::string> {
          const auto it = environment.find(std::string(name));
          if (it == environment.end()) return std::nullopt;
          return it->second;
        },
        [this](const std::string& path) {
          ++file_reads;
          const auto it = files.find(path);
          if (it == files.end()) {
            return ConfigFileText{ConfigFileText::Status::kMissing, "", "No such file or directory"};
          }
          return ConfigFileText{ConfigFileText::Status::kRead, it->second, ""};
        });
  }
};

void expect_runs(const ParseOutcome& outcome, const Fixture& fixture) {
  EXPECT_TRUE(outcome.should_run()) << fixture.err.str();
  EXPECT_EQ(outcome.exit_code, 0);
}

// A usage error: exit 2, nothing on stdout, and a stderr naming what is wrong followed by the hint.
void expect_usage_error(const ParseOutcome& outcome, const Fixture& fixture,
                        const std::vector<std::string>& parts) {
  EXPECT_EQ(outcome.action, ParseOutcome::Action::kExit);
  EXPECT_EQ(outcome.exit_code, 2);
  EXPECT_EQ(fixture.out.str(), "");
  const std::string err = fixture.err.str();
  EXPECT_TRUE(err.starts_with("aggregator: ")) << err;
  EXPECT_TRUE(err.ends_with("\nrun with --help for usage\n")) << err;
  // The message itself is one line.
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 2) << err;
  for (const std::string& part : parts) EXPECT_PRED_FORMAT2(::testing::IsSubstring, part, err);
}

TEST(Flags, DefaultsStayWhenNothingIsGiven) {
  Fixture f;
  const ParseOutcome outcome = f.parse({});
  expect_runs(outcome, f);
  EXPECT_EQ(f.nats_url, "nats://127.0.0.1:4222");
  EXPECT_EQ(f.port, 8080);
  EXPECT_EQ(f.filters, std::vector<std::string>{"default"});
  EXPECT_EQ(f.flags.source("port"), FlagSource::kDefault);
  EXPECT_TRUE(outcome.positionals.empty());
  EXPECT_TRUE(outcome.warnings.empty());
  EXPECT_EQ(f.err.str(), "");
}

TEST(Flags, AcceptsDoubleAndSingleDashWithSpaceOrEquals) {
  for (const auto& args : std::vector<std::vector<std::string>>{{"--nats-url", "nats://a:1"},
                                                                {"--nats-url=nats://a:1"},
                                                                {"-nats-url", "nats://a:1"},
                                                                {"-nats-url=nats://a:1"}}) {
    Fixture f;
    expect_runs(f.parse(args), f);
    EXPECT_EQ(f.nats_url, "nats://a:1") << args[0];
    EXPECT_EQ(f.flags.source("nats-url"), FlagSource::kCommandLine);
  }
}

TEST(Flags, ValueAfterEqualsMayHoldEqualsAndBeEmpty) {
  Fixture f;
  expect_runs(f.parse({"--nats-url=a=b"}), f);
  EXPECT_EQ(f.nats_url, "a=b");
  Fixture g;
  expect_runs(g.parse({"--nats-url="}), g);
  EXPECT_EQ(g.nats_url, "");
}

TEST(Flags, ValueStartingWithDashIsTakenAsGoDoes) {
  Fixture f;
  expect_runs(f.parse({"--nats-url", "--debug"}), f);
  EXPECT_EQ(f.nats_url, "--debug");
  EXPECT_FALSE(f.debug);
}

TEST(Flags, LastOccurrenceOfAScalarWins) {
  Fixture f;
  expect_runs(f.parse({"--port", "1", "--port=2"}), f);
  EXPECT_EQ(f.port, 2);
}

TEST(Flags, BooleanFormsGoAccepts) {
  const std::vector<std::pair<std::vector<std::string>, bool>> cases = {
      {{"--debug"}, true},        {{"-debug"}, true},        {{"--debug=true"}, true},
      {{"--debug=false"}, false}, {{"--debug=1"}, true},     {{"--debug=0"}, false},
      {{"--debug=t"}, true},      {{"--debug=F"}, false},    {{"--debug=TRUE"}, true},
      {{"--debug=False"}, false}, {{"-debug=false"}, false},
  };
  for (const auto& [args, expected] : cases) {
    Fixture f;
    f.debug = !expected;
    expect_runs(f.parse(args), f);
    EXPECT_EQ(f.debug, expected) << args[0];
  }
}

TEST(Flags, BooleanFalseNeedsEquals) {
  Fixture f;
  f.nats_tls = true;
  expect_usage_error(f.parse({"--nats-tls", "false"}), f, {"--nats-tls", "--nats-tls=false"});
}

TEST(Flags, BooleanFollowedByOtherWordLeavesItPositional) {
  Fixture f;
  const ParseOutcome outcome = f.parse({"--debug", "start"});
  expect_runs(outcome, f);
  EXPECT_TRUE(f.debug);
  EXPECT_EQ(outcome.positionals, std::vector<std::string>{"start"});
}

TEST(Flags, BooleanValuesGoRefuses) {
  for (const char* arg : {"--debug=yes", "--debug=on", "--debug=", "--debug=2", "--debug=tRUE"}) {
    Fixture f;
    const std::string value = std::string(arg).substr(8);
    expect_usage_error(f.parse({arg}), f, {"invalid value \"" + value + "\"", "--debug", "boolean"});
  }
}

TEST(Flags, IntegerWithinRange) {
  Fixture f;
  expect_runs(f.parse({"--port", "9090", "--max-connections=-0", "--max-connections", "+25"}), f);
  EXPECT_EQ(f.port, 9090);
  EXPECT_EQ(f.max_connections, 25);
}

TEST(Flags, IntegerNotANumber) {
  Fixture f;
  expect_usage_error(f.parse({"--port", "abc"}), f,
                     {"invalid value \"abc\" for flag --port", "not an integer"});
  for (const char* bad : {"12abc", "", " 1", "1.5", "0x10", "+-1", "--1"}) {
    Fixture g;
    expect_usage_error(g.parse({std::string("--port=") + bad}), g, {"--port", "not an integer"});
  }
}

TEST(Flags, IntegerOutOfRange) {
  Fixture f;
  expect_usage_error(f.parse({"--port", "70000"}), f, {"\"70000\"", "--port", "must be between 1 and 65535"});
  Fixture g;
  expect_usage_error(g.parse({"--port=0"}), g, {"must be between 1 and 65535"});
  Fixture h;
  expect_usage_error(h.parse({"--max-connections=-1"}), h, {"must be between 0 and 100000"});
  Fixture i;
  expect_usage_error(i.parse({"--max-connections=99999999999999999999"}), i,
                     {"--max-connections", "out of range"});
}

TEST(Flags, NarrowIntegerTypeLimitsTheRange) {
  std::uint8_t small = 1;
  FlagSet flags("p", "v", "s");
  flags.add_int("small", &small, "fits a byte");
  std::ostringstream out, err;
  const std::vector<std::string> args = {"--small=256"};
  const ParseOutcome outcome = flags.parse(args, out, err, nullptr);
  EXPECT_EQ(outcome.exit_code, 2);
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "must be between 0 and 255", err.str());
  EXPECT_EQ(small, 1);
}

TEST(Flags, DoubleValuesAndErrors) {
  Fixture f;
  expect_runs(f.parse({"--ratio", "0.25"}), f);
  EXPECT_DOUBLE_EQ(f.ratio, 0.25);
  for (const char* bad : {"--ratio=x", "--ratio=nan", "--ratio=inf", "--ratio=1.5", "--ratio="}) {
    Fixture g;
    expect_usage_error(g.parse({bad}), g, {"--ratio"});
  }
}

TEST(Flags, DurationsInGoSyntax) {
  const std::vector<std::pair<std::string, std::chrono::nanoseconds>> cases = {
      {"24h", 24h}, {"90m", 90min}, {"1h30m", 90min}, {"1.5s", 1500ms}, {"500ms", 500ms}};
  for (const auto& [text, expected] : cases) {
    Fixture f;
    expect_runs(f.parse({"--ping-interval", text}), f);
    EXPECT_EQ(f.ping_interval, expected) << text;
    Fixture g;  // nanoseconds target; its range starts at 1s
    if (expected >= 1s) {
      expect_runs(g.parse({"--retention=" + text}), g);
      EXPECT_EQ(g.retention, expected) << text;
    }
  }
}

TEST(Flags, BadDurations) {
  Fixture f;
  expect_usage_error(f.parse({"--retention", "10"}), f,
                     {"invalid value \"10\" for flag --retention", "not a duration"});
  Fixture g;
  expect_usage_error(g.parse({"--retention=1d"}), g, {"\"1d\"", "not a duration"});
  Fixture h;
  expect_usage_error(h.parse({"--retention=500ms"}), h, {"--retention", "must be between 1s and 8760h0m0s"});
  Fixture i;
  expect_usage_error(i.parse({"--ping-interval=1.5ms"}), i, {"--ping-interval", "finer than 1ms"});
}

TEST(Flags, StringListIsRepeatableAndCommaSeparated) {
  Fixture f;
  expect_runs(f.parse({"--filter", "a,b", "--filter", "c", "--filter= d , ,e "}), f);
  EXPECT_EQ(f.filters, (std::vector<std::string>{"a", "b", "c", "d", "e"}));
}

TEST(Flags, StringListFromEnvironmentReplacesTheDefault) {
  Fixture f;
  f.environment["OVALSTREAM_FILTER"] = "x,y";
  expect_runs(f.parse({}), f);
  EXPECT_EQ(f.filters, (std::vector<std::string>{"x", "y"}));
}

TEST(Flags, ListenAddressFlag) {
  Fixture f;
  expect_runs(f.parse({"--listen", "[::1]:9090"}), f);
  EXPECT_EQ(f.listen, (ListenAddress{"::1", 9090}));
  Fixture g;
  expect_usage_error(g.parse({"--listen=8080"}), g, {"--listen", "missing port"});
}

TEST(Flags, DeprecatedFlagIsAcceptedWithAWarning) {
  Fixture f;
  const ParseOutcome outcome = f.parse({"--nats-cluster-id", "test-cluster", "--nats-client-id=me", "start"});
  expect_runs(outcome, f);
  // The value was consumed, not left as a positional.
  EXPECT_EQ(outcome.positionals, std::vector<std::string>{"start"});
  ASSERT_EQ(outcome.warnings.size(), 2u);
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "--nats-cluster-id", outcome.warnings[0]);
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "no effect", outcome.warnings[0]);
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "--nats-client-id", outcome.warnings[1]);
  EXPECT_EQ(f.err.str(), "");
}

TEST(Flags, DeprecatedFlagRepeatedWarnsOnce) {
  Fixture f;
  const ParseOutcome outcome = f.parse({"--nats-cluster-id=a", "--nats-cluster-id=b"});
  EXPECT_EQ(outcome.warnings.size(), 1u);
}

TEST(Flags, DeprecatedEnvironmentVariableWarns) {
  Fixture f;
  f.environment["OVALSTREAM_NATS_CLUSTER_ID"] = "test-cluster";
  const ParseOutcome outcome = f.parse({});
  expect_runs(outcome, f);
  ASSERT_EQ(outcome.warnings.size(), 1u);
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "OVALSTREAM_NATS_CLUSTER_ID", outcome.warnings[0]);
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "no effect", outcome.warnings[0]);
}

TEST(Flags, DeprecatedFlagMissingItsValue) {
  Fixture f;
  expect_usage_error(f.parse({"--nats-client-id"}), f, {"flag --nats-client-id needs a value"});
}

TEST(Flags, StartPositionalIsReturnedWhereverItStands) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"start", "--debug"}, {"--debug", "start"}, {"--port", "1", "start", "--debug"}}) {
    Fixture f;
    const ParseOutcome outcome = f.parse(args);
    expect_runs(outcome, f);
    EXPECT_EQ(outcome.positionals, std::vector<std::string>{"start"});
    EXPECT_TRUE(f.debug);
  }
}

TEST(Flags, DoubleDashEndsFlags) {
  Fixture f;
  const ParseOutcome outcome = f.parse({"--debug", "--", "--port", "-", "x"});
  expect_runs(outcome, f);
  EXPECT_EQ(outcome.positionals, (std::vector<std::string>{"--port", "-", "x"}));
  EXPECT_EQ(f.port, 8080);
}

TEST(Flags, EnvironmentVariableNames) {
  EXPECT_EQ(FlagSet::environment_variable("nats-url"), "OVALSTREAM_NATS_URL");
  EXPECT_EQ(FlagSet::environment_variable("debug"), "OVALSTREAM_DEBUG");
  EXPECT_EQ(FlagSet::environment_variable("max-connections"), "OVALSTREAM_MAX_CONNECTIONS");
}

TEST(Flags, EnvironmentFillsUnsetFlags) {
  Fixture f;
  f.environment = {{"OVALSTREAM_NATS_URL", "nats://env:4222"},
                   {"OVALSTREAM_DEBUG", "true"},
                   {"OVALSTREAM_PORT", "9000"},
                   {"OVALSTREAM_RETENTION", "1h30m"}};
  expect_runs(f.parse({}), f);
  EXPECT_EQ(f.nats_url, "nats://env:4222");
  EXPECT_TRUE(f.debug);
  EXPECT_EQ(f.port, 9000);
  EXPECT_EQ(f.retention, 90min);
  EXPECT_EQ(f.flags.source("nats-url"), FlagSource::kEnvironment);
}

TEST(Flags, CommandLineWinsOverEnvironment) {
  Fixture f;
  f.environment = {
      {"OVALSTREAM_NATS_URL", "nats://env:4222"}, {"OVALSTREAM_FILTER", "env"}, {"OVALSTREAM_DEBUG", "1"}};
  expect_runs(f.parse({"--nats-url=nats://cli:4222", "--filter", "cli", "--debug=false"}), f);
  EXPECT_EQ(f.nats_url, "nats://cli:4222");
  EXPECT_EQ(f.filters, std::vector<std::string>{"cli"});
  EXPECT_FALSE(f.debug);
  EXPECT_EQ(f.flags.source("nats-url"), FlagSource::kCommandLine);
}

TEST(Flags, EnvironmentIsIgnoredForAFlagGivenOnTheCommandLineEvenWhenInvalid) {
  Fixture f;
  f.environment = {{"OVALSTREAM_PORT", "not-a-port"}};
  expect_runs(f.parse({"--port=1234"}), f);
  EXPECT_EQ(f.port, 1234);
}

TEST(Flags, EmptyEnvironmentVariableCountsAsUnset) {
  Fixture f;
  f.environment = {{"OVALSTREAM_PORT", ""}, {"OVALSTREAM_NATS_URL", ""}};
  expect_runs(f.parse({}), f);
  EXPECT_EQ(f.port, 8080);
  EXPECT_EQ(f.nats_url, "nats://127.0.0.1:4222");
  EXPECT_EQ(f.flags.source("port"), FlagSource::kDefault);
}

TEST(Flags, EnvironmentValuesAreValidatedAndTheErrorNamesTheVariable) {
  const std::vector<std::pair<std::string, std::string>> cases = {{"OVALSTREAM_PORT", "abc"},
                                                                  {"OVALSTREAM_PORT", "70000"},
                                                                  {"OVALSTREAM_DEBUG", "yes"},
                                                                  {"OVALSTREAM_RETENTION", "1d"},
                                                                  {"OVALSTREAM_LISTEN", "8080"}};
  for (const auto& [variable, value] : cases) {
    Fixture f;
    f.environment[variable] = value;
    expect_usage_error(f.parse({}), f,
                       {"invalid value \"" + value + "\"", "environment variable " + variable});
  }
}

TEST(Flags, HelpPrintsUsageAndExitsZero) {
  for (const char* arg : {"--help", "-h", "-help", "--h"}) {
    Fixture f;
    const ParseOutcome outcome = f.parse({arg});
    EXPECT_EQ(outcome.action, ParseOutcome::Action::kExit) << arg;
    EXPECT_EQ(outcome.exit_code, 0) << arg;
    EXPECT_EQ(f.err.str(), "") << arg;
    EXPECT_EQ(f.out.str(), f.flags.usage()) << arg;
  }
}

TEST(Flags, HelpNamesEveryFlagWithTypeDefaultHelpAndVariable) {
  Fixture f;
  const std::string usage = f.flags.usage();
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "aggregator", usage);
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "carries live timing events from NATS to websocket clients",
                      usage);
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "aggregator [start] [flags]", usage);
  for (const char* expected : {"--nats-url string",
                               "NATS server URL",
                               "(default \"nats://127.0.0.1:4222\")",
                               "OVALSTREAM_NATS_URL",
                               "--debug[=bool]",
                               "log at debug level (default false)",
                               "OVALSTREAM_DEBUG",
                               "--port int",
                               "(default 8080, range 1..65535)",
                               "OVALSTREAM_PORT",
                               "--retention duration",
                               "(default 24h0m0s, range 1s..8760h0m0s)",
                               "OVALSTREAM_RETENTION",
                               "--ping-interval duration",
                               "(default 54s)",
                               "--filter list",
                               "(default \"default\")",
                               "OVALSTREAM_FILTER",
                               "--ratio float",
                               "(default 0.5, range 0..1)",
                               "--listen address",
                               "(default \":8080\")",
                               "--max-connections int",
                               "OVALSTREAM_MAX_CONNECTIONS",
                               "--help",
                               "--version",
                               "--nats-cluster-id",
                               "OVALSTREAM_NATS_CLUSTER_ID",
                               "NATS Streaming is replaced by JetStream"}) {
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, expected, usage);
  }
}

TEST(Flags, HelpWinsOverABadEnvironment) {
  Fixture f;
  f.environment["OVALSTREAM_PORT"] = "abc";
  const ParseOutcome outcome = f.parse({"--help"});
  EXPECT_EQ(outcome.exit_code, 0);
  EXPECT_EQ(f.err.str(), "");
}

TEST(Flags, VersionPrintsProgramAndVersion) {
  Fixture f;
  const ParseOutcome outcome = f.parse({"--version"});
  EXPECT_EQ(outcome.action, ParseOutcome::Action::kExit);
  EXPECT_EQ(outcome.exit_code, 0);
  EXPECT_EQ(f.out.str(), "aggregator 1.2.3\n");
  EXPECT_EQ(f.err.str(), "");
}

TEST(Flags, UnknownFlag) {
  Fixture f;
  expect_usage_error(f.parse({"--bogus"}), f, {"unknown flag --bogus"});
  EXPECT_PRED_FORMAT2(::testing::IsNotSubstring, "did you mean", f.err.str());
}

TEST(Flags, UnknownFlagSuggestsACloseName) {
  Fixture f;
  expect_usage_error(f.parse({"--nats-ur=x"}), f, {"unknown flag --nats-ur", "did you mean --nats-url?"});
}

TEST(Flags, MissingValue) {
  Fixture f;
  expect_usage_error(f.parse({"--debug", "--port"}), f, {"flag --port needs a value"});
}

TEST(Flags, BadFlagSyntax) {
  for (const char* arg : {"---port=1", "--=1", "-=x"}) {
    Fixture f;
    expect_usage_error(f.parse({arg}), f, {"bad flag syntax"});
  }
}

TEST(Flags, UsageErrorReportsCallerChecksTheSameWay) {
  Fixture f;
  const ParseOutcome outcome = f.flags.usage_error(f.err, "unknown command \"stop\"");
  expect_usage_error(outcome, f, {"aggregator: unknown command \"stop\""});
}

TEST(Flags, ArgvFormSkipsTheProgramPath) {
  Fixture f;
  const char* argv[] = {"/usr/bin/aggregator", "start", "--port=1"};
  const ParseOutcome outcome = f.flags.parse(3, argv, f.out, f.err, nullptr);
  expect_runs(outcome, f);
  EXPECT_EQ(outcome.positionals, std::vector<std::string>{"start"});
  EXPECT_EQ(f.port, 1);
}

TEST(Flags, RegistrationMistakesThrow) {
  std::string target;
  FlagSet flags("p", "v", "s");
  flags.add_string("name", &target, "");
  EXPECT_THROW(flags.add_string("name", &target, ""), std::invalid_argument);
  EXPECT_THROW(flags.add_string("help", &target, ""), std::invalid_argument);
  EXPECT_THROW(flags.add_string("version", &target, ""), std::invalid_argument);
  EXPECT_THROW(flags.add_string("-name", &target, ""), std::invalid_argument);
  EXPECT_THROW(flags.add_string("a=b", &target, ""), std::invalid_argument);
  EXPECT_THROW(flags.add_string("", &target, ""), std::invalid_argument);
  EXPECT_THROW((void)flags.source("missing"), std::out_of_range);
}

TEST(Flags, CustomFlag) {
  int level = 0;
  FlagSet flags("p", "v", "s");
  flags.add_custom("level", "level", "0", "a custom value",
                   [&level](std::string_view value) -> std::optional<std::string> {
                     if (value != "high") return "must be high";
                     level = 9;
                     return std::nullopt;
                   });
  std::ostringstream out, err;
  EXPECT_TRUE(flags.parse(std::vector<std::string>{"--level", "high"}, out, err, nullptr).should_run());
  EXPECT_EQ(level, 9);
  EXPECT_EQ(flags.parse(std::vector<std::string>{"--level=low"}, out, err, nullptr).exit_code, 2);
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "invalid value \"low\" for flag --level: must be high",
                      err.str());
}

TEST(Flags, ControlCharactersInABadValueStayOnOneLine) {
  Fixture f;
  expect_usage_error(f.parse({"--port=1\n2"}), f, {"\"1\\n2\""});
}

// ---- The Go original's environment: VANTAGE_<FLAG> after OVALSTREAM_<FLAG> ----

TEST(Flags, LegacyEnvironmentVariableNames) {
  EXPECT_EQ(FlagSet::legacy_environment_variable("nats-url"), "VANTAGE_NATS_URL");
  EXPECT_EQ(FlagSet::legacy_environment_variable("cert-file"), "VANTAGE_CERT_FILE");
}

TEST(Flags, VantageVariableFillsUnsetFlags) {
  Fixture f;
  f.environment = {{"VANTAGE_NATS_URL", "nats://vantage:4222"},
                   {"VANTAGE_DEBUG", "true"},
                   {"VANTAGE_FILTER", "a,b"},
                   {"VANTAGE_PORT", "9000"}};
  expect_runs(f.parse({}), f);
  EXPECT_EQ(f.nats_url, "nats://vantage:4222");
  EXPECT_TRUE(f.debug);
  EXPECT_EQ(f.filters, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(f.port, 9000);
  EXPECT_EQ(f.flags.source("nats-url"), FlagSource::kEnvironment);
}

TEST(Flags, OvalstreamVariableWinsOverVantageAndTheCommandLineOverBoth) {
  Fixture f;
  f.environment = {{"OVALSTREAM_NATS_URL", "nats://ours:4222"},
                   {"VANTAGE_NATS_URL", "nats://vantage:4222"},
                   {"OVALSTREAM_PORT", "1"},
                   {"VANTAGE_PORT", "2"}};
  expect_runs(f.parse({"--port=3"}), f);
  EXPECT_EQ(f.nats_url, "nats://ours:4222");
  EXPECT_EQ(f.port, 3);
}

TEST(Flags, VantageVariableIsReadWhenOursIsEmpty) {
  Fixture f;
  f.environment = {
      {"OVALSTREAM_NATS_URL", ""}, {"VANTAGE_NATS_URL", "nats://vantage:4222"}, {"VANTAGE_PORT", ""}};
  expect_runs(f.parse({}), f);
  EXPECT_EQ(f.nats_url, "nats://vantage:4222");
  EXPECT_EQ(f.port, 8080);
}

TEST(Flags, BadVantageVariableIsAnErrorNamingIt) {
  Fixture f;
  f.environment = {{"VANTAGE_PORT", "70000"}};
  expect_usage_error(f.parse({}), f,
                     {"invalid value \"70000\" in environment variable VANTAGE_PORT", "--port"});
  Fixture g;  // not read at all when ours is set
  g.environment = {{"VANTAGE_PORT", "abc"}, {"OVALSTREAM_PORT", "1"}};
  expect_runs(g.parse({}), g);
  EXPECT_EQ(g.port, 1);
}

TEST(Flags, DeprecatedVantageVariableWarns) {
  Fixture f;
  f.environment["VANTAGE_NATS_CLUSTER_ID"] = "test-cluster";
  const ParseOutcome outcome = f.parse({});
  expect_runs(outcome, f);
  ASSERT_EQ(outcome.warnings.size(), 1u);
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "VANTAGE_NATS_CLUSTER_ID", outcome.warnings[0]);
}

// ---- -d and other short names ----

TEST(Flags, ShortNameSetsItsFlagInEveryForm) {
  for (const auto& [args, expected] :
       std::vector<std::pair<std::vector<std::string>, bool>>{{{"-d"}, true},
                                                              {{"--d"}, true},
                                                              {{"-d=true"}, true},
                                                              {{"-d=false"}, false},
                                                              {{"start", "-d"}, true}}) {
    Fixture f;
    f.flags.add_short_name("d", "debug");
    f.debug = !expected;
    expect_runs(f.parse(args), f);
    EXPECT_EQ(f.debug, expected) << args.back();
    EXPECT_EQ(f.flags.source("debug"), FlagSource::kCommandLine);
  }
}

TEST(Flags, ShortNameOfABooleanRefusesASeparateValueNamingTheFlag) {
  Fixture f;
  f.flags.add_short_name("d", "debug");
  expect_usage_error(f.parse({"-d", "false"}), f, {"--debug", "--debug=false"});
  Fixture g;
  g.flags.add_short_name("d", "debug");
  expect_usage_error(g.parse({"-d=maybe"}), g, {"invalid value \"maybe\" for flag --debug"});
}

TEST(Flags, ShortNameIsNeitherAVariableNorAConfigKey) {
  Fixture f;
  f.flags.add_short_name("d", "debug");
  f.flags.add_config_file(".aggregator.yaml");
  f.environment = {{"OVALSTREAM_D", "true"}, {"VANTAGE_D", "true"}, {"HOME", "/home/u"}};
  expect_runs(f.parse({}), f);
  EXPECT_FALSE(f.debug);
  Fixture g;
  g.flags.add_short_name("d", "debug");
  g.flags.add_config_file(".aggregator.yaml");
  g.environment = {{"HOME", "/home/u"}};
  g.files["/home/u/.aggregator.yaml"] = "d: true\n";
  expect_usage_error(g.parse({}), g, {"unknown key \"d\""});
}

TEST(Flags, HelpShowsTheShortName) {
  Fixture f;
  f.flags.add_short_name("d", "debug");
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "-d, --debug[=bool]", f.flags.usage());
}

TEST(Flags, ShortNameRegistrationMistakesThrow) {
  Fixture f;
  f.flags.add_short_name("d", "debug");
  EXPECT_THROW(f.flags.add_short_name("d", "port"), std::invalid_argument);      // taken
  EXPECT_THROW(f.flags.add_short_name("D", "debug"), std::invalid_argument);     // the flag has one
  EXPECT_THROW(f.flags.add_short_name("p", "missing"), std::invalid_argument);   // no such flag
  EXPECT_THROW(f.flags.add_short_name("h", "port"), std::invalid_argument);      // --help's
  EXPECT_THROW(f.flags.add_short_name("port", "ratio"), std::invalid_argument);  // a flag's name
  bool other = false;
  EXPECT_THROW(f.flags.add_bool("d", &other, ""), std::invalid_argument);  // a short name
}

// ---- --driver: one choice ----

TEST(Flags, SingleChoiceFlagAcceptsOnlyItsValue) {
  Fixture f;
  std::string driver = "nats";
  f.flags.add_choice("driver", &driver, {"nats"}, "message broker driver");
  expect_runs(f.parse({"--driver", "nats"}), f);
  EXPECT_EQ(driver, "nats");
  for (const char* bad : {"stan", "NATS", "", "nats "}) {
    Fixture g;
    g.flags.add_choice("driver", &driver, {"nats"}, "message broker driver");
    expect_usage_error(g.parse({std::string("--driver=") + bad}), g,
                       {"for flag --driver", "only nats is supported"});
  }
  Fixture h;
  h.flags.add_choice("driver", &driver, {"nats"}, "message broker driver");
  h.environment["VANTAGE_DRIVER"] = "kafka";
  expect_usage_error(h.parse({}), h, {"VANTAGE_DRIVER", "only nats is supported"});
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "--driver nats", h.flags.usage());
}

TEST(Flags, ChoiceFlagListsItsChoices) {
  Fixture f;
  std::string scope = "a";
  f.flags.add_choice("scope", &scope, {"a", "b"}, "a scope");
  expect_runs(f.parse({"--scope=b"}), f);
  EXPECT_EQ(scope, "b");
  Fixture g;
  g.flags.add_choice("scope", &scope, {"a", "b"}, "a scope");
  expect_usage_error(g.parse({"--scope=c"}), g, {"must be one of a, b"});
}

// ---- The config file ----

// The fixture's flags with --config, default $HOME/.aggregator.yaml, HOME=/home/u.
struct ConfigFixture : Fixture {
  static constexpr const char* kDefaultFile = "/home/u/.aggregator.yaml";
  ConfigFixture() {
    flags.add_config_file(".aggregator.yaml");
    environment["HOME"] = "/home/u";
  }
};

TEST(ConfigFile, DefaultFileUnderHomeFillsUnsetFlags) {
  ConfigFixture f;
  f.files[ConfigFixture::kDefaultFile] =
      "nats-url: nats://file:4222\n"
      "debug: true\n"
      "port: 9001\n"
      "ratio: 0.75\n"
      "retention: 36h\n"
      "ping-interval: 10s\n"
      "filter:\n  - a\n  - b\n"
      "listen: \"[::1]:9090\"\n";
  const ParseOutcome outcome = f.parse({});
  expect_runs(outcome, f);
  EXPECT_EQ(f.nats_url, "nats://file:4222");
  EXPECT_TRUE(f.debug);
  EXPECT_EQ(f.port, 9001);
  EXPECT_DOUBLE_EQ(f.ratio, 0.75);
  EXPECT_EQ(f.retention, 36h);
  EXPECT_EQ(f.ping_interval, 10s);
  EXPECT_EQ(f.filters, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(f.listen, (ListenAddress{"::1", 9090}));
  EXPECT_EQ(f.flags.source("port"), FlagSource::kConfigFile);
  EXPECT_EQ(f.flags.source("max-connections"), FlagSource::kDefault);
  EXPECT_EQ(outcome.config_file, ConfigFixture::kDefaultFile);
}

TEST(ConfigFile, PrecedenceIsFlagThenOursThenVantageThenFileThenDefault) {
  ConfigFixture f;
  f.files[ConfigFixture::kDefaultFile] =
      "nats-url: nats://file:4222\n"  // the command line wins
      "port: 1001\n"                  // OVALSTREAM_PORT wins
      "retention: 1h\n"               // VANTAGE_RETENTION wins
      "max-connections: 7\n"          // only here: the file wins over the default
      "filter: [file]\n";             // OVALSTREAM_FILTER wins over VANTAGE_FILTER and the file
  f.environment.insert({{"OVALSTREAM_PORT", "1002"},
                        {"VANTAGE_PORT", "1003"},
                        {"VANTAGE_RETENTION", "2h"},
                        {"OVALSTREAM_FILTER", "ours"},
                        {"VANTAGE_FILTER", "vantage"},
                        {"VANTAGE_NATS_URL", "nats://vantage:4222"}});
  expect_runs(f.parse({"--nats-url", "nats://cli:4222"}), f);
  EXPECT_EQ(f.nats_url, "nats://cli:4222");
  EXPECT_EQ(f.port, 1002);
  EXPECT_EQ(f.retention, 2h);
  EXPECT_EQ(f.max_connections, 7);
  EXPECT_EQ(f.filters, std::vector<std::string>{"ours"});
  EXPECT_EQ(f.ping_interval, 54s);  // nowhere: the default
  EXPECT_EQ(f.flags.source("nats-url"), FlagSource::kCommandLine);
  EXPECT_EQ(f.flags.source("retention"), FlagSource::kEnvironment);
  EXPECT_EQ(f.flags.source("max-connections"), FlagSource::kConfigFile);
  EXPECT_EQ(f.flags.source("ping-interval"), FlagSource::kDefault);
}

TEST(ConfigFile, MissingDefaultFileIsFine) {
  ConfigFixture f;
  const ParseOutcome outcome = f.parse({});
  expect_runs(outcome, f);
  EXPECT_EQ(f.err.str(), "");
  EXPECT_EQ(outcome.config_file, "");
  EXPECT_EQ(f.file_reads, 1);
}

TEST(ConfigFile, NoHomeMeansNoDefaultFile) {
  ConfigFixture f;
  f.environment.erase("HOME");
  f.files["/.aggregator.yaml"] = "bogus: 1\n";
  f.files[".aggregator.yaml"] = "bogus: 1\n";
  expect_runs(f.parse({}), f);
  EXPECT_EQ(f.file_reads, 0);
}

TEST(ConfigFile, HomeWithATrailingSlash) {
  ConfigFixture f;
  f.environment["HOME"] = "/home/u/";
  f.files[ConfigFixture::kDefaultFile] = "port: 1\n";
  expect_runs(f.parse({}), f);
  EXPECT_EQ(f.port, 1);
}

TEST(ConfigFile, UnreadableDefaultFileIsAnError) {
  ConfigFixture f;
  const ParseOutcome outcome = f.flags.parse(
      std::vector<std::string>{}, f.out, f.err,
      [](std::string_view name) -> std::optional<std::string> {
        if (name == "HOME") return "/home/u";
        return std::nullopt;
      },
      [](const std::string&) {
        return ConfigFileText{ConfigFileText::Status::kUnreadable, "", "Permission denied"};
      });
  expect_usage_error(outcome, f,
                     {"cannot read config file \"/home/u/.aggregator.yaml\"", "Permission denied"});
}

TEST(ConfigFile, ExplicitFileFromEverySource) {
  const std::vector<std::pair<std::vector<std::string>, std::map<std::string, std::string>>> cases = {
      {{"--config", "/etc/a.yaml"}, {}},
      {{"-config=/etc/a.yaml"}, {}},
      {{}, {{"OVALSTREAM_CONFIG", "/etc/a.yaml"}}},
      {{}, {{"VANTAGE_CONFIG", "/etc/a.yaml"}}},
      {{}, {{"OVALSTREAM_CONFIG", "/etc/a.yaml"}, {"VANTAGE_CONFIG", "/etc/other.yaml"}}},
  };
  for (const auto& [args, environment] : cases) {
    ConfigFixture f;
    f.environment.insert(environment.begin(), environment.end());
    f.files["/etc/a.yaml"] = "port: 4242\n";
    f.files[ConfigFixture::kDefaultFile] = "port: 1\n";  // not read when a file is named
    const ParseOutcome outcome = f.parse(args);
    expect_runs(outcome, f);
    EXPECT_EQ(f.port, 4242);
    EXPECT_EQ(outcome.config_file, "/etc/a.yaml");
  }
}

TEST(ConfigFile, MissingExplicitFileIsAnErrorNamingHowItWasNamed) {
  ConfigFixture f;
  expect_usage_error(f.parse({"--config", "/etc/missing.yaml"}), f,
                     {"cannot read config file \"/etc/missing.yaml\" (named by --config)", "No such file"});
  ConfigFixture g;
  g.environment["VANTAGE_CONFIG"] = "/etc/missing.yaml";
  expect_usage_error(g.parse({}), g, {"\"/etc/missing.yaml\"", "environment variable VANTAGE_CONFIG"});
  ConfigFixture h;
  h.environment["OVALSTREAM_CONFIG"] = "/etc/missing.yaml";
  expect_usage_error(h.parse({}), h, {"environment variable OVALSTREAM_CONFIG"});
}

TEST(ConfigFile, EmptyConfigFlagReadsNoFile) {
  ConfigFixture f;
  f.files[ConfigFixture::kDefaultFile] = "bogus: 1\n";
  expect_runs(f.parse({"--config="}), f);
  EXPECT_EQ(f.file_reads, 0);
  // An empty variable is unset, as for every flag: the default file is read.
  ConfigFixture g;
  g.environment["OVALSTREAM_CONFIG"] = "";
  g.files[ConfigFixture::kDefaultFile] = "port: 2\n";
  expect_runs(g.parse({}), g);
  EXPECT_EQ(g.port, 2);
}

TEST(ConfigFile, UnknownKeyIsAnErrorNamingFileLineAndKey) {
  ConfigFixture f;
  f.files[ConfigFixture::kDefaultFile] = "debug: true\nnats-ur: nats://x:4222\n";
  expect_usage_error(f.parse({}), f,
                     {"config file \"/home/u/.aggregator.yaml\", line 2: unknown key \"nats-ur\"",
                      "did you mean nats-url?"});
  ConfigFixture g;  // even with an empty value, and even when the flag it may mean is set elsewhere
  g.files[ConfigFixture::kDefaultFile] = "verbose:\n";
  expect_usage_error(g.parse({"--debug"}), g, {"unknown key \"verbose\""});
  for (const char* reserved : {"help: true\n", "version: true\n", "h: true\n"}) {
    ConfigFixture h;
    h.files[ConfigFixture::kDefaultFile] = reserved;
    expect_usage_error(h.parse({}), h, {"unknown key"});
  }
}

TEST(ConfigFile, KeysOfOtherCommandsAreAccepted) {
  ConfigFixture f;
  f.flags.accept_config_keys({"speed", "file"});
  f.files[ConfigFixture::kDefaultFile] = "speed: 10\nfile: x.jsonl\nport: 3\n";
  expect_runs(f.parse({}), f);
  EXPECT_EQ(f.port, 3);
}

TEST(ConfigFile, KeysAreCaseInsensitiveAsViperReadThem) {
  ConfigFixture f;
  f.files[ConfigFixture::kDefaultFile] = "NATS-URL: nats://upper:4222\nDebug: true\n";
  expect_runs(f.parse({}), f);
  EXPECT_EQ(f.nats_url, "nats://upper:4222");
  EXPECT_TRUE(f.debug);
}

TEST(ConfigFile, WrongTypeIsAnErrorNamingFileKeyAndLine) {
  ConfigFixture f;
  f.files[ConfigFixture::kDefaultFile] = "debug: true\nnats-url:\n  host: x\n";
  expect_usage_error(f.parse({}), f,
                     {"config file \"/home/u/.aggregator.yaml\", line 2: key \"nats-url\" holds a mapping"});
  ConfigFixture g;
  g.files[ConfigFixture::kDefaultFile] = "port:\n  - 1\n  - 2\n";
  expect_usage_error(g.parse({}), g, {"line 1", "key \"port\" takes one value (int), not a list"});
  ConfigFixture h;
  h.files[ConfigFixture::kDefaultFile] = "filter: [a, [b]]\n";
  expect_usage_error(h.parse({}), h, {"key \"filter\"", "item 2"});
}

TEST(ConfigFile, MalformedYamlIsAnErrorNamingFileAndLine) {
  ConfigFixture f;
  f.files[ConfigFixture::kDefaultFile] = "debug: true\nfilter: [a, b\n";
  expect_usage_error(f.parse({}), f,
                     {"config file \"/home/u/.aggregator.yaml\", line 3, column 1: not valid YAML"});
}

TEST(ConfigFile, TopLevelThatIsNotAMappingIsAnError) {
  for (const char* text : {"nats://x:4222\n", "- debug\n"}) {
    ConfigFixture f;
    f.files[ConfigFixture::kDefaultFile] = text;
    expect_usage_error(f.parse({}), f, {"config file \"/home/u/.aggregator.yaml\"", "top level"});
  }
}

TEST(ConfigFile, ValuesAreCheckedLikeTheCommandLine) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"port: 70000\n", "must be between 1 and 65535"},
      {"port: 0x10\n", "not an integer"},
      {"port: \"\"\n", "not an integer"},
      {"debug: yes\n", "not a boolean"},
      {"retention: 1d\n", "not a duration"},
      {"retention: 500ms\n", "must be between 1s and 8760h0m0s"},
      {"ping-interval: 1.5ms\n", "finer than 1ms"},
      {"ratio: .nan\n", "not a number"},
      {"listen: 8080\n", "missing port"},
  };
  for (const auto& [text, reason] : cases) {
    ConfigFixture f;
    f.files[ConfigFixture::kDefaultFile] = "nats-url: nats://x:4222\n" + text;
    expect_usage_error(f.parse({}), f,
                       {"in config file \"/home/u/.aggregator.yaml\", line 2, key", "(flag --", reason});
  }
}

TEST(ConfigFile, ValueOverriddenByAHigherSourceIsNotChecked) {
  ConfigFixture f;
  f.files[ConfigFixture::kDefaultFile] = "port: abc\n";
  f.environment["VANTAGE_PORT"] = "5";
  expect_runs(f.parse({}), f);
  EXPECT_EQ(f.port, 5);
}

TEST(ConfigFile, ListFlagFromSequenceScalarOrEmptyList) {
  ConfigFixture f;
  f.files[ConfigFixture::kDefaultFile] = "filter: \"a, b,c\"\n";
  expect_runs(f.parse({}), f);
  EXPECT_EQ(f.filters, (std::vector<std::string>{"a", "b", "c"}));
  ConfigFixture g;
  g.files[ConfigFixture::kDefaultFile] = "filter: []\n";
  expect_runs(g.parse({}), g);
  EXPECT_TRUE(g.filters.empty());
  EXPECT_EQ(g.flags.source("filter"), FlagSource::kConfigFile);
}

TEST(ConfigFile, EmptyValueKeepsTheDefault) {
  ConfigFixture f;
  f.files[ConfigFixture::kDefaultFile] = "nats-url:\nport: ~\n";
  expect_runs(f.parse({}), f);
  EXPECT_EQ(f.nats_url, "nats://127.0.0.1:4222");
  EXPECT_EQ(f.port, 8080);
  EXPECT_EQ(f.flags.source("port"), FlagSource::kDefault);
  // An empty string is a value.
  ConfigFixture g;
  g.files[ConfigFixture::kDefaultFile] = "nats-url: \"\"\n";
  expect_runs(g.parse({}), g);
  EXPECT_EQ(g.nats_url, "");
}

TEST(ConfigFile, DeprecatedKeyWarns) {
  ConfigFixture f;
  f.files[ConfigFixture::kDefaultFile] = "nats-cluster-id: test-cluster\n";
  const ParseOutcome outcome = f.parse({});
  expect_runs(outcome, f);
  ASSERT_EQ(outcome.warnings.size(), 1u);
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "config file key nats-cluster-id", outcome.warnings[0]);
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "no effect", outcome.warnings[0]);
}

TEST(ConfigFile, FileCannotNameAnotherFile) {
  ConfigFixture f;
  f.files[ConfigFixture::kDefaultFile] = "config: /etc/other.yaml\n";
  expect_usage_error(f.parse({}), f, {"key \"config\" cannot name another config file"});
}

TEST(ConfigFile, HelpWinsOverABadConfigFile) {
  ConfigFixture f;
  f.files[ConfigFixture::kDefaultFile] = "{{{";
  const ParseOutcome outcome = f.parse({"--help"});
  EXPECT_EQ(outcome.exit_code, 0);
  EXPECT_EQ(f.err.str(), "");
  EXPECT_EQ(f.file_reads, 0);
}

TEST(ConfigFile, HelpNamesTheSourcesAndTheConfigFlag) {
  ConfigFixture f;
  const std::string usage = f.flags.usage();
  for (const char* expected : {"OVALSTREAM_<FLAG>, then VANTAGE_<FLAG>, then the --config file",
                               "--config file", "OVALSTREAM_CONFIG", "(default $HOME/.aggregator.yaml)"}) {
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, expected, usage);
  }
  Fixture without;
  EXPECT_PRED_FORMAT2(::testing::IsNotSubstring, "--config", without.flags.usage());
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "VANTAGE_<FLAG>", without.flags.usage());
}

TEST(ConfigFile, NamesListsTheRegisteredFlags) {
  ConfigFixture f;
  const std::vector<std::string> names = f.flags.names();
  for (const char* name : {"nats-url", "debug", "filter", "nats-cluster-id", "config"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
  }
  EXPECT_EQ(std::find(names.begin(), names.end(), "help"), names.end());
}

TEST(ConfigFile, RegisteredOnce) {
  ConfigFixture f;
  EXPECT_THROW(f.flags.add_config_file(".other.yaml"), std::invalid_argument);
}

}  // namespace
}  // namespace ovalstream::runtime
