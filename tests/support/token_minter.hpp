#pragma once
// Test support: keys made at test time with the OpenSSL C API, and tokens minted with libjwt, the library
// the services verify with (plus the forgeries the tests need: alg none, a public key used as an HMAC
// secret). Shared by the auth unit tests and the aggregator's and recorder's integration tests.
// Thread safety: pure functions.

#include <cstdint>
#include <string>
#include <string_view>

namespace ovalstream::testing {

// 48 bytes: comfortably over HS256's 32-byte minimum.
inline constexpr std::string_view kTestHmacSecret = "test-secret-0123456789abcdefghijklmnopqrstuvwxyz";

struct KeyPair {
  std::string private_pem;  // PKCS#8
  std::string public_pem;   // SubjectPublicKeyInfo
};
KeyPair make_rsa_key_pair(int bits = 2048);
KeyPair make_ec_key_pair(const char* curve = "P-256");

// A JWKS member for `public_pem` (an RSA or EC public key): {"kty":..., "kid": kid, ...}.
std::string jwk_of(const std::string& public_pem, const std::string& kid);

// A compact JWS signed by libjwt: `alg` "HS256" (key: the secret), "RS256" or "ES256" (key: a private PEM),
// or "none" (key ignored). `claims_json` is the payload object; `headers_json` adds header members (e.g.
// {"kid":"k1"}).
std::string mint_token(std::string_view alg, std::string_view key, const std::string& claims_json,
                       const std::string& headers_json = "");

// The token with its header part replaced by `header_json` (signature kept): forged headers.
std::string with_header(const std::string& token, const std::string& header_json);
std::string base64url_encode(std::string_view bytes);

// Seconds since the epoch, now.
std::int64_t unix_now();

// {"exp": now + ttl_seconds, "competitions": [...]} for the common case; `competitions_json` is the claim's
// JSON value, e.g. R"(["a","b"])" or R"("*")".
std::string competition_claims(const std::string& competitions_json, std::int64_t ttl_seconds = 600);

// Writes `contents` to `path` (mode 0600); throws std::runtime_error on failure.
void write_file(const std::string& path, std::string_view contents);

}  // namespace ovalstream::testing
