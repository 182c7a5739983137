#include "replay/replay_time.hpp"

#include "ovalstream/core/record_codec.hpp"
#include "ovalstream/runtime/duration.hpp"

namespace ovalstream::recorder {

std::optional<ReplayFrom> parse_replay_from(std::string_view text) {
  if (const auto time = core::parse_rfc3339(text)) return ReplayFrom{time->unix_micros};
  if (const auto offset = runtime::parse_go_duration(text); offset && offset->count() >= 0)
    return ReplayFrom{*offset};
  return std::nullopt;
}

ResolvedFrom resolve_replay_from(const ReplayFrom& from, std::span<const core::RecordedEvent> lines) {
  ResolvedFrom resolved;
  if (lines.empty()) {
    resolved.error = "the recording has no events";
    return resolved;
  }
  const core::RecordedEvent& first = lines.front();
  const core::RecordedEvent& last = lines.back();
  std::int64_t at = 0;
  if (const auto* absolute = std::get_if<std::int64_t>(&from.value)) {
    at = *absolute;
  } else {
    const auto offset =
        std::chrono::duration_cast<std::chrono::microseconds>(std::get<std::chrono::nanoseconds>(from.value));
    at = first.unix_micros + offset.count();
  }
  std::int64_t latest = first.unix_micros;
  for (const auto& line : lines) latest = std::max(latest, line.unix_micros);
  if (at > latest) {
    resolved.error = "--from is after the end of the recording: it runs from " +
                     core::format_rfc3339({first.unix_micros, first.utc_offset_minutes}) + " to " +
                     core::format_rfc3339({last.unix_micros, last.utc_offset_minutes}) + " (" +
                     runtime::format_go_duration(std::chrono::microseconds(latest - first.unix_micros)) + ")";
    return resolved;
  }
  resolved.unix_micros = at;
  return resolved;
}

}  // namespace ovalstream::recorder
