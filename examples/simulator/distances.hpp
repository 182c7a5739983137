#pragma once
// The distances of a World Cup weekend as the simulator skates them: lap lengths, where each lane starts,
// the model's lap times, the default number of heats; and the day's program.
// Thread safety: constant data and pure functions.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "simulator/simulator.hpp"
#include "simulator/sorted_json.hpp"

namespace ovalstream::simulator {

struct DistanceSpec {
  SimulatedDistance kind;
  bool ladies = false;
  int number = 0;
  std::string name;
  int value = 0;           // meters, or laps
  int value_quantity = 0;  // 0 meters, 1 laps
  std::string discipline;
  std::vector<int> laps_units;           // each lap's length in 100 m units
  std::array<int, 2> start_position;     // by lane: where on the rink the race starts (units from line A)
  std::vector<std::int64_t> men_lap_cs;  // the model's lap times for men, centiseconds
  int default_heats = 1;
  std::string id;
  std::string list_id;
};

// The race's length in meters.
int race_meters(const DistanceSpec& spec);

// Where lap `index` ends, as every lap-indexed event tells it (the presented lap, the race's and the heat's
// next lap index): "index", "passedLength" (meters), "rounds" and "roundsToGo" (laps of 400 m).
std::vector<JsonMember> lap_distance_members(const DistanceSpec& spec, std::size_t index);

// The distance of that kind and gender; its ids are the caller's to draw.
DistanceSpec make_spec(SimulatedDistance kind, bool ladies);

// The day's program: which distances are skated, in order, and by whom.
constexpr std::array<std::pair<SimulatedDistance, bool>, 6> kProgram = {{
    {SimulatedDistance::k500, false},
    {SimulatedDistance::k1000, true},
    {SimulatedDistance::k1500, false},
    {SimulatedDistance::k5000, false},
    {SimulatedDistance::kTeamPursuit, true},
    {SimulatedDistance::kMassStart, false},
}};

}  // namespace ovalstream::simulator
