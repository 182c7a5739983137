#include "ovalstream/core/competition_state.hpp"

#include <algorithm>

#include "ovalstream/core/longtrack_rules.hpp"

namespace ovalstream::core {

CompetitionState::CompetitionState(std::string competition_id, std::unique_ptr<DisciplineRules> rules)
    : competition_id_(std::move(competition_id)), rules_(std::move(rules)) {}

ApplyResult CompetitionState::apply(const Event& event, Position position) {
  if (event.header.competition_id != competition_id_) return ApplyResult::kWrongCompetition;
  if (position <= last_position_) return ApplyResult::kDuplicate;
  last_position_ = position;
  if (!rules_->apply(PositionedEvent{position, event})) return ApplyResult::kIgnored;
  ++version_;
  cached_snapshot_.reset();
  return ApplyResult::kApplied;
}

SharedSnapshot CompetitionState::snapshot() const {
  if (!cached_snapshot_) {
    auto events = std::make_shared<Snapshot>();
    rules_->collect(*events);
    std::sort(events->begin(), events->end(),
              [](const PositionedEvent& a, const PositionedEvent& b) { return a.position < b.position; });
    // At most one activation is retained; what came before it (a re-activation keeps the distance) follows
    // it.
    std::stable_partition(events->begin(), events->end(), [](const PositionedEvent& e) {
      return e.event.header.type == EventType::kCompetitionActivated;
    });
    cached_snapshot_ = std::move(events);
  }
  return cached_snapshot_;
}

std::vector<EventBytes> frames_for(const CompetitionState& state, const Event& event, ApplyResult result) {
  std::vector<EventBytes> frames;
  if (result == ApplyResult::kDuplicate || result == ApplyResult::kWrongCompetition) return frames;
  if (result == ApplyResult::kApplied && event.header.type == EventType::kCompetitionActivated) {
    for (const PositionedEvent& item : *state.snapshot()) frames.push_back(item.event.bytes);
  } else {
    frames.push_back(event.bytes);
  }
  return frames;
}

CompetitionState make_longtrack_state(std::string competition_id) {
  return CompetitionState(std::move(competition_id), make_longtrack_rules());
}

}  // namespace ovalstream::core
