#pragma once
// Test support: small, valid Vantage events with the routing fields tests care about, and a sequence
// builder that assigns positions 1, 2, 3, ...

#include <string>
#include <vector>

#include "ovalstream/core/competition_state.hpp"

namespace ovalstream::testing {

inline constexpr const char* kCompetition = "c0000000-0000-4000-8000-000000000001";
inline constexpr const char* kDistanceA = "d0000000-0000-4000-8000-00000000000a";
inline constexpr const char* kDistanceB = "d0000000-0000-4000-8000-00000000000b";

// A JSON event: typeName, competitionId and, where non-empty, distanceId, heat, raceId, plus `extra`
// members (a JSON fragment without braces, e.g. R"("index":3)").
std::string make_event_json(const std::string& type_name, const std::string& distance_id = "",
                            int heat_number = 0, const std::string& race_id = "",
                            const std::string& extra = "", const std::string& competition_id = kCompetition);

class EventSequence {
 public:
  // The builders below make events of `competition_id`.
  explicit EventSequence(std::string competition_id = kCompetition)
      : competition_id_(std::move(competition_id)) {}

  // Appends an event (parsed; aborts the test binary on a parse error, which is a bug in the test).
  EventSequence& add(const std::string& json);

  EventSequence& competition_activated();
  EventSequence& distance_activated(const std::string& distance_id);
  EventSequence& distance_deactivated(const std::string& distance_id);
  // A HeatActivatedEvent whose races list the given race ids.
  EventSequence& heat_activated(const std::string& distance_id, int heat,
                                const std::vector<std::string>& races);
  // Any heat-level event without a race (HeatStartedEvent, HeatClearedEvent, ...).
  EventSequence& heat_event(const std::string& type_name, const std::string& distance_id, int heat,
                            const std::string& extra = "");
  EventSequence& race_event(const std::string& type_name, const std::string& distance_id, int heat,
                            const std::string& race, const std::string& extra = "");
  EventSequence& heat_committed(const std::string& distance_id, int heat, const std::string& extra = "");

  const std::vector<core::PositionedEvent>& events() const { return events_; }

 private:
  std::string competition_id_;
  std::vector<core::PositionedEvent> events_;
};

// Applies events[begin, end) to `state`.
void apply_range(core::CompetitionState& state, const std::vector<core::PositionedEvent>& events,
                 std::size_t begin, std::size_t end);

// The type names of a snapshot, in order (for readable expectations).
std::vector<std::string> type_names(const core::Snapshot& snapshot);

}  // namespace ovalstream::testing
