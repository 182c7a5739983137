#include "ovalstream/auth/origin_policy.hpp"

#include <algorithm>
#include <cctype>

namespace ovalstream::auth {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// scheme://host[:port] with nothing after: what a browser's Origin holds (RFC 6454 section 6.1).
bool is_serialized_origin(std::string_view text) {
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) return false;
  for (const char c : text.substr(0, scheme_end)) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') return false;
  }
  const std::string_view authority = text.substr(scheme_end + 3);
  if (authority.empty()) return false;
  return std::none_of(authority.begin(), authority.end(), [](char c) {
    return c == '/' || c == '?' || c == '#' || c == '@' || std::isspace(static_cast<unsigned char>(c)) ||
           std::iscntrl(static_cast<unsigned char>(c));
  });
}

}  // namespace

std::variant<OriginPolicy, std::string> OriginPolicy::parse(const std::vector<std::string>& items) {
  OriginPolicy policy;
  policy.any_ = false;
  for (const std::string& item : items) {
    if (item == "*") {
      policy.any_ = true;
      continue;
    }
    std::string_view origin = item;
    if (origin.size() > 1 && origin.back() == '/') origin.remove_suffix(1);  // a pasted URL's root
    if (origin != "null" && !is_serialized_origin(origin)) {
      return "not an origin: \"" + item + "\" (scheme://host[:port], \"null\" or \"*\")";
    }
    policy.origins_.push_back(lower(origin));
  }
  return policy;
}

bool OriginPolicy::allows(std::string_view origin) const noexcept {
  if (origin.empty() || any_) return true;
  return std::any_of(origins_.begin(), origins_.end(), [&](const std::string& allowed) {
    return allowed.size() == origin.size() &&
           std::equal(allowed.begin(), allowed.end(), origin.begin(), [](char a, char b) {
             return a == static_cast<char>(std::tolower(static_cast<unsigned char>(b)));
           });
  });
}

}  // namespace ovalstream::auth
