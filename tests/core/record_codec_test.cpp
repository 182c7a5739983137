// The recording format: RFC 3339 times, reading and writing record lines byte for byte, and the top-level
// member scanner they rest on.
#include <gtest/gtest.h>

#include <rapidjson/document.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ovalstream/core/event.hpp"
#include "ovalstream/core/record_codec.hpp"
#include "support/recording.hpp"
#include "support/skips.hpp"

namespace ovalstream::core {
namespace {

// 2020-01-12T13:45:54Z, the second of the recording's first line.
constexpr std::int64_t kFirstLineSecond = 1578836754;
constexpr std::int64_t kMicros = 1'000'000;

using OptTime = std::optional<RecordTime>;

// The error of a read; kNone when it succeeded.
RecordError error_of(const RecordLineResult& record) {
  return record.ok() ? RecordError::kNone : record.error();
}

RecordTime rt(std::int64_t unix_micros, int offset_minutes) {
  return RecordTime{unix_micros, offset_minutes};
}
OptTime time_of(std::int64_t unix_micros, int offset_minutes) {
  return rt(unix_micros, offset_minutes);
}

bool is_valid_json(std::string_view text) {
  rapidjson::Document document;
  document.Parse(text.data(), text.size());
  return !document.HasParseError();
}

// The lines of the real recording (without their '\n'); nullopt when the file is absent.
std::optional<std::vector<std::string>> real_recording_lines() {
  std::ifstream in(testing::shared_data_dir() + "/" + testing::kRealRecordingName, std::ios::binary);
  if (!in) return std::nullopt;
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

// ---------------------------------------------------------------------------------------------------------
// parse_rfc3339

TEST(Rfc3339Parse, RecordingFormats) {
  EXPECT_EQ(parse_rfc3339("2020-01-12T14:45:54.216352+01:00"),
            time_of(kFirstLineSecond * kMicros + 216352, 60));
  EXPECT_EQ(parse_rfc3339("2020-01-12T14:45:54.21907+01:00"),
            time_of(kFirstLineSecond * kMicros + 219070, 60));
  EXPECT_EQ(parse_rfc3339("2020-01-12T14:45:54.2169+01:00"),
            time_of(kFirstLineSecond * kMicros + 216900, 60));
  EXPECT_EQ(parse_rfc3339("2020-01-12T14:49:54.61028+01:00"),
            time_of((kFirstLineSecond + 240) * kMicros + 610280, 60));
}

TEST(Rfc3339Parse, Utc) {
  EXPECT_EQ(parse_rfc3339("2020-01-12T13:45:54.216352Z"), time_of(kFirstLineSecond * kMicros + 216352, 0));
  EXPECT_EQ(parse_rfc3339("2020-01-12T13:45:54.216352+00:00"),
            time_of(kFirstLineSecond * kMicros + 216352, 0));
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00Z"), time_of(0, 0));
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00.000001Z"), time_of(1, 0));
  // RFC 3339 allows lower-case 't' and 'z'.
  EXPECT_EQ(parse_rfc3339("2020-01-12t13:45:54z"), time_of(kFirstLineSecond * kMicros, 0));
}

TEST(Rfc3339Parse, SameInstantInDifferentOffsets) {
  const auto utc = parse_rfc3339("2020-01-12T13:45:54Z");
  const auto plus = parse_rfc3339("2020-01-12T14:45:54+01:00");
  const auto minus = parse_rfc3339("2020-01-12T08:15:54-05:30");
  ASSERT_TRUE(utc && plus && minus);
  EXPECT_EQ(utc->unix_micros, kFirstLineSecond * kMicros);
  EXPECT_EQ(plus->unix_micros, kFirstLineSecond * kMicros);
  EXPECT_EQ(minus->unix_micros, kFirstLineSecond * kMicros);
  EXPECT_EQ(utc->utc_offset_minutes, 0);
  EXPECT_EQ(plus->utc_offset_minutes, 60);
  EXPECT_EQ(minus->utc_offset_minutes, -330);
}

TEST(Rfc3339Parse, NegativeOffsets) {
  EXPECT_EQ(parse_rfc3339("2020-02-29T23:59:59.000001-05:30"), time_of(1583040599000001, -330));
  EXPECT_EQ(parse_rfc3339("2020-01-12T13:45:54-00:01"), time_of((kFirstLineSecond + 60) * kMicros, -1));
  EXPECT_EQ(parse_rfc3339("2020-01-12T13:45:54-23:59"),
            time_of((kFirstLineSecond + 23 * 3600 + 59 * 60) * kMicros, -(23 * 60 + 59)));
  EXPECT_EQ(parse_rfc3339("2020-01-12T13:45:54+23:59"),
            time_of((kFirstLineSecond - 23 * 3600 - 59 * 60) * kMicros, 23 * 60 + 59));
}

TEST(Rfc3339Parse, OffsetCrossesMidnightAndYear) {
  // 2020-01-01T00:30+01:00 is 2019-12-31T23:30Z.
  EXPECT_EQ(parse_rfc3339("2020-01-01T00:30:00+01:00"), time_of(1577835000 * kMicros, 60));
  EXPECT_EQ(parse_rfc3339("2019-12-31T23:30:00Z"), time_of(1577835000 * kMicros, 0));
}

TEST(Rfc3339Parse, BeforeTheEpoch) {
  EXPECT_EQ(parse_rfc3339("1969-12-31T23:59:59.5Z"), time_of(-500000, 0));
  EXPECT_EQ(parse_rfc3339("1969-12-31T23:59:59.999999Z"), time_of(-1, 0));
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:59:59+01:00"), time_of(-1 * kMicros, 60));
}

TEST(Rfc3339Parse, FractionDigits) {
  const std::int64_t base = kFirstLineSecond * kMicros;
  EXPECT_EQ(parse_rfc3339("2020-01-12T13:45:54Z"), time_of(base, 0));
  EXPECT_EQ(parse_rfc3339("2020-01-12T13:45:54.2Z"), time_of(base + 200000, 0));
  EXPECT_EQ(parse_rfc3339("2020-01-12T13:45:54.21Z"), time_of(base + 210000, 0));
  EXPECT_EQ(parse_rfc3339("2020-01-12T13:45:54.000000Z"), time_of(base, 0));
  EXPECT_EQ(parse_rfc3339("2020-01-12T13:45:54.000001Z"), time_of(base + 1, 0));
  EXPECT_EQ(parse_rfc3339("2020-01-12T13:45:54.999999Z"), time_of(base + 999999, 0));
  // Beyond microseconds the digits are truncated, never rounded.
  EXPECT_EQ(parse_rfc3339("2020-01-12T13:45:54.2163529Z"), time_of(base + 216352, 0));
  EXPECT_EQ(parse_rfc3339("2020-01-12T13:45:54.21635299Z"), time_of(base + 216352, 0));
  EXPECT_EQ(parse_rfc3339("2020-01-12T13:45:54.216352999+01:00"),
            time_of(base - 3600 * kMicros + 216352, 60));
  EXPECT_EQ(parse_rfc3339("2020-01-12T13:45:54.999999999Z"), time_of(base + 999999, 0));
  // Ten digits is more than RFC 3339 text from Go can hold.
  EXPECT_EQ(parse_rfc3339("2020-01-12T13:45:54.2163529999Z"), std::nullopt);
  EXPECT_EQ(parse_rfc3339("2020-01-12T13:45:54.Z"), std::nullopt);
  EXPECT_EQ(parse_rfc3339("2020-01-12T13:45:54.+01:00"), std::nullopt);
  EXPECT_EQ(parse_rfc3339("2020-01-12T13:45:54,5Z"), std::nullopt);
}

TEST(Rfc3339Parse, LeapDays) {
  EXPECT_EQ(parse_rfc3339("2020-02-29T00:00:00Z"), time_of(1582934400 * kMicros, 0));
  EXPECT_EQ(parse_rfc3339("2000-02-29T00:00:00Z"), time_of(951782400 * kMicros, 0));
  EXPECT_EQ(parse_rfc3339("2020-03-01T00:00:00Z"), time_of((1582934400 + 86400) * kMicros, 0));
  EXPECT_EQ(parse_rfc3339("2019-02-29T00:00:00Z"), std::nullopt);
  EXPECT_EQ(parse_rfc3339("1900-02-29T00:00:00Z"), std::nullopt);
  EXPECT_EQ(parse_rfc3339("2100-02-29T00:00:00Z"), std::nullopt);
  EXPECT_EQ(parse_rfc3339("2020-02-30T00:00:00Z"), std::nullopt);
  EXPECT_TRUE(parse_rfc3339("2019-02-28T23:59:59Z").has_value());
}

TEST(Rfc3339Parse, DaysPerMonth) {
  const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};  // 2020
  for (int month = 1; month <= 12; ++month) {
    char valid[40];
    char invalid[40];
    std::snprintf(valid, sizeof valid, "2020-%02d-%02dT12:00:00Z", month, days[month - 1]);
    std::snprintf(invalid, sizeof invalid, "2020-%02d-%02dT12:00:00Z", month, days[month - 1] + 1);
    EXPECT_TRUE(parse_rfc3339(valid).has_value()) << valid;
    EXPECT_EQ(parse_rfc3339(invalid), std::nullopt) << invalid;
  }
}

TEST(Rfc3339Parse, OutOfRangeFields) {
  for (const std::string_view text : {
           "2020-00-12T14:45:54+01:00",  // month 0
           "2020-13-12T14:45:54+01:00",  // month 13
           "2020-01-00T14:45:54+01:00",  // day 0
           "2020-01-32T14:45:54+01:00",  // day 32
           "2020-04-31T14:45:54+01:00",  // 31 April
           "2020-01-12T24:00:00+01:00",  // hour 24
           "2020-01-12T25:45:54+01:00",  // hour 25
           "2020-01-12T14:60:54+01:00",  // minute 60
           "2020-01-12T14:45:61+01:00",  // second 61
           "2020-01-12T14:45:54+24:00",  // offset hour 24
           "2020-01-12T14:45:54+01:60",  // offset minute 60
       }) {
    EXPECT_EQ(parse_rfc3339(text), std::nullopt) << text;
  }
}

TEST(Rfc3339Parse, MalformedText) {
  for (const std::string_view text : {
           "",
           "2020",
           "2020-01-12",
           "2020-01-12T14:45",
           "2020-01-12T14:45:54",                // missing offset
           "2020-01-12T14:45:54.216352",         // missing offset after a fraction
           "2020-01-12T14:45:54+01",             // short offset
           "2020-01-12T14:45:54+01:0",           // short offset
           "2020-01-12T14:45:54+0100",           // offset without colon
           "2020-01-12T14:45:54+01-00",          // offset with a bad separator
           "2020-01-12T14:45:54 +01:00",         // space before the offset
           "2020-01-12T14:45:54.216352+01:00x",  // junk after
           "2020-01-12T14:45:54.216352+01:00 ",  // trailing space
           "2020-01-12T14:45:54ZZ",              // junk after Z
           "2020-01-12T14:45:54Z+01:00",         // both
           " 2020-01-12T14:45:54Z",              // leading space
           "2020-01-12 14:45:54Z",               // space instead of T
           "2020-01-12X14:45:54Z",               // wrong separator
           "2020/01/12T14:45:54Z",               // wrong date separator
           "2020-01-12T14.45.54Z",               // wrong time separator
           "20-01-12T14:45:54Z",                 // short year
           "02020-01-12T14:45:54Z",              // long year
           "2020-1-12T14:45:54Z",                // one-digit month
           "2020-01-2T14:45:54Z",                // one-digit day
           "2020-01-12T4:45:54Z",                // one-digit hour
           "2020-0a-12T14:45:54Z",               // letter
           "2020-01-12T14:45:5aZ",               // letter
           "+020-01-12T14:45:54Z",               // sign
           "2020-01-12T14:45:54.-1Z",            // sign in the fraction
           "\"2020-01-12T14:45:54Z\"",           // quoted
       }) {
    EXPECT_EQ(parse_rfc3339(text), std::nullopt) << text;
  }
}

// ---------------------------------------------------------------------------------------------------------
// format_rfc3339

TEST(Rfc3339Format, RecordingFormats) {
  EXPECT_EQ(format_rfc3339({kFirstLineSecond * kMicros + 216352, 60}), "2020-01-12T14:45:54.216352+01:00");
  EXPECT_EQ(format_rfc3339({kFirstLineSecond * kMicros + 219070, 60}), "2020-01-12T14:45:54.21907+01:00");
  EXPECT_EQ(format_rfc3339({kFirstLineSecond * kMicros + 216900, 60}), "2020-01-12T14:45:54.2169+01:00");
  EXPECT_EQ(format_rfc3339({kFirstLineSecond * kMicros + 200000, 60}), "2020-01-12T14:45:54.2+01:00");
  EXPECT_EQ(format_rfc3339({kFirstLineSecond * kMicros + 1, 60}), "2020-01-12T14:45:54.000001+01:00");
}

TEST(Rfc3339Format, NoFractionWhenWholeSeconds) {
  EXPECT_EQ(format_rfc3339({kFirstLineSecond * kMicros, 60}), "2020-01-12T14:45:54+01:00");
  EXPECT_EQ(format_rfc3339({0, 0}), "1970-01-01T00:00:00Z");
}

TEST(Rfc3339Format, ZeroOffsetIsZ) {
  EXPECT_EQ(format_rfc3339({kFirstLineSecond * kMicros + 216352, 0}), "2020-01-12T13:45:54.216352Z");
}

TEST(Rfc3339Format, NegativeAndOddOffsets) {
  EXPECT_EQ(format_rfc3339({1583040599000001, -330}), "2020-02-29T23:59:59.000001-05:30");
  EXPECT_EQ(format_rfc3339({kFirstLineSecond * kMicros, -1}), "2020-01-12T13:44:54-00:01");
  EXPECT_EQ(format_rfc3339({kFirstLineSecond * kMicros, 345}), "2020-01-12T19:30:54+05:45");
  EXPECT_EQ(format_rfc3339({kFirstLineSecond * kMicros, -(23 * 60 + 59)}), "2020-01-11T13:46:54-23:59");
}

TEST(Rfc3339Format, OffsetMovesTheLocalDate) {
  EXPECT_EQ(format_rfc3339({1577835000 * kMicros, 60}), "2020-01-01T00:30:00+01:00");
  EXPECT_EQ(format_rfc3339({1577835000 * kMicros, 0}), "2019-12-31T23:30:00Z");
  EXPECT_EQ(format_rfc3339({1582934400 * kMicros, -60}), "2020-02-28T23:00:00-01:00");
}

TEST(Rfc3339Format, BeforeTheEpoch) {
  EXPECT_EQ(format_rfc3339({-500000, 0}), "1969-12-31T23:59:59.5Z");
  EXPECT_EQ(format_rfc3339({-1, 0}), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(format_rfc3339({-kMicros, 60}), "1970-01-01T00:59:59+01:00");
  EXPECT_EQ(format_rfc3339({-86400 * kMicros, 0}), "1969-12-31T00:00:00Z");
}

TEST(Rfc3339Format, LeapDay) {
  EXPECT_EQ(format_rfc3339({1582934400 * kMicros, 0}), "2020-02-29T00:00:00Z");
  EXPECT_EQ(format_rfc3339({951782400 * kMicros + 123000, 120}), "2000-02-29T02:00:00.123+02:00");
}

// format_date_time: the date and time without fraction or offset (the simulator's "starts" and "added").
TEST(DateTimeFormat, WholeSecondsSinceTheEpoch) {
  EXPECT_EQ(format_date_time(0), "1970-01-01T00:00:00");
  EXPECT_EQ(format_date_time(1771070400), "2026-02-14T12:00:00");
  EXPECT_EQ(format_date_time(951782400), "2000-02-29T00:00:00");
  EXPECT_EQ(format_date_time(951782400 - 1), "2000-02-28T23:59:59");
}

TEST(DateTimeFormat, BeforeTheEpoch) {
  EXPECT_EQ(format_date_time(-1), "1969-12-31T23:59:59");
  EXPECT_EQ(format_date_time(-86400), "1969-12-31T00:00:00");
  EXPECT_EQ(format_date_time(-62135596800), "0001-01-01T00:00:00");
}

TEST(Rfc3339RoundTrip, ParseOfFormatIsIdentity) {
  const std::vector<std::int64_t> instants = {0,
                                              1,
                                              -1,
                                              -500000,
                                              kFirstLineSecond * kMicros,
                                              kFirstLineSecond * kMicros + 216352,
                                              kFirstLineSecond * kMicros + 219070,
                                              kFirstLineSecond * kMicros + 999999,
                                              1582934400 * kMicros,
                                              951782400 * kMicros - 1,
                                              4102444799 * kMicros + 999999};  // 2099-12-31T23:59:59.999999Z
  for (const std::int64_t micros : instants) {
    for (const int offset : {0, 60, 120, -60, -330, 345, 23 * 60 + 59, -(23 * 60 + 59)}) {
      const RecordTime time{micros, offset};
      const std::string text = format_rfc3339(time);
      EXPECT_EQ(parse_rfc3339(text), OptTime(time)) << text;
    }
  }
}

TEST(Rfc3339RoundTrip, FormatOfParseIsIdentityForCanonicalText) {
  for (const std::string_view text :
       {"2020-01-12T14:45:54.216352+01:00", "2020-01-12T14:45:54.21907+01:00", "2020-01-12T14:45:54.2+01:00",
        "2020-01-12T14:45:54+01:00", "2020-01-12T13:45:54.5Z", "1999-12-31T23:59:59.999999-08:00",
        "2020-02-29T12:00:00.01+05:45", "1969-07-20T20:17:40Z"}) {
    const auto time = parse_rfc3339(text);
    ASSERT_TRUE(time.has_value()) << text;
    EXPECT_EQ(format_rfc3339(*time), text);
  }
}

TEST(Rfc3339RoundTrip, NonCanonicalTextNormalizes) {
  // Trailing zeros and extra digits are not kept; the instant is.
  EXPECT_EQ(format_rfc3339(*parse_rfc3339("2020-01-12T14:45:54.216350+01:00")),
            "2020-01-12T14:45:54.21635+01:00");
  EXPECT_EQ(format_rfc3339(*parse_rfc3339("2020-01-12T14:45:54.000000+01:00")), "2020-01-12T14:45:54+01:00");
  EXPECT_EQ(format_rfc3339(*parse_rfc3339("2020-01-12T14:45:54.216352789+01:00")),
            "2020-01-12T14:45:54.216352+01:00");
  EXPECT_EQ(format_rfc3339(*parse_rfc3339("2020-01-12T13:45:54+00:00")), "2020-01-12T13:45:54Z");
}

TEST(Rfc3339RealRecording, EveryTimeRoundTripsExactly) {
  const auto lines = real_recording_lines();
  SKIP_WITHOUT_RECORDING(lines);
  ASSERT_EQ(lines->size(), 555u);
  std::set<std::size_t> fraction_lengths;
  std::int64_t previous = 0;
  for (std::size_t i = 0; i < lines->size(); ++i) {
    SCOPED_TRACE(i + 1);
    const RecordLineResult record = read_record_line((*lines)[i]);
    ASSERT_TRUE(record.ok()) << record_error_name(error_of(record));
    const auto time = parse_rfc3339(record->time_text);
    ASSERT_TRUE(time.has_value()) << record->time_text;
    EXPECT_EQ(*time, record->time);
    EXPECT_EQ(time->utc_offset_minutes, 60);
    EXPECT_EQ(format_rfc3339(*time), record->time_text);
    EXPECT_GE(time->unix_micros, previous);  // the recorder's clock did not go back
    previous = time->unix_micros;
    const std::size_t dot = record->time_text.find('.');
    ASSERT_NE(dot, std::string::npos);
    fraction_lengths.insert(record->time_text.find('+') - dot - 1);
  }
  // The recording has 6-, 5- and 4-digit fractions (Go trims trailing zeros).
  EXPECT_EQ(fraction_lengths, (std::set<std::size_t>{4, 5, 6}));
  EXPECT_EQ(read_record_line(lines->front()).value().time, rt(kFirstLineSecond * kMicros + 216352, 60));
  EXPECT_EQ(read_record_line(lines->back()).value().time,
            rt((kFirstLineSecond + 240) * kMicros + 610280, 60));
}

// ---------------------------------------------------------------------------------------------------------
// read_record_line

constexpr std::string_view kTime = "2020-01-12T14:45:54.216352+01:00";
constexpr std::string_view kEvent = R"({"typeName":"HeatStartedEvent","competitionId":"c1"})";

TEST(RecordRead, TimeFirst) {
  const RecordLineResult record = read_record_line(
      R"({"_time":"2020-01-12T14:45:54.216352+01:00","typeName":"HeatStartedEvent","competitionId":"c1"})");
  ASSERT_TRUE(record.ok()) << record_error_name(error_of(record));
  EXPECT_EQ(error_of(record), RecordError::kNone);
  EXPECT_EQ(record->event_bytes, kEvent);
  EXPECT_EQ(record->time_text, kTime);
  EXPECT_EQ(record->time, rt(kFirstLineSecond * kMicros + 216352, 60));
}

TEST(RecordRead, TimeLast) {
  const RecordLineResult record = read_record_line(
      R"({"typeName":"HeatStartedEvent","competitionId":"c1","_time":"2020-01-12T14:45:54.216352+01:00"})");
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->event_bytes, kEvent);
  EXPECT_EQ(record->time_text, kTime);
}

TEST(RecordRead, TimeInTheMiddle) {
  const RecordLineResult record = read_record_line(
      R"({"typeName":"HeatStartedEvent","_time":"2020-01-12T14:45:54.216352+01:00","competitionId":"c1"})");
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->event_bytes, kEvent);
  EXPECT_EQ(record->time_text, kTime);
}

TEST(RecordRead, TimeIsTheOnlyMember) {
  const RecordLineResult record = read_record_line(R"({"_time":"2020-01-12T14:45:54.216352+01:00"})");
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->event_bytes, "{}");
  EXPECT_EQ(record->time_text, kTime);
}

