#include "ovalstream/auth/token_verifier.hpp"

#include <jwt.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "base64url.hpp"

namespace ovalstream::auth {
namespace {

struct JwtFree {
  void operator()(jwt_t* jwt) const noexcept { jwt_free(jwt); }
};
using Jwt = std::unique_ptr<jwt_t, JwtFree>;
struct CharFree {
  void operator()(char* text) const noexcept { std::free(text); }
};

bool is_token_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.';
}

std::optional<rapidjson::Document> decode_json_object(std::string_view part) {
  const auto bytes = decode_base64url(part);
  if (!bytes) return std::nullopt;
  rapidjson::Document document;
  document.Parse<rapidjson::kParseValidateEncodingFlag>(bytes->data(), bytes->size());
  if (document.HasParseError() || !document.IsObject()) return std::nullopt;
  return document;
}

std::optional<std::string_view> string_member(const rapidjson::Value& object, const char* name) {
  const auto member = object.FindMember(name);
  if (member == object.MemberEnd() || !member->value.IsString()) return std::nullopt;
  return std::string_view(member->value.GetString(), member->value.GetStringLength());
}

jwt_alg_t libjwt_algorithm(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kHs256:
      return JWT_ALG_HS256;
    case Algorithm::kRs256:
      return JWT_ALG_RS256;
    case Algorithm::kEs256:
      return JWT_ALG_ES256;
  }
  return JWT_ALG_INVAL;
}

// The signature check, libjwt's: the token decoded and verified with `key`, and the algorithm it verified
// with being the one the key was chosen for. libjwt must always get a key: without one it accepts any
// token unverified.
Jwt verified_with(const std::string& token, std::string_view key, Algorithm algorithm) {
  if (key.empty()) return nullptr;
  jwt_t* raw = nullptr;
  const int status = jwt_decode(&raw, token.c_str(), reinterpret_cast<const unsigned char*>(key.data()),
                                static_cast<int>(key.size()));
  Jwt jwt(raw);
  if (status != 0 || !jwt || jwt_get_alg(jwt.get()) != libjwt_algorithm(algorithm)) return nullptr;
  return jwt;
}

std::optional<Failure> read_claims(const rapidjson::Value& grants, const VerifyOptions& options,
                                   double now_seconds, Claims& claims) {
  const auto exp = grants.FindMember("exp");
  if (exp == grants.MemberEnd() || !exp->value.IsNumber()) return Failure::kClaims;
  claims.expires_at = exp->value.GetDouble();
  const double skew = static_cast<double>(options.clock_skew_seconds);
  if (now_seconds >= claims.expires_at + skew) return Failure::kExpired;
  if (const auto nbf = grants.FindMember("nbf"); nbf != grants.MemberEnd()) {
    if (!nbf->value.IsNumber()) return Failure::kClaims;
    claims.not_before = nbf->value.GetDouble();
    if (now_seconds < *claims.not_before - skew) return Failure::kNotYetValid;
  }
  const auto aud = grants.FindMember("aud");
  if (aud != grants.MemberEnd() && !aud->value.IsString() && !aud->value.IsArray()) return Failure::kClaims;
  if (!options.audience.empty()) {
    bool named = false;
    if (aud != grants.MemberEnd() && aud->value.IsString()) {
      named = std::string_view(aud->value.GetString(), aud->value.GetStringLength()) == options.audience;
    } else if (aud != grants.MemberEnd()) {
      for (const auto& item : aud->value.GetArray()) {
        named = named || (item.IsString() &&
                          std::string_view(item.GetString(), item.GetStringLength()) == options.audience);
      }
    }
    if (!named) return Failure::kAudience;
  }
  if (const auto competitions = grants.FindMember("competitions"); competitions != grants.MemberEnd()) {
    const auto& value = competitions->value;
    if (value.IsString() && std::string_view(value.GetString(), value.GetStringLength()) == "*") {
      claims.competitions = CompetitionScope::everything();
    } else if (value.IsArray()) {
      std::set<std::string, core::CompetitionIdLess> ids;
      bool everything = false;
      for (const auto& item : value.GetArray()) {
        if (!item.IsString()) return Failure::kClaims;
        std::string id(item.GetString(), item.GetStringLength());
        everything = everything || id == "*";
        ids.insert(std::move(id));
      }
      claims.competitions =
          everything ? CompetitionScope::everything() : CompetitionScope::of(std::move(ids));
    } else {
      return Failure::kClaims;
    }
  }
  if (const auto scope = grants.FindMember("scope"); scope != grants.MemberEnd()) {
    if (scope->value.IsString()) {
      std::string_view rest(scope->value.GetString(), scope->value.GetStringLength());
      while (!rest.empty()) {
        const auto space = rest.find(' ');
        if (space != 0) claims.scopes.emplace_back(rest.substr(0, space));
        rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
      }
    } else if (scope->value.IsArray()) {
      for (const auto& item : scope->value.GetArray()) {
        if (!item.IsString()) return Failure::kClaims;
        claims.scopes.emplace_back(item.GetString(), item.GetStringLength());
      }
    } else {
      return Failure::kClaims;
    }
  }
  return std::nullopt;
}

}  // namespace

