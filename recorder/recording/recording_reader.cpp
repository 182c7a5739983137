#include "recording/recording_reader.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "ovalstream/core/event.hpp"
#include "ovalstream/core/record_codec.hpp"
#include "ovalstream/core/subject.hpp"

namespace ovalstream::recorder {
namespace {

struct FileCloser {
  void operator()(std::FILE* file) const noexcept { std::fclose(file); }
};

std::string record_problem(core::RecordError error) {
  switch (error) {
    case core::RecordError::kNotObject:
      return "invalid JSON or not a JSON object";
    case core::RecordError::kMissingTime:
      return "missing _time";
    case core::RecordError::kBadTime:
      return "_time is not an RFC 3339 time";
    default:
      return std::string(core::record_error_name(error));
  }
}

// The event of one complete line, or the problem of why it is none. `last_unterminated`: the last line of
// the file had no newline, so a line that does not parse was cut short.
runtime::Result<core::RecordedEvent, std::string> read_line(std::string_view text, bool last_unterminated,
                                                            const RecordingReadOptions& options) {
  const core::RecordLineResult record = core::read_record_line(text);
  if (!record.ok()) {
    if (last_unterminated && record.error() == core::RecordError::kNotObject)
      return std::string(
          "truncated last line (no newline at the end of the file; the recorder was interrupted while "
          "writing)");
    return record_problem(record.error());
  }
  auto parsed = core::parse_event(std::string_view(record->event_bytes));
  if (!parsed.ok()) return "not a Vantage event: " + std::string(core::parse_error_name(parsed.error()));
  if (options.require_subject && !core::subject_for(parsed->header, 0)) {
    return std::string(
        "the event's ids cannot form a NATS subject (empty, or holding '.', '*', '>' or whitespace)");
  }
  core::RecordedEvent out;
  out.event = std::move(parsed).value();
  out.unix_micros = record->time.unix_micros;
  out.utc_offset_minutes = record->time.utc_offset_minutes;
  return out;
}

}  // namespace

std::optional<OnError> parse_on_error(std::string_view text) {
  if (text == "skip") return OnError::kSkip;
  if (text == "stop") return OnError::kStop;
  return std::nullopt;
}

std::string describe_problem(const std::string& file, const RecordingProblem& problem) {
  return file + ":" + std::to_string(problem.line_number) + ": " + problem.reason;
}

runtime::Result<Recording> read_recording(const std::string& path, const RecordingReadOptions& options) {
  Recording recording;
  recording.file = path;
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) {
    const int error = errno;
    return runtime::Error{"cannot open " + path + ": " + std::strerror(error),
                          std::error_code(error, std::generic_category())};
  }
  std::string line;
  std::uint64_t line_number = 0;
  bool overlong = false;  // the current line passed the bound: discard up to its newline
  char buffer[1 << 16];
  auto finish_line = [&](bool unterminated) -> bool {  // false: stop reading
    ++line_number;
    if (!overlong && (line.empty() || line == "\r")) {
      line.clear();
      return true;
    }
    auto event = overlong ? runtime::Result<core::RecordedEvent, std::string>(
                                "line longer than " + std::to_string(options.max_line_bytes) + " bytes")
                          : read_line(line, unterminated, options);
    line.clear();
    overlong = false;
    if (!event.ok()) {
      recording.problems.push_back({line_number, std::move(event).error()});
      return options.on_error == OnError::kSkip;
    }
    event->line_number = line_number;
    recording.lines.push_back(std::move(event).value());
    return options.max_lines == 0 || recording.lines.size() < options.max_lines;
  };
  while (true) {
    const std::size_t got = std::fread(buffer, 1, sizeof buffer, file.get());
    if (got == 0) {
      if (std::ferror(file.get())) {
        const int error = errno;
        return runtime::Error{"cannot read " + path + ": " + std::strerror(error),
                              std::error_code(error, std::generic_category())};
      }
      break;
    }
    std::string_view chunk(buffer, got);
    while (!chunk.empty()) {
      const std::size_t newline = chunk.find('\n');
      const std::string_view piece = chunk.substr(0, newline);
      if (!overlong) {
        if (line.size() + piece.size() > options.max_line_bytes) {
          overlong = true;
          line.clear();
        } else {
          line.append(piece);
        }
      }
      if (newline == std::string_view::npos) break;
      chunk.remove_prefix(newline + 1);
      if (!finish_line(false)) return recording;
    }
  }
  if (!line.empty() || overlong) finish_line(true);
  return recording;
}

}  // namespace ovalstream::recorder