TEST(RecordRead, EventBytesKeepEverythingElseVerbatim) {
  // Spacing, escapes and number spellings of the event survive untouched.
  const std::string event =
      R"({"typeName":"Note\u0045vent", "competitionId" :"c1","n":1.50E+2,"s":"a\"b\\","o":{ "k" : [ 1 , 2 ] }})";
  const std::string line = R"({"_time":"2020-01-12T14:45:54.21907+01:00",)" + event.substr(1);
  const RecordLineResult record = read_record_line(line);
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->event_bytes, event);
  EXPECT_EQ(record->time_text, "2020-01-12T14:45:54.21907+01:00");
  EXPECT_EQ(record->time, rt(kFirstLineSecond * kMicros + 219070, 60));
}

TEST(RecordRead, WhitespaceAroundTheTimeMemberLeavesValidJson) {
  for (const std::string_view line : {
           R"({ "_time" : "2020-01-12T14:45:54.216352+01:00" , "a" : 1 , "b" : 2 })",
           R"({ "a" : 1 , "_time" : "2020-01-12T14:45:54.216352+01:00" , "b" : 2 })",
           R"({ "a" : 1 , "b" : 2 , "_time" : "2020-01-12T14:45:54.216352+01:00" })",
           R"({ "_time" : "2020-01-12T14:45:54.216352+01:00" })",
           "\t{\"_time\":\"2020-01-12T14:45:54.216352+01:00\",\"a\":1}  ",
       }) {
    SCOPED_TRACE(line);
    const RecordLineResult record = read_record_line(line);
    ASSERT_TRUE(record.ok()) << record_error_name(error_of(record));
    EXPECT_EQ(record->time_text, kTime);
    EXPECT_TRUE(is_valid_json(record->event_bytes)) << record->event_bytes;
    EXPECT_EQ(record->event_bytes.find("_time"), std::string::npos);
    rapidjson::Document document;
    document.Parse(record->event_bytes.data(), record->event_bytes.size());
    ASSERT_TRUE(document.IsObject());
    EXPECT_FALSE(document.HasMember("_time"));
    // Exactly the member and one comma are gone: the other bytes are in order.
    std::string rest(line);
    std::string kept = record->event_bytes;
    EXPECT_LT(kept.size(), rest.size());
    std::size_t prefix = 0;
    while (prefix < kept.size() && kept[prefix] == rest[prefix]) ++prefix;
    EXPECT_EQ(rest.substr(rest.size() - (kept.size() - prefix)), kept.substr(prefix));
  }
}

