#pragma once
// The --from value of a replay: a recorded time in RFC 3339 as "_time" writes it
// ("2020-01-12T14:47:00+01:00"), or a Go duration from the first event ("10m", "1m30s").
// Thread safety: pure functions.

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "ovalstream/core/replay.hpp"

namespace ovalstream::recorder {

struct ReplayFrom {
  // An absolute recorded time (µs since the Unix epoch) or an offset from the first event.
  std::variant<std::int64_t, std::chrono::nanoseconds> value;
};

// nullopt when `text` is neither (a negative duration is neither).
std::optional<ReplayFrom> parse_replay_from(std::string_view text);

struct ResolvedFrom {
  std::optional<std::int64_t> unix_micros;  // set when resolved
  std::string error;                        // why not: after the end of the recording
};

// The recorded time `from` means in `lines` (non-empty). A time after the last line is an error naming
// the recording's span.
ResolvedFrom resolve_replay_from(const ReplayFrom& from, std::span<const core::RecordedEvent> lines);

}  // namespace ovalstream::recorder
