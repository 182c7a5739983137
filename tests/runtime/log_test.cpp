// JSON-lines logging: every line is one JSON object that RapidJSON reads back to what was logged.
#include "ovalstream/runtime/log.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace ovalstream::runtime {
namespace {

using namespace std::chrono_literals;

// 2024-02-29T23:59:59.007Z
constexpr std::chrono::system_clock::time_point kFixedTime{std::chrono::milliseconds{1709251199007}};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  return lines;
}

rapidjson::Document parse_json(const std::string& line) {
  rapidjson::Document document;
  document.Parse(line.data(), line.size());
  EXPECT_FALSE(document.HasParseError()) << line;
  EXPECT_TRUE(document.IsObject()) << line;
  return document;
}

std::vector<std::string> keys_of(const rapidjson::Document& document) {
  std::vector<std::string> keys;
  for (auto it = document.MemberBegin(); it != document.MemberEnd(); ++it)
    keys.emplace_back(it->name.GetString());
  return keys;
}

// A logger on a string stream with a fixed wall clock and a hand-driven monotonic clock.
struct Capture {
  std::ostringstream out;
  std::chrono::steady_clock::time_point now{};
  Logger logger{"aggregator", out, options(LogLevel::kInfo)};

  LoggerOptions options(LogLevel level) {
    LoggerOptions options;
    options.level = level;
    options.wall_clock = [] { return kFixedTime; };
    options.monotonic_clock = [this] { return now; };
    return options;
  }
  std::vector<std::string> lines() const { return lines_of(out.str()); }
};

TEST(Log, LineShapeAndFieldTypes) {
  Capture capture;
  capture.logger.info("nats connected", {{"url", "nats://127.0.0.1:4222"},
                                         {"servers", 3},
                                         {"lag", std::int64_t{-5}},
                                         {"bytes", std::uint64_t{18446744073709551615u}},
                                         {"ratio", 0.25},
                                         {"tls", false},
                                         {"name", std::string("x")}});
  const auto lines = capture.lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(capture.out.str().ends_with("}\n"));
  const auto json = parse_json(lines[0]);
  EXPECT_EQ(keys_of(json), (std::vector<std::string>{"ts", "level", "msg", "component", "url", "servers",
                                                     "lag", "bytes", "ratio", "tls", "name"}));
  EXPECT_STREQ(json["ts"].GetString(), "2024-02-29T23:59:59.007Z");
  EXPECT_STREQ(json["level"].GetString(), "info");
  EXPECT_STREQ(json["msg"].GetString(), "nats connected");
  EXPECT_STREQ(json["component"].GetString(), "aggregator");
  EXPECT_STREQ(json["url"].GetString(), "nats://127.0.0.1:4222");
  ASSERT_TRUE(json["servers"].IsInt64());
  EXPECT_EQ(json["servers"].GetInt64(), 3);
  EXPECT_EQ(json["lag"].GetInt64(), -5);
  ASSERT_TRUE(json["bytes"].IsUint64());
  EXPECT_EQ(json["bytes"].GetUint64(), 18446744073709551615u);
  ASSERT_TRUE(json["ratio"].IsDouble());
  EXPECT_DOUBLE_EQ(json["ratio"].GetDouble(), 0.25);
  ASSERT_TRUE(json["tls"].IsBool());
  EXPECT_FALSE(json["tls"].GetBool());
  EXPECT_STREQ(json["name"].GetString(), "x");
}

TEST(Log, TimestampIsRfc3339UtcWithMilliseconds) {
  EXPECT_EQ(format_log_time(kFixedTime), "2024-02-29T23:59:59.007Z");
  EXPECT_EQ(format_log_time(std::chrono::system_clock::time_point{}), "1970-01-01T00:00:00.000Z");
  // Sub-millisecond digits are cut, not rounded up into the next second.
  EXPECT_EQ(format_log_time(std::chrono::system_clock::time_point{std::chrono::microseconds{1'999'999}}),
            "1970-01-01T00:00:01.999Z");
}

TEST(Log, StringsAreEscapedAndReadBackUnchanged) {
  Capture capture;
  const std::string tricky =
      "quote \" backslash \\ newline \n tab \t bell \x07 nul-free unicode \xC3\xA9\xE2\x82\xAC";
  capture.logger.warn(tricky, {{tricky, tricky}});
  const auto lines = capture.lines();
  ASSERT_EQ(lines.size(), 1u) << "a newline in a value must not split the line";
  const auto json = parse_json(lines[0]);
  EXPECT_EQ(std::string(json["msg"].GetString()), tricky);
  ASSERT_TRUE(json.HasMember(tricky.c_str()));
  EXPECT_EQ(std::string(json[tricky.c_str()].GetString()), tricky);
}

