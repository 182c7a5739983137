#include "ovalstream/core/record_codec.hpp"

#include <array>
#include <charconv>
#include <cstdio>

namespace ovalstream::core {
namespace {

constexpr std::string_view kTimeKey = "_time";

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// A minimal scanner over JSON text: enough structure to find top-level members and skip values. It does
// not validate scalars; parse_event() validates the event as a whole.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  std::size_t pos() const { return pos_; }
  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }
  void skip_space() {
    while (!at_end() && is_space(text_[pos_])) ++pos_;
  }
  bool consume(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }

  // At a '"': moves past the closing quote. Returns the raw contents (escapes not decoded).
  std::optional<std::string_view> string() {
    if (!consume('"')) return std::nullopt;
    const std::size_t start = pos_;
    while (!at_end()) {
      const char c = text_[pos_++];
      if (c == '\\') {
        ++pos_;
      } else if (c == '"') {
        return text_.substr(start, pos_ - 1 - start);
      }
    }
    return std::nullopt;
  }

  bool skip_value() {
    skip_space();
    const char c = peek();
    if (c == '"') return string().has_value();
    if (c == '{' || c == '[') return skip_container();
    const std::size_t start = pos_;
    while (!at_end() && !is_space(peek()) && peek() != ',' && peek() != '}' && peek() != ']') ++pos_;
    return pos_ > start;
  }

