#pragma once
// Access control of `recorder serve`'s API (docs/recorder.md, "Access"): only operators drive the recorder.
//   state-changing requests (POST, DELETE)  need Content-Type: application/json (415 otherwise) and, when
//   they
//                                           carry an Origin, one in --allowed-origins (403 otherwise): a
//                                           cross-site form or fetch cannot start or cancel a replay
//   --auth required                         an operator token in Authorization: Bearer (401 without a valid
//                                           one) whose `scope` holds recorder:read for GET (listing,
//                                           downloads, replay status) and recorder:write for POST and DELETE
//                                           (403 otherwise)
// The checks wrap the API's router: what passes them is the API's to answer. Errors are JSON like the API's.
// Thread safety: the router may be called concurrently (hub connection strands).

#include <memory>
#include <string_view>

#include "ovalstream/auth/auth_metrics.hpp"
#include "ovalstream/auth/key_store.hpp"
#include "ovalstream/auth/origin_policy.hpp"
#include "ovalstream/auth/token_verifier.hpp"
#include "ovalstream/hub/server.hpp"

namespace ovalstream::recorder {

inline constexpr std::string_view kReadScope = "recorder:read";
inline constexpr std::string_view kWriteScope = "recorder:write";

struct ServeAccessOptions {
  bool auth_required = false;
  auth::VerifyOptions verify;
  auth::OriginPolicy origins;  // every origin by default; `recorder serve` defaults to none
};

// `keys` may be null when auth is off; `observer` may be null.
hub::Router guard_serve_api(hub::Router api, ServeAccessOptions options, std::shared_ptr<auth::KeyStore> keys,
                            std::shared_ptr<auth::AuthObserver> observer);

}  // namespace ovalstream::recorder
