#pragma once
// base64url without padding (RFC 7515 section 2), as the three parts of a compact JWS and the members of a
// JWK are written. Decoding only: used to read a token's header before libjwt verifies the token (to choose
// the key by algorithm), and a JWK's numbers. Thread safety: pure functions.

#include <optional>
#include <string>
#include <string_view>

namespace ovalstream::auth {

// nullopt for a character outside the alphabet, padding, or a length no encoding has (4n + 1).
std::optional<std::string> decode_base64url(std::string_view text);

}  // namespace ovalstream::auth
