#include "ovalstream/core/competition_state.hpp"

#include <algorithm>

#include "ovalstream/core/longtrack_rules.hpp"

namespace ovalstream::core {

CompetitionState::CompetitionState(std::string competition_id, std::unique_ptr<DisciplineRules> rules)
    : competition_id_(std::move(competition_id)), rules_(std::move(rules)) {}

ApplyResult CompetitionState::apply(const Event& event, Position position) {
  if (event.header.competition_id != competition_id_) return ApplyResult::kWrongCompetition;
  Position& last =
      event.header.level() == Level::kCompetition ? last_competition_position_ : last_distance_position_;
  if (position <= last) return ApplyResult::kDuplicate;
  last = position;
  if (!rules_->apply(PositionedEvent{position, event})) return ApplyResult::kIgnored;
  cached_snapshot_.reset();
  return ApplyResult::kApplied;
}

Position CompetitionState::last_position() const noexcept {
  return std::max(last_competition_position_, last_distance_position_);
}

Position CompetitionState::last_position(Level level) const noexcept {
  return level == Level::kCompetition ? last_competition_position_ : last_distance_position_;
}

SharedSnapshot CompetitionState::snapshot() const {
  if (!cached_snapshot_) {
    auto events = std::make_shared<Snapshot>();
    rules_->collect(*events);
    std::sort(events->begin(), events->end(),
              [](const PositionedEvent& a, const PositionedEvent& b) { return a.position < b.position; });
    cached_snapshot_ = std::move(events);
  }
  return cached_snapshot_;
}

CompetitionState make_longtrack_state(std::string competition_id) {
  return CompetitionState(std::move(competition_id), make_longtrack_rules());
}

}  // namespace ovalstream::core
