#pragma once
// The long-track state (private to the core): what LongTrackRules retains, and its JSON summary.

#include <optional>
#include <string>
#include <vector>

#include "ovalstream/core/competition_state.hpp"

namespace ovalstream::core::longtrack {

struct RaceState {
  std::string id;
  std::vector<PositionedEvent> passings;
  std::vector<PositionedEvent> laps;
  std::vector<PositionedEvent> other;  // unknown race-level events
  std::optional<PositionedEvent> speed;
  std::optional<PositionedEvent> presented_lap;
  std::optional<PositionedEvent> next_lap_index;
};

struct HeatState {
  HeatKey key;
  PositionedEvent activation;
  bool active = true;
  std::vector<PositionedEvent> events;  // cleared, started, deactivated, unknown heat-level events
  std::optional<PositionedEvent> next_lap_index;
  std::vector<RaceState> races;  // in order of first event

  RaceState& race(const std::string& race_id);
};

struct DistanceState {
  std::string id;
  PositionedEvent activation;
  std::vector<PositionedEvent> events;     // DistanceDeactivatedEvent and unknown distance-level events
  std::vector<PositionedEvent> committed;  // the latest HeatCommittedEvent per heat
  std::vector<HeatState> heats;            // shown heats, in activation order
};

struct CompetitionView {
  std::optional<PositionedEvent> competition_activation;
  std::vector<PositionedEvent> competition_events;
  std::optional<DistanceState> distance;
};

std::string state_view_json(const CompetitionView& view);

}  // namespace ovalstream::core::longtrack