TEST(Log, InvalidUtf8IsReplacedSoTheLineStaysValid) {
  Capture capture;
  capture.logger.warn("rejected event", {{"payload", std::string("ok\xFF\xC3(end\xE2\x82")}});
  const auto json = parse_json(capture.lines().at(0));
  EXPECT_EQ(std::string(json["payload"].GetString()),
            "ok\xEF\xBF\xBD\xEF\xBF\xBD(end\xEF\xBF\xBD\xEF\xBF\xBD");
  // Overlong encodings and UTF-16 surrogates are invalid UTF-8 too.
  capture.logger.warn("x",
                      {{"overlong", std::string("\xC0\xAF")}, {"surrogate", std::string("\xED\xA0\x80")}});
  const auto second = parse_json(capture.lines().at(1));
  EXPECT_EQ(std::string(second["overlong"].GetString()), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(std::string(second["surrogate"].GetString()), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(Log, NonFiniteDoublesBecomeStrings) {
  Capture capture;
  capture.logger.info("x", {{"nan", std::nan("")},
                            {"up", std::numeric_limits<double>::infinity()},
                            {"down", -std::numeric_limits<double>::infinity()}});
  const auto json = parse_json(capture.lines().at(0));
  EXPECT_STREQ(json["nan"].GetString(), "NaN");
  EXPECT_STREQ(json["up"].GetString(), "+Inf");
  EXPECT_STREQ(json["down"].GetString(), "-Inf");
}

TEST(Log, FieldNamedLikeAFixedKeyIsRenamed) {
  Capture capture;
  capture.logger.info("real", {{"msg", "fake"}, {"level", "fake"}, {"ts", 1}, {"component", "fake"}});
  const auto json = parse_json(capture.lines().at(0));
  EXPECT_EQ(keys_of(json), (std::vector<std::string>{"ts", "level", "msg", "component", "field.msg",
                                                     "field.level", "field.ts", "field.component"}));
  EXPECT_STREQ(json["msg"].GetString(), "real");
}

TEST(Log, LevelsFilterAndDebugIsOffByDefault) {
  Capture capture;
  capture.logger.debug("hidden");
  capture.logger.info("shown info");
  capture.logger.warn("shown warn");
  capture.logger.error("shown error");
  auto lines = capture.lines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_STREQ(parse_json(lines[0])["level"].GetString(), "info");
  EXPECT_STREQ(parse_json(lines[1])["level"].GetString(), "warn");
  EXPECT_STREQ(parse_json(lines[2])["level"].GetString(), "error");
  EXPECT_FALSE(capture.logger.enabled(LogLevel::kDebug));

  capture.logger.set_level(LogLevel::kDebug);
  capture.logger.debug("now shown");
  lines = capture.lines();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_STREQ(parse_json(lines[3])["level"].GetString(), "debug");

  capture.logger.set_level(LogLevel::kWarn);
  capture.logger.info("hidden again");
  EXPECT_EQ(capture.lines().size(), 4u);
}

TEST(Log, DefaultLoggerLevelIsInfo) {
  std::ostringstream out;
  Logger logger("x", out);
  EXPECT_EQ(logger.level(), LogLevel::kInfo);
  logger.debug("hidden");
  EXPECT_EQ(out.str(), "");
}

TEST(Log, ChildHasItsComponentAndSharesSinkAndLevel) {
  Capture capture;
  const Logger hub = capture.logger.child("hub");
  hub.info("listening", {{"port", 8080}});
  capture.logger.info("parent");
  capture.logger.set_level(LogLevel::kDebug);
  hub.debug("child sees the parent's level");
  const auto lines = capture.lines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_STREQ(parse_json(lines[0])["component"].GetString(), "hub");
  EXPECT_STREQ(parse_json(lines[1])["component"].GetString(), "aggregator");
  EXPECT_STREQ(parse_json(lines[2])["level"].GetString(), "debug");
  EXPECT_EQ(hub.component(), "hub");
}

TEST(Log, FieldsFromAVector) {
  Capture capture;
  std::vector<Field> fields;
  fields.emplace_back("a", 1);
  fields.emplace_back("b", "two");
  capture.logger.log(LogLevel::kError, "dynamic", fields);
  const auto json = parse_json(capture.lines().at(0));
  EXPECT_EQ(json["a"].GetInt64(), 1);
  EXPECT_STREQ(json["b"].GetString(), "two");
  EXPECT_STREQ(json["level"].GetString(), "error");
}

TEST(Log, LogOnceWritesTheFirstTimeOnlyPerKey) {
  Capture capture;
  EXPECT_TRUE(capture.logger.warn_once("competition.x", "rejected event", {{"subject", "competition.x"}}));
  EXPECT_FALSE(capture.logger.warn_once("competition.x", "rejected event", {{"subject", "competition.x"}}));
  EXPECT_TRUE(capture.logger.warn_once("competition.y", "rejected event", {{"subject", "competition.y"}}));
  EXPECT_FALSE(capture.logger.log_once("competition.y", LogLevel::kWarn, "rejected event"));
  const auto lines = capture.lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_STREQ(parse_json(lines[0])["subject"].GetString(), "competition.x");
  EXPECT_STREQ(parse_json(lines[1])["subject"].GetString(), "competition.y");
}

TEST(Log, LogOnceKeysAreSeparatePerComponent) {
  Capture capture;
  const Logger nats = capture.logger.child("nats");
  EXPECT_TRUE(capture.logger.warn_once("k", "one"));
  EXPECT_TRUE(nats.warn_once("k", "one"));
  EXPECT_FALSE(nats.warn_once("k", "one"));
  EXPECT_EQ(capture.lines().size(), 2u);
}

TEST(Log, LogOnceFilteredByLevelDoesNotUseUpTheKey) {
  Capture capture;
  EXPECT_FALSE(capture.logger.log_once("k", LogLevel::kDebug, "hidden"));
  capture.logger.set_level(LogLevel::kDebug);
  EXPECT_TRUE(capture.logger.log_once("k", LogLevel::kDebug, "shown"));
  EXPECT_EQ(capture.lines().size(), 1u);
}

TEST(Log, LogOnceMemoryIsBounded) {
  Capture capture;
  EXPECT_TRUE(capture.logger.warn_once("first", "x"));
  for (std::size_t i = 0; i < Logger::kMaxRememberedKeys; ++i)
    capture.logger.warn_once(std::to_string(i), "x");
  // The memory was forgotten once full: "first" is logged once more rather than memory growing forever.
  EXPECT_TRUE(capture.logger.warn_once("first", "x"));
}

TEST(Log, LogEveryWritesAtMostOncePerIntervalDrivenByTheClock) {
  Capture capture;
  const auto stream_missing = [&] {
    return capture.logger.log_every("stream", 5s, LogLevel::kWarn, "stream missing", {{"stream", "VANTAGE"}});
  };
  EXPECT_TRUE(stream_missing());  // the first call writes
  capture.now += 1s;
  EXPECT_FALSE(stream_missing());
  capture.now += 3s;
  EXPECT_FALSE(stream_missing());
  capture.now += 999ms;
  EXPECT_FALSE(stream_missing());  // 4.999 s after the first line
  capture.now += 1ms;
  EXPECT_TRUE(stream_missing());  // 5 s: written again, counting the three dropped
  capture.now += 5s;
  EXPECT_TRUE(stream_missing());  // nothing dropped in between

  const auto lines = capture.lines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_FALSE(parse_json(lines[0]).HasMember("suppressed"));
  const auto second = parse_json(lines[1]);
  ASSERT_TRUE(second.HasMember("suppressed"));
  EXPECT_EQ(second["suppressed"].GetUint64(), 3u);
  EXPECT_STREQ(second["stream"].GetString(), "VANTAGE");
  EXPECT_FALSE(parse_json(lines[2]).HasMember("suppressed"));
}

TEST(Log, LogEveryKeysAreIndependent) {
  Capture capture;
  EXPECT_TRUE(capture.logger.log_every("a", 5s, LogLevel::kWarn, "a"));
  EXPECT_TRUE(capture.logger.log_every("b", 5s, LogLevel::kWarn, "b"));
  EXPECT_FALSE(capture.logger.log_every("a", 5s, LogLevel::kWarn, "a"));
  EXPECT_EQ(capture.lines().size(), 2u);
}

TEST(Log, ParsesLevelNames) {
  EXPECT_EQ(parse_log_level("debug"), LogLevel::kDebug);
  EXPECT_EQ(parse_log_level("info"), LogLevel::kInfo);
  EXPECT_EQ(parse_log_level("warn"), LogLevel::kWarn);
  EXPECT_EQ(parse_log_level("warning"), LogLevel::kWarn);
  EXPECT_EQ(parse_log_level("error"), LogLevel::kError);
  EXPECT_EQ(parse_log_level("verbose"), std::nullopt);
  EXPECT_EQ(log_level_name(LogLevel::kWarn), "warn");
}

TEST(Log, ConcurrentLinesNeverInterleave) {
  Capture capture;
  constexpr int kThreads = 8;
  constexpr int kLinesPerThread = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&capture, t] {
      const Logger logger = capture.logger.child("worker" + std::to_string(t));
      for (int i = 0; i < kLinesPerThread; ++i) {
        logger.info("line", {{"thread", t}, {"i", i}, {"padding", std::string(200, 'x')}});
        logger.log_every("shared", 1s, LogLevel::kWarn, "rate limited");
        logger.warn_once("once", "once per component");
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const auto lines = capture.lines();
  // Per thread: every info line, one rate-limited line (the clock never moves) and one log-once line.
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(kThreads * (kLinesPerThread + 2)));
  std::vector<int> next_index(kThreads, 0);
  for (const auto& line : lines) {
    const auto json = parse_json(line);
    if (std::string(json["msg"].GetString()) != "line") continue;
    const int thread = static_cast<int>(json["thread"].GetInt64());
    EXPECT_EQ(json["i"].GetInt64(), next_index[thread]++);
  }
  for (const int count : next_index) EXPECT_EQ(count, kLinesPerThread);
}

}  // namespace
}  // namespace ovalstream::runtime
