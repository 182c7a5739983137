#pragma once
// Competition ids as clients name them. The original server matched the id of /v1/competitions/{id}
// case-insensitively (Go's strings.EqualFold), so a client asking for an upper-case GUID found the
// competition Vantage publishes in lower case; ovalstream does the same, ASCII-only (ids are GUIDs or
// tokens; Unicode case folding would make two distinct non-ASCII tokens one).
// Thread safety: pure functions.

#include <cstddef>
#include <string_view>

namespace ovalstream::core {

// The longest id a client may ask for: far above a GUID's 36, and a bound on what a request makes us hold.
inline constexpr std::size_t kMaxCompetitionIdBytes = 256;

// True when a client may ask for `id`: it can stand as one subject token (core/subject.hpp), is valid
// UTF-8 without control characters, "activations" excluded (that subject is not a competition's), and has
// at most kMaxCompetitionIdBytes bytes.
bool is_requestable_competition_id(std::string_view id) noexcept;

// ASCII case-insensitive equality and order.
bool same_competition_id(std::string_view a, std::string_view b) noexcept;
struct CompetitionIdLess {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const noexcept;
};

}  // namespace ovalstream::core