 private:
  bool skip_container() {
    int depth = 0;
    while (!at_end()) {
      const char c = peek();
      if (c == '"') {
        if (!string()) return false;
        continue;
      }
      ++pos_;
      if (c == '{' || c == '[') ++depth;
      if (c == '}' || c == ']') {
        if (--depth == 0) return true;
      }
    }
    return false;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

std::optional<int> digits(std::string_view text, std::size_t pos, std::size_t count) {
  if (pos + count > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

bool is_leap(std::int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}
unsigned days_in_month(std::int64_t y, unsigned m) {
  static constexpr std::array<unsigned, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

constexpr std::array<std::string_view, 5> kRecordErrorNames = {"none", "empty_line", "not_object",
                                                               "missing_time", "bad_time"};

}  // namespace

std::optional<RecordTime> parse_rfc3339(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)
  const auto year = digits(text, 0, 4);
  const auto month = digits(text, 5, 2);
  const auto day = digits(text, 8, 2);
  const auto hour = digits(text, 11, 2);
  const auto minute = digits(text, 14, 2);
  const auto second = digits(text, 17, 2);
  if (!year || !month || !day || !hour || !minute || !second || text[4] != '-' || text[7] != '-' ||
      (text[10] != 'T' && text[10] != 't') || text[13] != ':' || text[16] != ':') {
    return std::nullopt;
  }
  if (*month < 1 || *month > 12 || *day < 1 || static_cast<unsigned>(*day) > days_in_month(*year, *month) ||
      *hour > 23 || *minute > 59 || *second > 60) {
    return std::nullopt;
  }
  std::size_t pos = 19;
  std::int64_t micros = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    const std::size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (pos - start < 6) micros = micros * 10 + (text[pos] - '0');
      ++pos;
    }
    const std::size_t count = pos - start;
    if (count == 0 || count > 9) return std::nullopt;
    for (std::size_t i = count; i < 6; ++i) micros *= 10;
  }
  int offset_minutes = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const auto offset_hour = digits(text, pos + 1, 2);
    const auto offset_minute = digits(text, pos + 4, 2);
    if (!offset_hour || !offset_minute || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        *offset_hour > 23 || *offset_minute > 59) {
      return std::nullopt;
    }
    offset_minutes = (*offset_hour * 60 + *offset_minute) * (text[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  const std::int64_t local_seconds =
      days_from_civil(*year, *month, *day) * 86400 + *hour * 3600 + *minute * 60 + *second;
  const std::int64_t utc_seconds = local_seconds - static_cast<std::int64_t>(offset_minutes) * 60;
  return RecordTime{utc_seconds * 1'000'000 + micros, offset_minutes};
}

std::string format_date_time(std::int64_t seconds) {
  std::int64_t days = seconds / 86400;
  std::int64_t second_of_day = seconds % 86400;
  if (second_of_day < 0) {
    second_of_day += 86400;
    days -= 1;
  }
  std::int64_t year = 0;
  unsigned month = 0;
  unsigned day = 0;
  civil_from_days(days, year, month, day);
  char buffer[64];
  const int length = std::snprintf(
      buffer, sizeof buffer, "%04lld-%02u-%02uT%02lld:%02lld:%02lld", static_cast<long long>(year), month,
      day, static_cast<long long>(second_of_day / 3600), static_cast<long long>(second_of_day / 60 % 60),
      static_cast<long long>(second_of_day % 60));
  return std::string(buffer, static_cast<std::size_t>(length));
}

std::string format_rfc3339(const RecordTime& time) {
  const std::int64_t local_micros =
      time.unix_micros + static_cast<std::int64_t>(time.utc_offset_minutes) * 60'000'000;
  std::int64_t seconds = local_micros / 1'000'000;
  std::int64_t micros = local_micros % 1'000'000;
  if (micros < 0) {
    micros += 1'000'000;
    seconds -= 1;
  }
  std::string text = format_date_time(seconds);
  char buffer[64];
  int length = 0;
  if (micros != 0) {
    length = std::snprintf(buffer, sizeof buffer, ".%06lld", static_cast<long long>(micros));
    std::string fraction(buffer, static_cast<std::size_t>(length));
    while (fraction.back() == '0') fraction.pop_back();
    text += fraction;
  }
  if (time.utc_offset_minutes == 0) {
    text += 'Z';
  } else {
    const int magnitude = time.utc_offset_minutes < 0 ? -time.utc_offset_minutes : time.utc_offset_minutes;
    length = std::snprintf(buffer, sizeof buffer, "%c%02d:%02d", time.utc_offset_minutes < 0 ? '-' : '+',
                           magnitude / 60, magnitude % 60);
    text.append(buffer, static_cast<std::size_t>(length));
  }
  return text;
}

std::string_view record_error_name(RecordError error) noexcept {
  const auto index = static_cast<std::size_t>(error);
  return index < kRecordErrorNames.size() ? kRecordErrorNames[index] : std::string_view{"unknown"};
}

namespace {

struct MemberSearch {
  bool is_object = false;
  std::optional<MemberSpan> span;
};

MemberSearch search_member(std::string_view object, std::string_view name) {
  Scanner scan(object);
  scan.skip_space();
  if (!scan.consume('{')) return {};
  std::optional<MemberSpan> found;
  std::optional<std::size_t> previous_comma;
  scan.skip_space();
  const bool empty = scan.consume('}');
  while (!empty) {
    scan.skip_space();
    const std::size_t key_begin = scan.pos();
    const auto key = scan.string();
    if (!key) return {};
    scan.skip_space();
    if (!scan.consume(':')) return {};
    scan.skip_space();
    const std::size_t value_begin = scan.pos();
    if (!scan.skip_value()) return {};
    const std::size_t value_end = scan.pos();
    scan.skip_space();
    const std::size_t after_value = scan.pos();
    const bool more = scan.consume(',');
    if (*key == name && !found) {
      MemberSpan span{key_begin, value_end, value_begin, value_end};
      if (more) {
        span.end = scan.pos();
      } else if (previous_comma) {
        span.begin = *previous_comma;
      }
      found = span;
    }
    if (!more) {
      if (!scan.consume('}')) return {};
      break;
    }
    previous_comma = after_value;
  }
  scan.skip_space();
  if (!scan.at_end()) return {};
  return {true, found};
}

}  // namespace

std::optional<MemberSpan> find_top_level_member(std::string_view object, std::string_view name) {
  return search_member(object, name).span;
}

RecordLineResult read_record_line(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::size_t first = 0;
  while (first < line.size() && is_space(line[first])) ++first;
  if (first == line.size()) return RecordError::kEmptyLine;
  const MemberSearch search = search_member(line, kTimeKey);
  if (!search.is_object || !search.span)
    return search.is_object ? RecordError::kMissingTime : RecordError::kNotObject;
  const auto& span = search.span;
  const std::string_view value = line.substr(span->value_begin, span->value_end - span->value_begin);
  if (value.size() < 2 || value.front() != '"' || value.back() != '"') return RecordError::kBadTime;
  RecordLine result;
  result.time_text.assign(value.substr(1, value.size() - 2));
  const auto time = parse_rfc3339(result.time_text);
  if (!time) return RecordError::kBadTime;
  result.time = *time;
  result.event_bytes.reserve(line.size() - (span->end - span->begin));
  result.event_bytes.append(line.substr(0, span->begin));
  result.event_bytes.append(line.substr(span->end));
  return result;
}

std::string write_record_line(std::string_view event_bytes, std::string_view time_text) {
  std::size_t brace = 0;
  while (brace < event_bytes.size() && is_space(event_bytes[brace])) ++brace;
  std::size_t next = brace + 1;
  while (next < event_bytes.size() && is_space(event_bytes[next])) ++next;
  const bool empty_object = next < event_bytes.size() && event_bytes[next] == '}';
  if (brace == event_bytes.size()) return std::string("{\"_time\":\"").append(time_text).append("\"}");
  std::string line;
  line.reserve(event_bytes.size() + time_text.size() + 12);
  line.append(event_bytes.substr(0, brace + 1));
  line.append("\"_time\":\"");
  line.append(time_text);
  line.append(empty_object ? "\"" : "\",");
  line.append(event_bytes.substr(brace + 1));
  return line;
}

std::string write_record_line(std::string_view event_bytes, const RecordTime& time) {
  return write_record_line(event_bytes, format_rfc3339(time));
}

}  // namespace ovalstream::core
