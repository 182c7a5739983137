#pragma once
// The access-control flags, shared by the aggregator and `recorder serve` so both spell and document them
// the same way:
//   --auth off|required           off: no token asked for (the aggregator's default, the original's open
//                                 behaviour)
//   --auth-hmac-secret-file F     HS256 secret (key_set.hpp)
//   --auth-public-keys F          PEM or JWKS public keys: RS256, ES256
//   --auth-audience A             tokens must name A in "aud" (unset: aud not checked)
//   --auth-clock-skew D           allowance on exp and nbf for clocks that differ (default 30s)
//   --allowed-origins O,...       browser origins allowed (origin_policy.hpp); the default differs per
//   service
// Thread safety: as runtime::FlagSet (main thread, before the service starts).

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "ovalstream/auth/key_set.hpp"
#include "ovalstream/auth/token_verifier.hpp"
#include "ovalstream/runtime/flags.hpp"

namespace ovalstream::auth {

enum class AuthMode { kOff, kRequired };

struct AuthSettings {
  AuthMode mode = AuthMode::kOff;
  KeyFiles key_files;
  std::string audience;
  std::chrono::nanoseconds clock_skew = std::chrono::seconds(30);
  std::vector<std::string> allowed_origins{"*"};

  VerifyOptions verify_options() const;
};

// Registers the flags above; the settings' current values are the defaults shown in --help.
// `origins_help` says what the origins apply to in this service.
void add_auth_flags(runtime::FlagSet& flags, AuthSettings* settings, std::string origins_help);

// What the flags cannot check one by one: --auth required without a key file, a key file with --auth off
// (a forgotten --auth required would otherwise serve everyone), an origin that is not one. The message for
// a usage error.
[[nodiscard]] std::optional<std::string> check_auth_settings(const AuthSettings& settings);

}  // namespace ovalstream::auth