TEST(RecordRead, TimeTextIsKeptAsWritten) {
  for (const std::string_view text :
       {"2020-01-12T14:45:54.21907+01:00", "2020-01-12T14:45:54.210+01:00", "2020-01-12T13:45:54Z",
        "2020-01-12T13:45:54.216352789+00:00", "2020-01-12t13:45:54z"}) {
    const std::string line = R"({"_time":")" + std::string(text) + R"(","a":1})";
    const RecordLineResult record = read_record_line(line);
    ASSERT_TRUE(record.ok()) << line;
    EXPECT_EQ(record->time_text, text);
    EXPECT_EQ(OptTime(record->time), parse_rfc3339(text));
    EXPECT_EQ(record->event_bytes, R"({"a":1})");
  }
}

TEST(RecordRead, TrailingCarriageReturnIsIgnored) {
  const std::string line = R"({"_time":"2020-01-12T14:45:54.216352+01:00","typeName":"HeatStartedEvent",)"
                           R"("competitionId":"c1"})";
  const RecordLineResult crlf = read_record_line(line + "\r");
  ASSERT_TRUE(crlf.ok()) << record_error_name(error_of(crlf));
  EXPECT_EQ(crlf->event_bytes, kEvent);
  EXPECT_EQ(crlf->time_text, kTime);

  const RecordLineResult time_last = read_record_line(R"({"a":1,"_time":"2020-01-12T14:45:54.216352+01:00"})"
                                                      "\r");
  ASSERT_TRUE(time_last.ok());
  EXPECT_EQ(time_last->event_bytes, R"({"a":1})");
  EXPECT_EQ(error_of(read_record_line("\r")), RecordError::kEmptyLine);
}

