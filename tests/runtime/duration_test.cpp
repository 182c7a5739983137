// Go duration syntax: the cases of Go's own time package tests, so a value means what it meant to the Go
// original.
#include "ovalstream/runtime/duration.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>

namespace ovalstream::runtime {
namespace {

using namespace std::chrono_literals;
using std::chrono::nanoseconds;

struct DurationCase {
  const char* text;
  nanoseconds expected;
};

TEST(GoDuration, ParsesWhatGoParses) {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  const DurationCase cases[] = {
      {"0", 0ns},
      {"-0", 0ns},
      {"+0", 0ns},
      {"5s", 5s},
      {"-5s", -5s},
      {"+5s", 5s},
      {"5.0s", 5s},
      {"5.6s", 5600ms},
      {"5.s", 5s},
      {".5s", 500ms},
      {"1.004s", 1004ms},
      {"100.00100s", 100001ms},
      {"10ns", 10ns},
      {"11us", 11us},
      {"12\xC2\xB5s", 12us},  // µ micro sign
      {"12\xCE\xBCs", 12us},  // μ Greek mu
      {"500ms", 500ms},
      {"1.5s", 1500ms},
      {"15m", 15min},
      {"90m", 90min},
      {"24h", 24h},
      {"1h30m", 90min},
      {"3h30m", 210min},
      {"10.5s4m", 4min + 10500ms},
      {"-2m3.4s", -(2min + 3400ms)},
      {"1h2m3s4ms5us6ns", 1h + 2min + 3s + 4ms + 5us + 6ns},
      {"39h9m14.425s", 39h + 9min + 14425ms},
      {"0.3333333333333333333h", 20min},
      {"9007199254740993ns", nanoseconds{9007199254740993}},
      {"9223372036854775807ns", nanoseconds{kMax}},
      {"9223372036854775.807us", nanoseconds{kMax}},
      {"9223372036s854ms775us807ns", nanoseconds{kMax}},
      {"-9223372036854775808ns", nanoseconds{kMin}},
      {"0.100000000000000000000h", 6min},
      {"0.830103483285477580700h", 49min + 48s + 372539827ns},
  };
  for (const auto& [text, expected] : cases) {
    const auto parsed = parse_go_duration(text);
    ASSERT_TRUE(parsed.has_value()) << text;
    EXPECT_EQ(parsed->count(), expected.count()) << text;
  }
}

TEST(GoDuration, RefusesWhatGoRefuses) {
  const char* const cases[] = {
      "",
      "3",
      "10",
      "-",
      "s",
      ".",
      "-.",
      ".s",
      "+.s",
      "1d",
      "1 s",
      "1S",
      "1sec",
      "1h 30m",
      "\x85\x85",
      "\xff"
      "ff",
      "hello \xff"
      "ff world",
      "9223372036854775808ns",   // one past the int64 maximum
      "9223372036854775.808us",  // the same in microseconds
      "-9223372036854775809ns",  // one below the minimum
      "3000000h",                // past 292 years
  };
  for (const char* text : cases) {
    EXPECT_FALSE(parse_go_duration(text).has_value()) << '"' << text << '"';
  }
}

TEST(GoDuration, FormatsAsGoDoes) {
  EXPECT_EQ(format_go_duration(0ns), "0s");
  EXPECT_EQ(format_go_duration(1ns), "1ns");
  EXPECT_EQ(format_go_duration(1100ns), "1.1\xC2\xB5s");
  EXPECT_EQ(format_go_duration(2200us), "2.2ms");
  EXPECT_EQ(format_go_duration(500ms), "500ms");
  EXPECT_EQ(format_go_duration(3300ms), "3.3s");
  EXPECT_EQ(format_go_duration(4min + 5s), "4m5s");
  EXPECT_EQ(format_go_duration(4min + 5001ms), "4m5.001s");
  EXPECT_EQ(format_go_duration(5h + 6min + 7001ms), "5h6m7.001s");
  EXPECT_EQ(format_go_duration(8min + 1ns), "8m0.000000001s");
  EXPECT_EQ(format_go_duration(24h), "24h0m0s");
  EXPECT_EQ(format_go_duration(-90s), "-1m30s");
  EXPECT_EQ(format_go_duration(nanoseconds::max()), "2562047h47m16.854775807s");
  EXPECT_EQ(format_go_duration(nanoseconds::min()), "-2562047h47m16.854775808s");
}

TEST(GoDuration, FormattedTextParsesBack) {
  for (const nanoseconds value :
       {nanoseconds{1}, nanoseconds{1100}, nanoseconds{2'200'000}, nanoseconds{3'300'000'000},
        nanoseconds{-5'000'000'001}, nanoseconds::max(), nanoseconds::min()}) {
    const auto parsed = parse_go_duration(format_go_duration(value));
    ASSERT_TRUE(parsed.has_value()) << format_go_duration(value);
    EXPECT_EQ(parsed->count(), value.count());
  }
}

}  // namespace
}  // namespace ovalstream::runtime
