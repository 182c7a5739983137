#include "ovalstream/core/event_type.hpp"

#include <array>

namespace ovalstream::core {
namespace {

constexpr std::array<std::string_view, kEventTypeCount> kNames = {
    "",
    "CompetitionActivatedEvent",
    "DistanceActivatedEvent",
    "DistanceDeactivatedEvent",
    "HeatActivatedEvent",
    "HeatClearedEvent",
    "HeatStartedEvent",
    "RacePassingAddedEvent",
    "LastRaceSpeedChangedEvent",
    "RaceLapAddedEvent",
    "LastPresentedRaceLapChangedEvent",
    "RaceNextLapIndexChangedEvent",
    "HeatNextLapIndexChangedEvent",
    "HeatDeactivatedEvent",
    "HeatCommittedEvent",
};

}  // namespace

EventType event_type_from_name(std::string_view type_name) noexcept {
  for (int i = 1; i < kEventTypeCount; ++i) {
    if (kNames[i] == type_name) return static_cast<EventType>(i);
  }
  return EventType::kUnknown;
}

std::string_view event_type_name(EventType type) noexcept {
  const auto index = static_cast<std::size_t>(type);
  return index < kNames.size() ? kNames[index] : std::string_view{};
}

RequiredIds required_ids(EventType type) noexcept {
  switch (type) {
    case EventType::kUnknown:
    case EventType::kCompetitionActivated:
      return {};
    case EventType::kDistanceActivated:
    case EventType::kDistanceDeactivated:
      return {.distance = true};
    case EventType::kHeatActivated:
    case EventType::kHeatCleared:
    case EventType::kHeatStarted:
    case EventType::kHeatNextLapIndexChanged:
    case EventType::kHeatDeactivated:
    case EventType::kHeatCommitted:
      return {.distance = true, .heat = true};
    case EventType::kRacePassingAdded:
    case EventType::kLastRaceSpeedChanged:
    case EventType::kRaceLapAdded:
    case EventType::kLastPresentedRaceLapChanged:
    case EventType::kRaceNextLapIndexChanged:
      return {.distance = true, .heat = true, .race = true};
  }
  return {};
}

}  // namespace ovalstream::core