TEST(RecordRead, NestedTimeIsNotTaken) {
  const RecordLineResult record =
      read_record_line(R"({"inner":{"_time":"1999-01-01T00:00:00Z"},"list":[{"_time":"x"}],)"
                       R"("_time":"2020-01-12T14:45:54.216352+01:00","a":1})");
  ASSERT_TRUE(record.ok()) << record_error_name(error_of(record));
  EXPECT_EQ(record->time_text, kTime);
  EXPECT_EQ(record->event_bytes,
            R"({"inner":{"_time":"1999-01-01T00:00:00Z"},"list":[{"_time":"x"}],"a":1})");

  EXPECT_EQ(error_of(read_record_line(R"({"inner":{"_time":"2020-01-12T14:45:54.216352+01:00"}})")),
            RecordError::kMissingTime);
  EXPECT_EQ(error_of(read_record_line(R"({"list":[{"_time":"2020-01-12T14:45:54.216352+01:00"}]})")),
            RecordError::kMissingTime);
}

TEST(RecordRead, TimeTextInsideStringsIsNotTaken) {
  const RecordLineResult record = read_record_line(
      R"({"note":"\"_time\":\"1999-01-01T00:00:00Z\",","_time":"2020-01-12T14:45:54.216352+01:00",)"
      R"("s":"}{][","k":"_time"})");
  ASSERT_TRUE(record.ok()) << record_error_name(error_of(record));
  EXPECT_EQ(record->time_text, kTime);
  EXPECT_EQ(record->event_bytes, R"({"note":"\"_time\":\"1999-01-01T00:00:00Z\",","s":"}{][","k":"_time"})");
  EXPECT_EQ(error_of(read_record_line(R"({"note":"\"_time\":\"2020-01-12T14:45:54Z\""})")),
            RecordError::kMissingTime);
  EXPECT_EQ(error_of(read_record_line(R"({"a":"_time"})")), RecordError::kMissingTime);
}

