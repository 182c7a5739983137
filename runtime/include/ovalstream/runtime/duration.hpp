#pragma once
// Go's time.Duration text form ("24h", "1h30m", "1.5s", "500ms", "-2m"), because the Go original's
// duration flags took it and existing deployments pass such values unchanged.
// Thread safety: pure functions.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace ovalstream::runtime {

// Parses exactly what Go's time.ParseDuration accepts: an optional sign, then one or more decimal
// numbers (fraction allowed) each with a unit ns, us, µs, ms, s, m or h; "0" alone needs no unit.
// nullopt for anything else, including an empty string and a value beyond ±292 years (int64 ns).
std::optional<std::chrono::nanoseconds> parse_go_duration(std::string_view text);

// Formats as Go's Duration.String(): "1h30m0s", "1.5s", "500ms", "0s".
std::string format_go_duration(std::chrono::nanoseconds duration);

}  // namespace ovalstream::runtime
