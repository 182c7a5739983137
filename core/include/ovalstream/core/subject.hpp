#pragma once
// NATS subjects of the Vantage events: the original server's NATS Streaming channel names, all under one
// JetStream stream that captures `competition.>`.
//   competition.activations                                         CompetitionActivatedEvent
//   competition.{cid}                                               other competition-level events
//   competition.{cid}.distances.activations                         DistanceActivatedEvent
//   competition.{cid}.distances.{did}                               distance-level events
//   competition.{cid}.distances.{did}.heats.activations.{group}     HeatActivatedEvent
//   competition.{cid}.distances.{did}.heats.{round}.{number}        other heat-level events
// Thread safety: the free functions are pure; HeatGroupAssigner is a plain value, not synchronized.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ovalstream/core/event.hpp"

namespace ovalstream::core {

inline constexpr std::string_view kSubjectRoot = "competition";

// The level at which an event is routed. HeatCommittedEvent is distance-level (a heat can be committed
// while it is not active); every other known heat type, and any event naming a heat, is heat-level.
Level routing_level(const RoutingHeader& header) noexcept;

// The subject of an event. `heat_group` is used only for HeatActivatedEvent. Returns nullopt when an id
// cannot be a subject token (empty, or holding '.', '*', '>' or whitespace), is "activations" (its subject
// would read as an activation subject), or the group is negative.
std::optional<std::string> subject_for(const RoutingHeader& header, int heat_group = 0);

// True when `token` can stand as one subject token.
bool is_subject_token(std::string_view token) noexcept;

struct SubjectInfo {
  Level level = Level::kCompetition;
  bool activations = false;                   // one of the *.activations subjects
  std::optional<std::string> competition_id;  // absent for competition.activations
  std::optional<std::string> distance_id;
  std::optional<HeatKey> heat;    // heat-level, non-activation subjects
  std::optional<int> heat_group;  // heats.activations.{group}
};

// The reverse mapping; nullopt for a subject outside the scheme. `root` lets a replay run under a prefix.
std::optional<SubjectInfo> parse_subject(std::string_view subject, std::string_view root = kSubjectRoot);

// Assigns HeatActivatedEvent groups the way a publisher must: the heat's current group if it has one,
// else the lowest group of that distance with no active heat (0, or 1 when two heats run at once).
// HeatDeactivatedEvent frees the group; DistanceActivatedEvent frees every group of that distance;
// CompetitionActivatedEvent forgets the competition.
class HeatGroupAssigner {
 public:
  // Updates the assignment with `header` and returns the group to publish it under (0 for non-heat events).
  int observe(const RoutingHeader& header);

 private:
  using DistanceKey = std::pair<std::string, std::string>;  // competition id, distance id
  std::map<DistanceKey, std::vector<std::optional<HeatKey>>> active_by_group_;
};

}  // namespace ovalstream::core
