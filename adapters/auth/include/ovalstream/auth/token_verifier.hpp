#pragma once
// Checks a token (a compact JWS, RFC 7519) and reads the claims access control needs.
// The signature is libjwt's to check (over OpenSSL), with the key chosen here by the token's "alg": HS256
// only against the HMAC secret, RS256 only against RSA keys, ES256 only against P-256 keys ("kid" narrows
// the keys when the token names one). Anything else is refused before libjwt sees it: "none", other
// algorithms, an HS256 token where only public keys are configured (so a public key is never used as an
// HMAC secret), tokens over max_token_bytes.
// libjwt 1.x checks no claim, so the claims are checked here, with clock_skew of allowance either way:
//   exp            required, a number: refused from exp + skew on
//   nbf            optional: refused before nbf - skew
//   aud            checked when VerifyOptions::audience is set: a string or an array holding it
//   competitions   optional, ["id", ...] or "*" (or ["*"]): what the aggregator serves the token
//   scope          optional, "recorder:read recorder:write" (space-separated, as OAuth writes it) or an array
// A token is a secret: nothing here logs it or puts it in a message.
// Thread safety: pure functions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ovalstream/auth/competition_scope.hpp"
#include "ovalstream/auth/key_set.hpp"

namespace ovalstream::auth {

// Why a token was refused; failure_reason() is the metric label.
enum class Failure {
  kMissing,      // no token where one is required
  kMalformed,    // not three base64url parts of JSON objects, or over the size bound
  kAlgorithm,    // "alg" none, unknown, or one no configured key verifies
  kSignature,    // no key of its algorithm (and kid) verifies it
  kExpired,      // now > exp + skew
  kNotYetValid,  // now < nbf - skew
  kAudience,     // aud does not name --auth-audience
  kClaims,       // exp missing or not a number; competitions, scope or aud of the wrong type
};
std::string_view failure_reason(Failure failure);  // "missing", "malformed", ..., "claims"
inline constexpr Failure kAllFailures[] = {Failure::kMissing,   Failure::kMalformed, Failure::kAlgorithm,
                                           Failure::kSignature, Failure::kExpired,   Failure::kNotYetValid,
                                           Failure::kAudience,  Failure::kClaims};

struct Claims {
  double expires_at = 0;             // exp, seconds since the epoch
  std::optional<double> not_before;  // nbf
  CompetitionScope competitions;
  std::vector<std::string> scopes;

  [[nodiscard]] bool has_scope(std::string_view scope) const noexcept;
};

struct VerifyOptions {
  std::string audience;  // "" = aud not checked
  std::int64_t clock_skew_seconds = 30;
  // Tokens longer than this are refused unread (a header holding one is bounded at 8 KiB anyway).
  std::size_t max_token_bytes = 8 * 1024;
};

using Verification = std::variant<Claims, Failure>;

// `now_seconds`: seconds since the epoch (the system clock).
[[nodiscard]] Verification verify_token(const KeySet& keys, std::string_view token,
                                        const VerifyOptions& options, double now_seconds);

}  // namespace ovalstream::auth
