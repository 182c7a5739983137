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
    return flags.parse(args, out, err, [this](std::string_view name) -> std::optional<std::string> {
      const auto it = environment.find(std::string(name));
      if (it == environment.end()) return std::nullopt;
      return it->second;
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

}  // namespace
}  // namespace ovalstream::runtime
