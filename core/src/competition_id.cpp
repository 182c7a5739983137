#include "ovalstream/core/competition_id.hpp"

#include <algorithm>

#include "ovalstream/core/subject.hpp"
#include "ovalstream/core/utf8.hpp"

namespace ovalstream::core {
namespace {

char fold(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

bool is_requestable_competition_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > kMaxCompetitionIdBytes || !is_subject_token(id) || !is_valid_utf8(id))
    return false;
  if (same_competition_id(id, "activations")) return false;
  return std::none_of(id.begin(), id.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
  });
}

bool same_competition_id(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return fold(x) == fold(y); });
}

bool CompetitionIdLess::operator()(std::string_view a, std::string_view b) const noexcept {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                      [](char x, char y) { return fold(x) < fold(y); });
}

}  // namespace ovalstream::core