TEST(RecordRead, EmptyLine) {
  for (const std::string_view line : {"", " ", "\t", "  \t  ", "\r", " \r"}) {
    EXPECT_EQ(error_of(read_record_line(line)), RecordError::kEmptyLine) << "'" << line << "'";
  }
}

TEST(RecordRead, NotObject) {
  for (const std::string_view line : {
           "[]",
           R"([{"_time":"2020-01-12T14:45:54.216352+01:00"}])",
           R"("_time")",
           "42",
           "null",
           "true",
           "garbage",
           "{",
           "}",
           // A truncated last line after a crash.
           R"({"_time":"2020-01-12T14:45:54.2+01:00","typeName":"Ra)",
           R"({"_time":"2020-01-12T14:45:54.2+01:00","typeName":"RaceLapAddedEvent")",
           R"({"_time":"2020-01-12T14:45:54.2+01:00","typeName":"RaceLapAddedEvent",)",
           R"({"_time":"2020-01-12T14:45:54.2+01:00","lap":{"index":1)",
           R"({"_time":"2020-01-12T14:45:54.2+01:00","laps":[1,2)",
           R"({"_time":"2020-01-12T14:45:54.2+01:00","n":)",
           R"({"_time":"2020-01-12T14:45:54.2+01:00","n")",
           R"({"_time":"2020-01-12T14:45:54.2+)",
           R"({"_ti)",
           // Not one object.
           R"({"_time":"2020-01-12T14:45:54.2+01:00"}x)",
           R"({"_time":"2020-01-12T14:45:54.2+01:00"}{})",
           R"({"_time":"2020-01-12T14:45:54.2+01:00",})",
           R"({"_time":"2020-01-12T14:45:54.2+01:00" "a":1})",
           R"({"_time" "2020-01-12T14:45:54.2+01:00"})",
           R"({_time:"2020-01-12T14:45:54.2+01:00"})",
           R"({"_time":})",
       }) {
    EXPECT_EQ(error_of(read_record_line(line)), RecordError::kNotObject) << line;
  }
}

