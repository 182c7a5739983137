#pragma once
// The Vantage long-track rules of the live state (see docs/protocol.md, "Snapshot rules"):
// - CompetitionActivatedEvent starts a fresh competition: only the latest activation is kept, with the
//   competition-level events after it.
// - DistanceActivatedEvent starts a fresh distance, with the distance-level events after it
//   (DistanceDeactivatedEvent and unknown ones kept; HeatCommittedEvent kept, the latest per heat).
// - HeatActivatedEvent removes the heat's earlier state (the activation carries the race state so far)
//   and every deactivated heat, then shows the heat. A heat stays shown after its HeatDeactivatedEvent until
//   the next activation. (Removing all deactivated heats, not the one in the lowest group, keeps every rule
//   a function of what the snapshot holds.)
// - HeatClearedEvent drops the heat's events before it (the clock was reset) but its deactivation, and is
//   kept.
// - Per race every passing and lap is kept; of LastRaceSpeedChanged, LastPresentedRaceLapChanged and
//   RaceNextLapIndexChanged only the latest; per heat the latest HeatNextLapIndexChanged.
// - Events of a distance or heat not shown change nothing.
// Thread safety: as CompetitionState.

#include <memory>

#include "ovalstream/core/competition_state.hpp"

namespace ovalstream::core {

std::unique_ptr<DisciplineRules> make_longtrack_rules();

}  // namespace ovalstream::core
