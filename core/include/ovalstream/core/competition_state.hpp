#pragma once
// The generic, discipline-independent part of the live state: stream positions, ordering, the snapshot
// hand-off. The discipline's rules (what to keep, what supersedes what) live behind DisciplineRules, so
// another discipline is one more rules file (see longtrack_rules.hpp).
// Thread safety: none. A CompetitionState belongs to one competition's serialized executor; snapshots it
// returns are immutable and may be shared with any thread.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ovalstream/core/event.hpp"

namespace ovalstream::core {

// The JetStream stream sequence of an event.
using Position = std::uint64_t;

struct PositionedEvent {
  Position position = 0;
  Event event;
};

// The raw events a new client needs, in their original order.
using Snapshot = std::vector<PositionedEvent>;
using SharedSnapshot = std::shared_ptr<const Snapshot>;

enum class ApplyResult : std::uint8_t {
  kApplied,           // the live view changed
  kIgnored,           // valid, but changes nothing (e.g. an event for a heat no longer shown)
  kDuplicate,         // position not after the last applied one of its lane: already seen
  kWrongCompetition,  // the event names another competition
};

// A discipline's reducer. apply() sees events in strictly increasing position order and returns whether
// the live view changed; collect() appends every retained event in any order.
class DisciplineRules {
 public:
  virtual ~DisciplineRules() = default;
  virtual bool apply(const PositionedEvent& event) = 0;
  virtual void collect(Snapshot& out) const = 0;
  // A JSON summary of the live view for humans and `curl`.
  virtual std::string state_view_json() const = 0;
};

// Positions increase within each of two lanes, the competition-level events and the distance- and
// heat-level ones, and not necessarily across them: on nats-server 2.9 a consumer has one filter subject,
// so `competition.{cid}` and `competition.{cid}.>` arrive through two consumers. The lanes touch disjoint
// parts of the state, so their interleaving does not change it.
class CompetitionState {
 public:
  CompetitionState(std::string competition_id, std::unique_ptr<DisciplineRules> rules);

  ApplyResult apply(const Event& event, Position position);

  // The retained events sorted by position. Cached until the next applied event, so a join storm pays once.
  SharedSnapshot snapshot() const;

  std::string state_view_json() const { return rules_->state_view_json(); }
  const std::string& competition_id() const noexcept { return competition_id_; }
  // The highest position applied in any lane; 0 before the first event.
  Position last_position() const noexcept;
  // The highest position applied in the lane of `level` (kDistance and kHeat share a lane).
  Position last_position(Level level) const noexcept;

 private:
  std::string competition_id_;
  std::unique_ptr<DisciplineRules> rules_;
  Position last_competition_position_ = 0;
  Position last_distance_position_ = 0;
  mutable SharedSnapshot cached_snapshot_;
};

// A state with the Vantage long-track rules.
CompetitionState make_longtrack_state(std::string competition_id);

}  // namespace ovalstream::core