TEST(RecordRead, MissingTime) {
  for (const std::string_view line :
       {"{}", "{ }", R"({"typeName":"HeatStartedEvent"})", R"({"_Time":"2020-01-12T14:45:54.2+01:00"})",
        R"({"time":"2020-01-12T14:45:54.2+01:00"})", R"({"_time ":"2020-01-12T14:45:54.2+01:00"})"}) {
    EXPECT_EQ(error_of(read_record_line(line)), RecordError::kMissingTime) << line;
  }
}

TEST(RecordRead, TimeNotAString) {
  for (const std::string_view value :
       {"1578836754", "1578836754.216352", "null", "true", "{}", R"({"t":"2020-01-12T14:45:54.2+01:00"})",
        "[]", R"(["2020-01-12T14:45:54.2+01:00"])"}) {
    const std::string line = R"({"_time":)" + std::string(value) + R"(,"a":1})";
    EXPECT_EQ(error_of(read_record_line(line)), RecordError::kBadTime) << line;
  }
}

TEST(RecordRead, MalformedTime) {
  for (const std::string_view text :
       {"", "yesterday", "2020-01-12", "2020-01-12T14:45:54.216352", "2020-01-12 14:45:54+01:00",
        "2020-02-30T14:45:54+01:00", "2020-01-12T14:45:54+01:00 ", R"(2020-01-12T14:45:54\u002e2+01:00)"}) {
    const std::string line = R"({"_time":")" + std::string(text) + R"(","a":1})";
    EXPECT_EQ(error_of(read_record_line(line)), RecordError::kBadTime) << line;
  }
}

TEST(RecordRead, ErrorNamesAreDistinctSnakeCase) {
  const std::vector<std::pair<RecordError, std::string_view>> expected = {
      {RecordError::kNone, "none"},
      {RecordError::kEmptyLine, "empty_line"},
      {RecordError::kNotObject, "not_object"},
      {RecordError::kMissingTime, "missing_time"},
      {RecordError::kBadTime, "bad_time"},
  };
  for (const auto& [error, name] : expected) EXPECT_EQ(record_error_name(error), name);
}

