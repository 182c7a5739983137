#pragma once
// The competitions a token covers: its `competitions` claim, a list of ids or "*" (every competition).
// Ids are matched as the aggregator matches them everywhere: ASCII case-insensitively
// (core/competition_id.hpp), so a token for "30913459-50B1-..." covers the competition published in lower
// case.
// Thread safety: an immutable value once built.

#include <set>
#include <string>
#include <string_view>

#include "ovalstream/core/competition_id.hpp"

namespace ovalstream::auth {

class CompetitionScope {
 public:
  CompetitionScope() = default;  // covers nothing
  static CompetitionScope everything();
  static CompetitionScope of(std::set<std::string, core::CompetitionIdLess> ids);

  [[nodiscard]] bool covers(std::string_view competition_id) const noexcept;
  bool covers_everything() const noexcept { return all_; }
  const std::set<std::string, core::CompetitionIdLess>& ids() const noexcept { return ids_; }

 private:
  bool all_ = false;
  std::set<std::string, core::CompetitionIdLess> ids_;
};

}  // namespace ovalstream::auth
