#include "simulator/distances.hpp"

#include <optional>
#include <string_view>

namespace ovalstream::simulator {

int race_meters(const DistanceSpec& spec) {
  int units = 0;
  for (int u : spec.laps_units) units += u;
  return units * 100;
}

std::vector<JsonMember> lap_distance_members(const DistanceSpec& spec, std::size_t index) {
  int units = 0;
  for (std::size_t i = 0; i <= index; ++i) units += spec.laps_units[i];
  const int passed_length = units * 100;
  return {{"index", Json::integer(static_cast<std::int64_t>(index))},
          {"passedLength", Json::integer(passed_length)},
          {"rounds", Json::real(passed_length / 400.0)},
          {"roundsToGo", Json::real((race_meters(spec) - passed_length) / 400.0)}};
}

DistanceSpec make_spec(SimulatedDistance kind, bool ladies) {
  DistanceSpec spec;
  spec.kind = kind;
  spec.ladies = ladies;
  const std::string gender = ladies ? "Ladies" : "Men";
  const std::string individual = "SpeedSkating.LongTrack.PairsDistance.Individual";
  switch (kind) {
    case SimulatedDistance::k500:
      spec.number = ladies ? 1 : 2;
      spec.value = 500;
      spec.discipline = individual;
      spec.laps_units = {1, 4};
      spec.start_position = {3, 3};
      spec.men_lap_cs = {960, 2500};
      spec.default_heats = 5;
      break;
    case SimulatedDistance::k1000:
      spec.number = ladies ? 3 : 4;
      spec.value = 1000;
      spec.discipline = individual;
      spec.laps_units = {2, 4, 4};
      spec.start_position = {2, 2};
      spec.men_lap_cs = {1640, 2570, 2740};
      spec.default_heats = 4;
      break;
    case SimulatedDistance::k1500:
      spec.number = ladies ? 5 : 6;
      spec.value = 1500;
      spec.discipline = individual;
      spec.laps_units = {3, 4, 4, 4};
      spec.start_position = {1, 1};
      spec.men_lap_cs = {2410, 2640, 2780, 2900};
      spec.default_heats = 4;
      break;
    case SimulatedDistance::k5000:
      spec.number = ladies ? 7 : 8;
      spec.value = 5000;
      spec.discipline = individual;
      spec.laps_units = {2};
      for (int i = 0; i < 12; ++i) spec.laps_units.push_back(4);
      spec.start_position = {2, 2};
      spec.men_lap_cs = {1950, 2920, 2940, 2960, 2980, 3000, 3010, 3020, 3030, 3040, 3050, 3060, 3040};
      spec.default_heats = 4;
      break;
    case SimulatedDistance::kTeamPursuit: {
      spec.number = ladies ? 9 : 10;
      const int laps = ladies ? 6 : 8;
      spec.value = laps;
      spec.value_quantity = 1;
      spec.discipline = "SpeedSkating.LongTrack.PairsDistance.TeamPursuit";
      // Timed every half lap; the teams start on opposite straights.
      spec.laps_units.assign(static_cast<std::size_t>(laps * 2), 2);
      spec.start_position = {0, 2};
      spec.men_lap_cs = {1810, 1330, 1335, 1340, 1345, 1350, 1355, 1360,
                         1365, 1370, 1375, 1380, 1390, 1400, 1410, 1420};
      spec.men_lap_cs.resize(spec.laps_units.size());
      spec.default_heats = 3;
      break;
    }
    case SimulatedDistance::kMassStart:
      spec.number = ladies ? 11 : 12;
      spec.value = 16;
      spec.value_quantity = 1;
      spec.discipline = "SpeedSkating.LongTrack.MassStartDistance";
      spec.laps_units.assign(16, 4);
      spec.start_position = {0, 0};
      // Tactical laps, sprints on laps 4, 8 and 12, the final sprint.
      spec.men_lap_cs = {3300, 3000, 3000, 2860, 2980, 2980, 2980, 2860,
                         2950, 2950, 2950, 2840, 2900, 2850, 2780, 2730};
      spec.default_heats = 1;
      break;
  }
  switch (kind) {
    case SimulatedDistance::kTeamPursuit:
      spec.name = gender + " Team Pursuit";
      break;
    case SimulatedDistance::kMassStart:
      spec.name = gender + " Mass Start";
      break;
    default:
      spec.name = gender + " " + std::to_string(spec.value) + " meter";
  }
  return spec;
}

std::optional<SimulatedDistance> parse_simulated_distance(std::string_view text) {
  if (text == "500") return SimulatedDistance::k500;
  if (text == "1000") return SimulatedDistance::k1000;
  if (text == "1500") return SimulatedDistance::k1500;
  if (text == "5000") return SimulatedDistance::k5000;
  if (text == "team-pursuit") return SimulatedDistance::kTeamPursuit;
  if (text == "mass-start") return SimulatedDistance::kMassStart;
  return std::nullopt;
}

std::string_view simulated_distance_name(SimulatedDistance distance) {
  switch (distance) {
    case SimulatedDistance::k500:
      return "500";
    case SimulatedDistance::k1000:
      return "1000";
    case SimulatedDistance::k1500:
      return "1500";
    case SimulatedDistance::k5000:
      return "5000";
    case SimulatedDistance::kTeamPursuit:
      return "team-pursuit";
    case SimulatedDistance::kMassStart:
      return "mass-start";
  }
  return "?";
}

}  // namespace ovalstream::simulator
