#pragma once
// The keys tokens are checked against, read from the files of --auth-hmac-secret-file and
// --auth-public-keys:
//   HMAC secret   the file's bytes, trailing whitespace (a newline an editor adds) removed; at least 32 bytes
//                 (RFC 7518 section 3.2: an HS256 key is at least as long as the hash). Used for HS256 only.
//   public keys   a PEM file of one or more public keys (SubjectPublicKeyInfo "PUBLIC KEY", PKCS#1 "RSA
//                 PUBLIC KEY") or certificates, or a JWKS document ({"keys": [...]}, kty RSA or EC P-256).
//                 RSA keys verify RS256 only, P-256 keys ES256 only; a JWK's "kid" selects it by a token's
//                 header, its "alg" (when given) must agree, and keys with "use" other than "sig" are left
//                 out.
// Each key is bound to its one algorithm here, so a token's header can never make a public key serve as an
// HMAC secret (algorithm confusion). Error messages name the file and the problem, never key bytes.
// Thread safety: pure functions; a KeySet is an immutable value once loaded.

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace ovalstream::auth {

enum class Algorithm { kHs256, kRs256, kEs256 };
std::string_view algorithm_name(Algorithm algorithm);  // "HS256", ...
// The JWS "alg" names this verifier accepts; anything else ("none", "HS512", "PS256") is nullopt.
std::optional<Algorithm> algorithm_from_name(std::string_view name);

struct PublicKey {
  Algorithm algorithm = Algorithm::kRs256;
  std::string key_id;  // a JWK's "kid"; "" for PEM keys
  std::string pem;     // SubjectPublicKeyInfo PEM, as libjwt reads it
};

struct KeySet {
  std::optional<std::string> hmac_secret;
  std::vector<PublicKey> public_keys;

  bool empty() const noexcept { return !hmac_secret && public_keys.empty(); }
};

inline constexpr std::size_t kMinHmacSecretBytes = 32;
// Key files are small; a larger one is a mistake (a wrong path), refused before it is read whole.
inline constexpr std::size_t kMaxKeyFileBytes = 1 << 20;

// The public keys of a PEM or JWKS text (JWKS when its first non-space character is '{'). The error says
// what is wrong (e.g. "JWKS key 2: unsupported curve P-384").
std::variant<std::vector<PublicKey>, std::string> parse_public_keys(std::string_view text);

// The secret of an HMAC secret file's contents (trailing whitespace removed); nullopt with `error` saying why
// it is refused (never quoting it).
std::optional<std::string> parse_hmac_secret(std::string_view contents, std::string& error);

struct KeyFiles {
  std::string hmac_secret_file;  // "" = none
  std::string public_keys_file;  // "" = none
};

// Reads both files (either may be unset, not both). The error names the file.
std::variant<KeySet, std::string> load_key_set(const KeyFiles& files);

}  // namespace ovalstream::auth
