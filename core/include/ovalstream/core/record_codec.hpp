#pragma once
// The recording file format of the original Vantage recorder: one JSON object per line, the event's
// fields plus "_time", the local receive time in RFC 3339 with sub-second digits and offset. The original
// wrote "_time" first; so do we, inserting it after the opening brace so the event's bytes stay as they were.
// Thread safety: pure functions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ovalstream/runtime/result.hpp"

namespace ovalstream::core {

// A point in time as written in a recording: microseconds since the Unix epoch (UTC) and the UTC offset
// the writer used, so a line is written back exactly as read.
struct RecordTime {
  std::int64_t unix_micros = 0;
  int utc_offset_minutes = 0;
  friend bool operator==(const RecordTime&, const RecordTime&) = default;
};

// Parses "2020-01-12T14:45:54.216352+01:00" (also "Z", 0-9 fraction digits). nullopt if malformed.
std::optional<RecordTime> parse_rfc3339(std::string_view text);
// Formats with microseconds, trailing zeros trimmed as Go's time.RFC3339Nano does.
std::string format_rfc3339(const RecordTime& time);
// "YYYY-MM-DDTHH:MM:SS" of whole seconds since 1970-01-01T00:00:00 (proleptic Gregorian, no offset): the
// date and time of format_rfc3339, for texts that add their own fraction or none (the simulator's).
std::string format_date_time(std::int64_t seconds);

enum class RecordError : std::uint8_t {
  kNone = 0,  // no error (never the error of a RecordLineResult)
  kEmptyLine,
  kNotObject,    // not a JSON object (covers invalid JSON and a truncated last line)
  kMissingTime,  // no top-level "_time"
  kBadTime,      // "_time" not an RFC 3339 string
};

std::string_view record_error_name(RecordError error) noexcept;

struct RecordLine {
  std::string event_bytes;  // the line without "_time" (and its comma), otherwise byte for byte
  std::string time_text;    // as written
  RecordTime time;
};

// A line, or why it is none.
using RecordLineResult = runtime::Result<RecordLine, RecordError>;

// Reads one line (without its newline; a trailing '\r' is ignored). The event itself is not validated
// here beyond its object shape: parse_event() does that.
RecordLineResult read_record_line(std::string_view line);

// The line for an event (a JSON object) received at `time`, without the newline.
std::string write_record_line(std::string_view event_bytes, const RecordTime& time);
std::string write_record_line(std::string_view event_bytes, std::string_view time_text);

// Locates a top-level member of a JSON object without parsing values: [begin, end) spans the member
// including one adjoining comma, so erasing it leaves valid JSON. nullopt if absent or not an object.
struct MemberSpan {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::size_t value_begin = 0;
  std::size_t value_end = 0;
};
std::optional<MemberSpan> find_top_level_member(std::string_view object, std::string_view name);

}  // namespace ovalstream::core