// ---------------------------------------------------------------------------------------------------------
// write_record_line

TEST(RecordWrite, TimeGoesFirstAfterTheBrace) {
  EXPECT_EQ(
      write_record_line(kEvent, kTime),
      R"({"_time":"2020-01-12T14:45:54.216352+01:00","typeName":"HeatStartedEvent","competitionId":"c1"})");
  EXPECT_EQ(write_record_line(R"({ "a" : 1 })", "T"), R"({"_time":"T", "a" : 1 })");
  EXPECT_EQ(write_record_line("  {\"a\":1}", "T"), "  {\"_time\":\"T\",\"a\":1}");
}

TEST(RecordWrite, EmptyObject) {
  EXPECT_EQ(write_record_line("{}", kTime), R"({"_time":"2020-01-12T14:45:54.216352+01:00"})");
  EXPECT_EQ(write_record_line("{ }", "T"), R"({"_time":"T" })");
  EXPECT_TRUE(is_valid_json(write_record_line("{ \n }", kTime)));
}

TEST(RecordWrite, FromRecordTime) {
  EXPECT_EQ(
      write_record_line(kEvent, RecordTime{kFirstLineSecond * kMicros + 219070, 60}),
      R"({"_time":"2020-01-12T14:45:54.21907+01:00","typeName":"HeatStartedEvent","competitionId":"c1"})");
  EXPECT_EQ(write_record_line("{}", RecordTime{0, 0}), R"({"_time":"1970-01-01T00:00:00Z"})");
}

TEST(RecordWrite, ReadGivesBackWhatWasWritten) {
  for (const std::string_view event :
       {kEvent, std::string_view("{}"), std::string_view(R"({"a":{"_time":"x"},"b":[1,"}"]})"),
        std::string_view(R"({ "a" : 1 , "b" : "\"" })")}) {
    SCOPED_TRACE(event);
    const std::string line = write_record_line(event, kTime);
    EXPECT_TRUE(is_valid_json(line)) << line;
    const RecordLineResult record = read_record_line(line);
    ASSERT_TRUE(record.ok()) << record_error_name(error_of(record));
    EXPECT_EQ(record->event_bytes, event);
    EXPECT_EQ(record->time_text, kTime);
    EXPECT_EQ(write_record_line(record->event_bytes, record->time), line);
  }
}

// ---------------------------------------------------------------------------------------------------------
// The real recording, line by line

TEST(RecordRealRecording, EveryLineReadsAndWritesBackByteIdentical) {
  const auto lines = real_recording_lines();
  SKIP_WITHOUT_RECORDING(lines);
  ASSERT_EQ(lines->size(), 555u);
  for (std::size_t i = 0; i < lines->size(); ++i) {
    SCOPED_TRACE(i + 1);
    const std::string& line = (*lines)[i];
    const RecordLineResult record = read_record_line(line);
    ASSERT_TRUE(record.ok()) << record_error_name(error_of(record));
    // The recorder wrote "_time" first: the event is the line without `"_time":"…",`.
    const std::string time_member = R"("_time":")" + record->time_text + R"(",)";
    ASSERT_EQ(line.compare(1, time_member.size(), time_member), 0);
    EXPECT_EQ(record->event_bytes, "{" + line.substr(1 + time_member.size()));
    EXPECT_EQ(write_record_line(record->event_bytes, record->time_text), line);
    EXPECT_EQ(write_record_line(record->event_bytes, record->time), line);
    // With a Windows line ending the result is the same.
    const RecordLineResult crlf = read_record_line(line + "\r");
    ASSERT_TRUE(crlf.ok());
    EXPECT_EQ(crlf->event_bytes, record->event_bytes);
    // The event bytes are what parse_event() accepts.
    EXPECT_TRUE(parse_event(std::string_view(record->event_bytes)).ok());
  }
}

// ---------------------------------------------------------------------------------------------------------
// find_top_level_member

std::string erase_span(std::string_view object, const MemberSpan& span) {
  std::string result(object.substr(0, span.begin));
  result.append(object.substr(span.end));
  return result;
}

std::string_view value_of(std::string_view object, const MemberSpan& span) {
  return object.substr(span.value_begin, span.value_end - span.value_begin);
}

TEST(FindTopLevelMember, FirstMiddleLastAndOnly) {
  constexpr std::string_view kObject = R"({"a":1,"b":"x","c":{"d":2}})";
  const auto a = find_top_level_member(kObject, "a");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->begin, 1u);
  EXPECT_EQ(value_of(kObject, *a), "1");
  EXPECT_EQ(erase_span(kObject, *a), R"({"b":"x","c":{"d":2}})");

  const auto b = find_top_level_member(kObject, "b");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(value_of(kObject, *b), R"("x")");
  EXPECT_EQ(erase_span(kObject, *b), R"({"a":1,"c":{"d":2}})");

  const auto c = find_top_level_member(kObject, "c");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(value_of(kObject, *c), R"({"d":2})");
  EXPECT_EQ(erase_span(kObject, *c), R"({"a":1,"b":"x"})");

  constexpr std::string_view kOnly = R"({"only":[1,2]})";
  const auto only = find_top_level_member(kOnly, "only");
  ASSERT_TRUE(only.has_value());
  EXPECT_EQ(value_of(kOnly, *only), "[1,2]");
  EXPECT_EQ(erase_span(kOnly, *only), "{}");
}

