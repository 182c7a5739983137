#pragma once
// Where a request carries its token:
//   Authorization: Bearer <token>                  any client that can set headers
//   Sec-WebSocket-Protocol: ovalstream, bearer.<token>
//                                                  browsers, whose WebSocket cannot set headers but offers
//                                                  subprotocols; the 101 then names "ovalstream" (never the
//                                                  token), which a browser requires to be one it offered
//   ?token=<token>                                 any client; it lands in the URL, which proxies and
//                                                  ingresses log: prefer the other two
// Looked up in that order; the first found counts. The token is returned, never logged.
// Thread safety: pure functions.

#include <string>
#include <string_view>

#include "ovalstream/hub/server.hpp"

namespace ovalstream::auth {

inline constexpr std::string_view kWebSocketSubprotocol = "ovalstream";
inline constexpr std::string_view kTokenSubprotocolPrefix = "bearer.";

enum class TokenTransport { kNone, kAuthorizationHeader, kSubprotocol, kQuery };

struct RequestToken {
  std::string token;  // "" when none was found
  TokenTransport transport = TokenTransport::kNone;
};

struct TokenTransports {
  bool subprotocol = true;
  bool query = true;
};

// The token of `request`, from the transports allowed (the Authorization header always).
[[nodiscard]] RequestToken find_token(const hub::Request& request, TokenTransports transports = {});

// "ovalstream" when the request offered it as a websocket subprotocol, else "": the value the 101's
// Sec-WebSocket-Protocol must carry.
[[nodiscard]] std::string_view chosen_subprotocol(const hub::Request& request);

}  // namespace ovalstream::auth
