#pragma once
// Who may use the aggregator's endpoints (docs/security.md, "Access control"):
//   --allowed-origins   a websocket upgrade whose Origin is not allowed: 403 before the upgrade
//   --auth required     a token (request_token.hpp's transports) that verifies: else 401; its
//                       `competitions` must cover /v1/competitions/{id}: else 403 before the upgrade;
//                       /v1/competitions lists only what it covers
// With --auth off and every origin allowed (the defaults) everyone is admitted to everything, as the
// original served them. A refusal never quotes the token.
// Thread safety: admit() may be called concurrently (hub connection strands).

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "ovalstream/auth/auth_metrics.hpp"
#include "ovalstream/auth/competition_scope.hpp"
#include "ovalstream/auth/key_store.hpp"
#include "ovalstream/auth/origin_policy.hpp"
#include "ovalstream/auth/token_verifier.hpp"
#include "ovalstream/auth/verified_tokens.hpp"
#include "ovalstream/hub/server.hpp"

namespace ovalstream::aggregator {

struct RouteTarget;

struct Admission {
  // What the client may read; never null.
  std::shared_ptr<const auth::CompetitionScope> scope;
  // When its token stops being valid (exp + skew): the connection is closed then. Unset without a token.
  std::optional<std::chrono::system_clock::time_point> valid_until;
  // The Sec-WebSocket-Protocol of the 101 ("ovalstream" when offered), "" for none.
  std::string subprotocol;
};

struct AccessOptions {
  bool auth_required = false;
  auth::VerifyOptions verify;
  auth::OriginPolicy origins;  // every origin by default
};

class AccessControl {
 public:
  // `keys` may be null when auth is off; `observer` may be null.
  AccessControl(AccessOptions options, std::shared_ptr<auth::KeyStore> keys,
                std::shared_ptr<auth::AuthObserver> observer);

  // For a request to /v1/competitions (`competition_id` empty) or /v1/competitions/{id}.
  [[nodiscard]] std::variant<Admission, hub::HttpResponse> admit(const hub::Request& request,
                                                                 const std::string& competition_id) const;

 private:
  hub::HttpResponse refuse(unsigned status, std::string_view reason, std::string body) const;

  const AccessOptions options_;
  const std::shared_ptr<auth::KeyStore> keys_;
  const std::shared_ptr<auth::AuthObserver> observer_;
  const std::shared_ptr<const auth::CompetitionScope> everything_;
  // Tokens seen again (a page's two sockets, reconnects) skip the signature check.
  const std::unique_ptr<auth::VerifiedTokens> verified_ = std::make_unique<auth::VerifiedTokens>();
};

}  // namespace ovalstream::aggregator