TEST(FindTopLevelMember, SpanCoversKeyValueAndOneComma) {
  constexpr std::string_view kObject = R"({"a":1,"b":22,"c":3})";
  const auto b = find_top_level_member(kObject, "b");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(kObject.substr(b->begin, b->end - b->begin), R"("b":22,)");
  EXPECT_EQ(b->value_begin, kObject.find("22"));
  EXPECT_EQ(b->value_end, kObject.find("22") + 2);

  const auto c = find_top_level_member(kObject, "c");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(kObject.substr(c->begin, c->end - c->begin), R"(,"c":3)");
}

TEST(FindTopLevelMember, NestedAndAbsentMembersAreNotFound) {
  constexpr std::string_view kObject = R"({"a":{"d":1},"b":[{"d":2}],"c":"d"})";
  EXPECT_EQ(find_top_level_member(kObject, "d"), std::nullopt);
  EXPECT_EQ(find_top_level_member(kObject, "z"), std::nullopt);
  EXPECT_EQ(find_top_level_member(kObject, ""), std::nullopt);
  EXPECT_EQ(find_top_level_member("{}", "a"), std::nullopt);
  EXPECT_TRUE(find_top_level_member(R"({"":1})", "").has_value());
}

TEST(FindTopLevelMember, NotAnObject) {
  for (const std::string_view text :
       {"", "[]", R"([{"a":1}])", R"("a")", "1", "null", R"({"a":1)", R"({"a":1}x)", R"({"a":1,})",
        R"({"a" 1})", R"({a:1})", R"({"a":"1})"}) {
    EXPECT_EQ(find_top_level_member(text, "a"), std::nullopt) << text;
  }
}

TEST(FindTopLevelMember, StringsWithEscapedQuotesAndBrackets) {
  constexpr std::string_view kObject =
      R"({"s":"he said \"}\" {","t":[1,"]",{"u":"\\"}],"k\"ey":"{\"a\":1}","a":true,"z":"\\\""})";
  ASSERT_TRUE(is_valid_json(kObject));

  const auto t = find_top_level_member(kObject, "t");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(value_of(kObject, *t), R"([1,"]",{"u":"\\"}])");

  const auto a = find_top_level_member(kObject, "a");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(value_of(kObject, *a), "true");
  EXPECT_EQ(erase_span(kObject, *a),
            R"({"s":"he said \"}\" {","t":[1,"]",{"u":"\\"}],"k\"ey":"{\"a\":1}","z":"\\\""})");

  const auto z = find_top_level_member(kObject, "z");
  ASSERT_TRUE(z.has_value());
  EXPECT_EQ(value_of(kObject, *z), R"("\\\"")");

  // The key is matched as written (escapes not decoded).
  const auto key = find_top_level_member(kObject, R"(k\"ey)");
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(value_of(kObject, *key), R"("{\"a\":1}")");
}

// Erasing any member of any of these objects leaves valid JSON with exactly the other members.
TEST(FindTopLevelMember, ErasingAnyMemberLeavesValidJson) {
  const std::vector<std::string_view> objects = {
      R"({"a":1,"b":"two","c":[3],"d":{"e":4},"f":null,"g":true,"h":-1.5e3})",
      R"({ "a" : 1 , "b" : "two" , "c" : [ 3 ] , "d" : { "e" : 4 } })",
      "{\n  \"a\": 1,\n  \"b\": \"}\\\"{\",\n  \"c\": [\"]\", \"[\"]\n}",
      R"({"a":{"a":{"a":1}},"b":[[[]]],"c":"\\","d":""})",
      " {\"a\":1 ,\"b\":2} ",
  };
  for (const std::string_view object : objects) {
    SCOPED_TRACE(object);
    rapidjson::Document original;
    original.Parse(object.data(), object.size());
    ASSERT_FALSE(original.HasParseError());
    for (const auto& member : original.GetObject()) {
      const std::string name(member.name.GetString(), member.name.GetStringLength());
      SCOPED_TRACE(name);
      const auto span = find_top_level_member(object, name);
      ASSERT_TRUE(span.has_value());
      ASSERT_LE(span->begin, span->value_begin);
      ASSERT_LT(span->value_begin, span->value_end);
      ASSERT_LE(span->value_end, span->end);
      ASSERT_LE(span->end, object.size());
      // The value span holds exactly the member's value.
      rapidjson::Document value;
      const std::string_view value_text = value_of(object, *span);
      value.Parse(value_text.data(), value_text.size());
      ASSERT_FALSE(value.HasParseError()) << value_text;
      EXPECT_TRUE(value == member.value);
      // Erasing the span removes that member and nothing else.
      const std::string erased = erase_span(object, *span);
      rapidjson::Document rest;
      rest.Parse(erased.data(), erased.size());
      ASSERT_FALSE(rest.HasParseError()) << erased;
      ASSERT_TRUE(rest.IsObject());
      EXPECT_EQ(rest.MemberCount() + 1, original.MemberCount());
      EXPECT_FALSE(rest.HasMember(name.c_str()));
      for (const auto& other : original.GetObject()) {
        if (other.name == member.name) continue;
        ASSERT_TRUE(rest.HasMember(other.name));
        EXPECT_TRUE(rest[other.name] == other.value);
      }
    }
  }
}

}  // namespace
}  // namespace ovalstream::core
