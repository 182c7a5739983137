#include "ovalstream/core/longtrack_rules.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "longtrack_view.hpp"

namespace ovalstream::core {
namespace {

using longtrack::DistanceState;
using longtrack::HeatState;
using longtrack::RaceState;

void put(std::optional<PositionedEvent>& slot, const PositionedEvent& event) {
  slot = event;
}

void collect_race(const RaceState& race, Snapshot& out) {
  out.insert(out.end(), race.passings.begin(), race.passings.end());
  out.insert(out.end(), race.laps.begin(), race.laps.end());
  out.insert(out.end(), race.other.begin(), race.other.end());
  for (const auto* latest : {&race.speed, &race.presented_lap, &race.next_lap_index}) {
    if (*latest) out.push_back(**latest);
  }
}

void collect_heat(const HeatState& heat, Snapshot& out) {
  out.push_back(heat.activation);
  out.insert(out.end(), heat.events.begin(), heat.events.end());
  if (heat.next_lap_index) out.push_back(*heat.next_lap_index);
  for (const RaceState& race : heat.races) collect_race(race, out);
}

class LongTrackRules final : public DisciplineRules {
 public:
  bool apply(const PositionedEvent& event) override {
    const RoutingHeader& header = event.event.header;
    switch (header.type) {
      case EventType::kCompetitionActivated:
        // The competition-level events before it go; the distance with its events and heats stays, as the
        // original server kept following the latest distance and heat activations after a re-activation.
        state_.competition_activation = event;
        state_.competition_events.clear();
        return true;
      case EventType::kDistanceActivated:
        state_.distance.emplace();
        state_.distance->id = *header.distance_id;
        state_.distance->activation = event;
        return true;
      case EventType::kHeatCommitted:
        return apply_committed(event);
      case EventType::kHeatActivated:
        return apply_heat_activated(event);
      default:
        break;
    }
    switch (header.level()) {
      case Level::kCompetition:
        state_.competition_events.push_back(event);
        return true;
      case Level::kDistance: {
        DistanceState* distance = shown_distance(header);
        if (!distance) return false;
        distance->events.push_back(event);
        return true;
      }
      case Level::kHeat: {
        HeatState* heat = shown_heat(header);
        if (!heat) return false;
        apply_heat_event(*heat, event);
        return true;
      }
    }
    return false;
  }

  void collect(Snapshot& out) const override {
    if (state_.competition_activation) out.push_back(*state_.competition_activation);
    out.insert(out.end(), state_.competition_events.begin(), state_.competition_events.end());
    if (!state_.distance) return;
    const DistanceState& distance = *state_.distance;
    out.push_back(distance.activation);
    out.insert(out.end(), distance.events.begin(), distance.events.end());
    out.insert(out.end(), distance.committed.begin(), distance.committed.end());
    for (const HeatState& heat : distance.heats) collect_heat(heat, out);
  }

  std::string state_view_json() const override { return longtrack::state_view_json(state_); }

 private:
  DistanceState* shown_distance(const RoutingHeader& header) {
    if (!state_.distance || !header.distance_id || *header.distance_id != state_.distance->id) return nullptr;
    return &*state_.distance;
  }

  HeatState* shown_heat(const RoutingHeader& header) {
    DistanceState* distance = shown_distance(header);
    if (!distance || !header.heat) return nullptr;
    const auto it = std::find_if(distance->heats.begin(), distance->heats.end(),
                                 [&](const HeatState& heat) { return heat.key == *header.heat; });
    return it == distance->heats.end() ? nullptr : &*it;
  }

  bool apply_committed(const PositionedEvent& event) {
    DistanceState* distance = shown_distance(event.event.header);
    if (!distance) return false;
    // A heat committed again (a correction) supersedes its earlier result.
    std::erase_if(distance->committed,
                  [&](const PositionedEvent& e) { return e.event.header.heat == event.event.header.heat; });
    distance->committed.push_back(event);
    return true;
  }

  bool apply_heat_activated(const PositionedEvent& event) {
    DistanceState* distance = shown_distance(event.event.header);
    if (!distance) return false;
    auto& heats = distance->heats;
    const HeatKey key = *event.event.header.heat;
    // The heat's earlier state goes (the activation carries the race state so far), and so does every
    // deactivated heat. Treating a re-activation like a new heat keeps the rule a function of what the
    // snapshot holds (which has only the latest activation), so a snapshot restores the same view.
    std::erase_if(heats, [&](const HeatState& h) { return h.key == key || !h.active; });
    HeatState heat;
    heat.key = key;
    heat.activation = event;
    heats.push_back(std::move(heat));
    return true;
  }

  static void apply_heat_event(HeatState& heat, const PositionedEvent& event) {
    const RoutingHeader& header = event.event.header;
    switch (header.type) {
      case EventType::kHeatCleared: {
        // The clock was reset: what happened before the clear no longer describes the race. Whether the heat
        // is active does not change, so a deactivation is kept (a snapshot must restore the flag).
        std::optional<PositionedEvent> deactivation;
        for (const PositionedEvent& e : heat.events) {
          if (e.event.header.type == EventType::kHeatDeactivated) deactivation = e;
        }
        heat.events.clear();
        if (!heat.active && deactivation) heat.events.push_back(*deactivation);
        heat.races.clear();
        heat.next_lap_index.reset();
        heat.events.push_back(event);
        return;
      }
      case EventType::kHeatDeactivated:
        heat.active = false;
        heat.events.push_back(event);
        return;
      case EventType::kHeatNextLapIndexChanged:
        put(heat.next_lap_index, event);
        return;
      default:
        break;
    }
    if (!header.race_id) {
      heat.events.push_back(event);
      return;
    }
    RaceState& race = heat.race(*header.race_id);
    switch (header.type) {
      case EventType::kRacePassingAdded:
        race.passings.push_back(event);
        return;
      case EventType::kRaceLapAdded:
        race.laps.push_back(event);
        return;
      case EventType::kLastRaceSpeedChanged:
        put(race.speed, event);
        return;
      case EventType::kLastPresentedRaceLapChanged:
        put(race.presented_lap, event);
        return;
      case EventType::kRaceNextLapIndexChanged:
        put(race.next_lap_index, event);
        return;
      default:
        race.other.push_back(event);
        return;
    }
  }

  longtrack::CompetitionView state_;
};

}  // namespace

namespace longtrack {

RaceState& HeatState::race(const std::string& race_id) {
  const auto it =
      std::find_if(races.begin(), races.end(), [&](const RaceState& r) { return r.id == race_id; });
  if (it != races.end()) return *it;
  RaceState& race = races.emplace_back();
  race.id = race_id;
  return race;
}

}  // namespace longtrack

std::unique_ptr<DisciplineRules> make_longtrack_rules() {
  return std::make_unique<LongTrackRules>();
}

}  // namespace ovalstream::core
