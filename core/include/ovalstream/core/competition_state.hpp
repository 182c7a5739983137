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
  kDuplicate,         // position not after the last applied one: already seen
  kWrongCompetition,  // the event names another competition
};

// A discipline's reducer. apply() sees events in strictly increasing position order and returns whether
// the live view changed; collect() appends every retained event in any order.
// A competition activation seen again keeps what the state holds below the competition (the original
// server re-sent the latest distance and heats after one); see docs/protocol.md.
class DisciplineRules {
 public:
  virtual ~DisciplineRules() = default;
  virtual bool apply(const PositionedEvent& event) = 0;
  virtual void collect(Snapshot& out) const = 0;
  // A JSON summary of the live view for humans and `curl`.
  virtual std::string state_view_json() const = 0;
};

// A competition's events in stream order (one consumer over the whole stream): positions only increase.
class CompetitionState {
 public:
  CompetitionState(std::string competition_id, std::unique_ptr<DisciplineRules> rules);

  ApplyResult apply(const Event& event, Position position);

  // The retained events: the competition activation first (a client resets its view at one, so whatever
  // the state kept from before a re-activation must follow it), then the rest sorted by position. Cached
  // until the next applied event, so a join storm pays once.
  SharedSnapshot snapshot() const;

  std::string state_view_json() const { return rules_->state_view_json(); }
  const std::string& competition_id() const noexcept { return competition_id_; }
  // The highest position applied; 0 before the first event.
  Position last_position() const noexcept { return last_position_; }
  // Counts the applied events: equal versions, equal live view (for caches of what derives from it).
  std::uint64_t version() const noexcept { return version_; }

 private:
  std::string competition_id_;
  std::unique_ptr<DisciplineRules> rules_;
  Position last_position_ = 0;
  std::uint64_t version_ = 0;
  mutable SharedSnapshot cached_snapshot_;
};

// What a client of the competition receives for an event `state` just took (`result` of its apply()):
// nothing for a duplicate or another competition's event; for an applied competition activation the
// state's snapshot (the activation, then what the state kept below the competition: clients reset their
// view at an activation); otherwise the event itself (also when it changed nothing: a client that saw
// everything sees it, and a late joiner's view does not depend on it).
std::vector<EventBytes> frames_for(const CompetitionState& state, const Event& event, ApplyResult result);

// A state with the Vantage long-track rules.
CompetitionState make_longtrack_state(std::string competition_id);

}  // namespace ovalstream::core
