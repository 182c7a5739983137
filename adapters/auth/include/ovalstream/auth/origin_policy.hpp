#pragma once
// --allowed-origins: the browser origins (scheme://host[:port], as a browser sends them in `Origin`) allowed
// to open a websocket (aggregator) or to send a state-changing request (recorder serve). "*" allows every
// origin; an empty list none. Requests without an `Origin` (curl, servers, native apps) are not a browser's
// cross-site request and are not refused for it. Matching is exact, ASCII case-insensitive; "null" (a
// sandboxed or file: page) matches only when listed.
// Thread safety: an immutable value once built.

#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace ovalstream::auth {

class OriginPolicy {
 public:
  // Every origin.
  OriginPolicy() = default;
  // From the flag's items; the error names an item that is not "*", "null" or scheme://host[:port].
  static std::variant<OriginPolicy, std::string> parse(const std::vector<std::string>& items);

  // `origin` is the request's Origin field value ("" when absent: always allowed).
  [[nodiscard]] bool allows(std::string_view origin) const noexcept;
  bool allows_every_origin() const noexcept { return any_; }

 private:
  bool any_ = true;
  std::vector<std::string> origins_;  // lower case
};

}  // namespace ovalstream::auth
