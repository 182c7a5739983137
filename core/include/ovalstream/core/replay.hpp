#pragma once
// Replaying a recording, the pure parts: when each line is due (pacing) and where a replay starts when it
// seeks to a time (the snapshot at that time, then the lines after it). No clocks: the replayer adds the
// offsets computed here to its own start time, so waiting never drifts with the cost of sending.
// Thread safety: pure functions; ReplayPacing is an immutable value once built.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "ovalstream/core/competition_state.hpp"
#include "ovalstream/core/event.hpp"

namespace ovalstream::core {

// One line of a recording: the event (its bytes without "_time"), the recorded time and the line number in
// the file (1-based), which serves as the event's position when the recording is reduced.
struct RecordedEvent {
  Event event;
  std::int64_t unix_micros = 0;  // RecordTime::unix_micros of the line's "_time"
  std::uint64_t line_number = 0;
  int utc_offset_minutes = 0;  // the offset "_time" was written with, to show the recorded clock as it was
};

// A speed factor: the recorded gaps are divided by it (2 = twice as fast, 0.5 = half as fast), or unlimited
// (`--speed max`: no waiting at all).
struct ReplaySpeed {
  double factor = 1.0;  // > 0; ignored when unlimited
  bool unlimited = false;
  static ReplaySpeed max() { return ReplaySpeed{1.0, true}; }
  static ReplaySpeed times(double factor) { return ReplaySpeed{factor, false}; }
};

// The offsets from the start of a replay at which lines are due. Built from the recorded times of the lines
// one pass sends, in send order, and the recorded time the pass starts at (the first line's time, or the
// --from time after a seek). A gap is the difference to the previous line's time; a negative gap (a clock
// that went backwards while recording) counts as zero, so offsets never decrease and never wait negative,
// and a clock step back does not stall the rest of the replay. Loop passes follow each other without a
// gap: pass k starts at k times the duration of one pass.
class ReplayPacing {
 public:
  ReplayPacing(std::span<const std::int64_t> recorded_unix_micros, std::int64_t start_unix_micros,
               ReplaySpeed speed);

  // When line `index` of pass `pass` (0-based) is due, from the start of the replay.
  std::chrono::nanoseconds due(std::size_t index, std::uint64_t pass = 0) const;
  // The duration of one pass at this speed: when its last line is due (0 when unlimited or empty).
  std::chrono::nanoseconds pass_duration() const noexcept { return pass_duration_; }
  // The recorded time the pass has reached at line `index`: start + the sum of gaps so far (not divided by
  // the speed), for progress.
  std::int64_t recorded_elapsed_micros(std::size_t index) const;
  std::size_t size() const noexcept { return elapsed_micros_.size(); }
  const ReplaySpeed& speed() const noexcept { return speed_; }

 private:
  std::chrono::nanoseconds scaled(std::int64_t micros) const;

  ReplaySpeed speed_;
  std::vector<std::int64_t> elapsed_micros_;  // cumulative non-negative gaps from the start time
  std::chrono::nanoseconds pass_duration_{0};
};

// Where a replay that seeks to a time starts.
struct SeekResult {
  // Indexes into the lines whose events make up the state at the time: the snapshot of each competition
  // (its current activation first, positions = line numbers), merged in the original order of the file, each
  // competition's activation just before its first other line (a re-activation keeps earlier lines).
  std::vector<std::size_t> snapshot;
  // The first line after the time (lines.size() when none): the replay continues from here.
  std::size_t next_index = 0;
};

// The state at `at_unix_micros`: every line up to the first whose time is after it is reduced with the
// long-track rules, one CompetitionState per competition. A time before the first line gives an empty
// snapshot and next_index 0.
SeekResult seek(std::span<const RecordedEvent> lines, std::int64_t at_unix_micros);

// The first line whose time is after `at_unix_micros` (lines.size() when none).
std::size_t first_line_after(std::span<const RecordedEvent> lines, std::int64_t at_unix_micros);

}  // namespace ovalstream::core