std::string_view failure_reason(Failure failure) {
  switch (failure) {
    case Failure::kMissing:
      return "missing";
    case Failure::kMalformed:
      return "malformed";
    case Failure::kAlgorithm:
      return "algorithm";
    case Failure::kSignature:
      return "signature";
    case Failure::kExpired:
      return "expired";
    case Failure::kNotYetValid:
      return "not_yet_valid";
    case Failure::kAudience:
      return "audience";
    case Failure::kClaims:
      return "claims";
  }
  return "unknown";
}

bool Claims::has_scope(std::string_view scope) const noexcept {
  return std::find(scopes.begin(), scopes.end(), scope) != scopes.end();
}

Verification verify_token(const KeySet& keys, std::string_view token, const VerifyOptions& options,
                          double now_seconds) {
  if (token.empty()) return Failure::kMissing;
  if (token.size() > options.max_token_bytes || !std::all_of(token.begin(), token.end(), is_token_char)) {
    return Failure::kMalformed;
  }
  const auto first_dot = token.find('.');
  const auto second_dot = first_dot == std::string_view::npos ? first_dot : token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos || token.find('.', second_dot + 1) != std::string_view::npos ||
      first_dot == 0 || second_dot == first_dot + 1) {
    return Failure::kMalformed;
  }
  // The header and payload are read first only to choose the key and to tell a malformed token from a
  // forged one; libjwt decodes and verifies the token itself.
  const auto header = decode_json_object(token.substr(0, first_dot));
  if (!header || !decode_json_object(token.substr(first_dot + 1, second_dot - first_dot - 1))) {
    return Failure::kMalformed;
  }
  if (header->HasMember("crit")) return Failure::kMalformed;  // no extension is understood here
  const auto alg_name = string_member(*header, "alg");
  const auto algorithm = alg_name ? algorithm_from_name(*alg_name) : std::nullopt;
  if (!algorithm) return Failure::kAlgorithm;

  std::vector<std::string_view> candidates;
  if (*algorithm == Algorithm::kHs256) {
    if (keys.hmac_secret) candidates.push_back(*keys.hmac_secret);
  } else {
    const auto kid = string_member(*header, "kid");
    bool any_of_algorithm = false;
    for (const PublicKey& key : keys.public_keys) {
      if (key.algorithm != *algorithm) continue;
      any_of_algorithm = true;
      if (!kid || key.key_id.empty() || key.key_id == *kid) candidates.push_back(key.pem);
    }
    if (!any_of_algorithm) return Failure::kAlgorithm;
  }
  if (candidates.empty()) return *algorithm == Algorithm::kHs256 ? Failure::kAlgorithm : Failure::kSignature;

  const std::string terminated(token);
  Jwt jwt;
  for (const std::string_view key : candidates) {
    if ((jwt = verified_with(terminated, key, *algorithm))) break;
  }
  if (!jwt) return Failure::kSignature;

  // The claims as libjwt decoded them (its JSON, re-serialized: one value per name).
  const std::unique_ptr<char, CharFree> grants_json(jwt_get_grants_json(jwt.get(), nullptr));
  rapidjson::Document grants;
  if (!grants_json || grants.Parse(grants_json.get()).HasParseError() || !grants.IsObject()) {
    return Failure::kClaims;
  }
  Claims claims;
  if (const auto failure = read_claims(grants, options, now_seconds, claims)) return *failure;
  return claims;
}

}  // namespace ovalstream::auth
