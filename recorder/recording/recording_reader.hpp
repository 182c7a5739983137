#pragma once
// Reads a recording file (JSON lines with "_time", the original recorder's format) into events with their
// line numbers, for a replay. Lines are read with a bound on their length, so a file without newlines
// cannot exhaust memory. A line that cannot be replayed is a problem named by file and line number:
// invalid JSON or not an object, missing or malformed "_time", a truncated last line (after a crash while
// writing), an event without the routing fields a subject needs, or a line over the bound. Empty lines are
// skipped silently. With OnError::kStop reading stops at the first problem; with kSkip every problem is
// collected and the good lines are kept.
// Thread safety: free functions, no shared state.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ovalstream/core/replay.hpp"
#include "ovalstream/runtime/result.hpp"

namespace ovalstream::recorder {

enum class OnError : std::uint8_t { kSkip, kStop };

// "skip" or "stop"; nullopt otherwise.
std::optional<OnError> parse_on_error(std::string_view text);

struct RecordingProblem {
  std::uint64_t line_number = 0;
  std::string reason;  // e.g. "invalid JSON or not an object", "missing _time"
};

struct RecordingReadOptions {
  OnError on_error = OnError::kStop;
  // A longer line is a problem (events are at most 1 MiB; "_time" adds ~45 bytes).
  std::size_t max_line_bytes = (1u << 20) + 1024;
  // Also require that the event's ids can stand in a subject (for a replay into JetStream).
  bool require_subject = false;
  // Stop after this many good lines (0 = read to the end): a cheap look at the start of a recording.
  std::size_t max_lines = 0;
};

struct Recording {
  std::string file;                        // as given
  std::vector<core::RecordedEvent> lines;  // the good lines, in file order
  std::vector<RecordingProblem> problems;  // in file order; with kStop at most one

  bool ok() const noexcept { return problems.empty(); }
};

// The recording, or the error of a file that cannot be opened or read (its message names the file).
runtime::Result<Recording> read_recording(const std::string& path, const RecordingReadOptions& options = {});

// "<file>:<line>: <reason>", the form compilers use, so editors and terminals can jump to it.
std::string describe_problem(const std::string& file, const RecordingProblem& problem);

}  // namespace ovalstream::recorder
