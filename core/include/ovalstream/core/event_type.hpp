#pragma once
// The Vantage event types the core knows by name, and the level of the state each one belongs to.
// Thread safety: free functions over immutable tables; safe from any thread.

#include <cstdint>
#include <string_view>

namespace ovalstream::core {

enum class EventType : std::uint8_t {
  kUnknown = 0,
  kCompetitionActivated,
  kDistanceActivated,
  kDistanceDeactivated,
  kHeatActivated,
  kHeatCleared,
  kHeatStarted,
  kRacePassingAdded,
  kLastRaceSpeedChanged,
  kRaceLapAdded,
  kLastPresentedRaceLapChanged,
  kRaceNextLapIndexChanged,
  kHeatNextLapIndexChanged,
  kHeatDeactivated,
  kHeatCommitted,
};

inline constexpr int kEventTypeCount = static_cast<int>(EventType::kHeatCommitted) + 1;

// The level of the live state (and of the NATS subject) an event belongs to.
enum class Level : std::uint8_t { kCompetition, kDistance, kHeat };

// "RacePassingAddedEvent" -> kRacePassingAdded; anything else -> kUnknown.
EventType event_type_from_name(std::string_view type_name) noexcept;
// The Vantage type name ("HeatStartedEvent"); "" for kUnknown.
std::string_view event_type_name(EventType type) noexcept;

// The ids a known type must carry. Unknown types need only competitionId.
struct RequiredIds {
  bool distance = false;
  bool heat = false;
  bool race = false;
};
RequiredIds required_ids(EventType type) noexcept;

}  // namespace ovalstream::core
