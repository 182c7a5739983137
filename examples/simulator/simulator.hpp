#pragma once
// A simulated speed-skating competition as Vantage would publish it: the events (bytes as the real recording
// has them: the same members, nesting and types, keys in the recorder's sorted order) and the time each was
// recorded. Pure and deterministic: no clocks, no files; the same options give the same bytes on every
// platform, because the only randomness is std::mt19937_64 (its output is fixed by the standard) mapped to
// ranges with integer arithmetic here, and every time is computed in integer ticks.
//
// What is simulated (see examples/README.md): a competition with the distances of a World Cup weekend, of
// which one day's program is skated: pairs distances (inner and outer lane), the 5000 m in quartet starts
// (two heats at once), a team pursuit (two teams of three per heat) and a mass start (one heat, 20 races,
// 16 laps); transponder passings at the rink's loops, photo-finish times, speed changes, laps and presented
// laps with rankings, next-lap-index changes, heat started, committed with results, deactivated; now and then
// a false start (the heat is cleared and started again).
// Thread safety: pure functions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ovalstream/core/record_codec.hpp"

namespace ovalstream::simulator {

enum class SimulatedDistance : std::uint8_t { k500, k1000, k1500, k5000, kTeamPursuit, kMassStart };

// "500", "1000", "1500", "5000", "team-pursuit", "mass-start".
std::optional<SimulatedDistance> parse_simulated_distance(std::string_view text);
std::string_view simulated_distance_name(SimulatedDistance distance);

struct SimulationOptions {
  std::uint64_t seed = 1;
  // Only this distance (the competition activation first); nullopt: the whole day's program.
  std::optional<SimulatedDistance> only;
  // Heats per distance (pairs, quartet pairs, team pursuit heats); 0: the default of each distance. The
  // mass start is always one heat.
  int heats = 0;
  // The recorded time of the first event; its UTC offset is used for every "_time" and local time.
  core::RecordTime start{1771070400000000, 60};  // 2026-02-14T13:00:00+01:00
};

struct SimulatedEvent {
  std::string bytes;  // the event's JSON, without "_time"
  core::RecordTime time;
};

// The events in recorded order; recorded times strictly increase.
std::vector<SimulatedEvent> simulate_competition(const SimulationOptions& options);

}  // namespace ovalstream::simulator
