#include "ovalstream/auth/request_token.hpp"

#include <functional>

#include "ovalstream/runtime/paths.hpp"

namespace ovalstream::auth {
namespace {

bool same_ascii_case_insensitive(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

// Calls `visit` with each subprotocol offered, over every Sec-WebSocket-Protocol field; stops when it
// returns true.
void for_each_subprotocol(const hub::Request& request, const std::function<bool(std::string_view)>& visit) {
  for (const auto& [name, value] : request.headers) {
    if (!same_ascii_case_insensitive(name, "Sec-WebSocket-Protocol")) continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      if (visit(trim(rest.substr(0, comma)))) return;
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
  }
}

}  // namespace

RequestToken find_token(const hub::Request& request, TokenTransports transports) {
  const std::string_view authorization = trim(request.header("Authorization"));
  constexpr std::string_view kBearer = "bearer ";
  if (authorization.size() > kBearer.size() &&
      same_ascii_case_insensitive(authorization.substr(0, kBearer.size()), kBearer)) {
    return {std::string(trim(authorization.substr(kBearer.size()))), TokenTransport::kAuthorizationHeader};
  }
  if (transports.subprotocol) {
    RequestToken found;
    for_each_subprotocol(request, [&](std::string_view protocol) {
      if (protocol.size() <= kTokenSubprotocolPrefix.size() ||
          !same_ascii_case_insensitive(protocol.substr(0, kTokenSubprotocolPrefix.size()),
                                       kTokenSubprotocolPrefix)) {
        return false;
      }
      found = {std::string(protocol.substr(kTokenSubprotocolPrefix.size())), TokenTransport::kSubprotocol};
      return true;
    });
    if (found.transport != TokenTransport::kNone) return found;
  }
  if (transports.query) {
    const auto question = request.target.find('?');
    std::string_view query = question == std::string::npos
                                 ? std::string_view()
                                 : std::string_view(request.target).substr(question + 1);
    while (!query.empty()) {
      const auto amp = query.find('&');
      const std::string_view pair = query.substr(0, amp);
      query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
      if (pair.substr(0, 6) != "token=") continue;
      // A malformed escape leaves the token as sent: the verifier refuses it as malformed.
      const std::string_view raw = pair.substr(6);
      return {runtime::percent_decode(raw).value_or(std::string(raw)), TokenTransport::kQuery};
    }
  }
  return {};
}

std::string_view chosen_subprotocol(const hub::Request& request) {
  bool offered = false;
  for_each_subprotocol(request, [&](std::string_view protocol) {
    offered = protocol == kWebSocketSubprotocol;
    return offered;
  });
  return offered ? kWebSocketSubprotocol : std::string_view();
}

}  // namespace ovalstream::auth
