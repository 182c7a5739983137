#include "ovalstream/auth/competition_scope.hpp"

namespace ovalstream::auth {

CompetitionScope CompetitionScope::everything() {
  CompetitionScope scope;
  scope.all_ = true;
  return scope;
}

CompetitionScope CompetitionScope::of(std::set<std::string, core::CompetitionIdLess> ids) {
  CompetitionScope scope;
  scope.ids_ = std::move(ids);
  return scope;
}

bool CompetitionScope::covers(std::string_view competition_id) const noexcept {
  return all_ || ids_.find(competition_id) != ids_.end();
}

}  // namespace ovalstream::auth
