#include "ovalstream/auth/auth_settings.hpp"

#include "ovalstream/auth/origin_policy.hpp"

namespace ovalstream::auth {

VerifyOptions AuthSettings::verify_options() const {
  VerifyOptions options;
  options.audience = audience;
  options.clock_skew_seconds = std::chrono::duration_cast<std::chrono::seconds>(clock_skew).count();
  return options;
}

void add_auth_flags(runtime::FlagSet& flags, AuthSettings* settings, std::string origins_help) {
  flags.add_custom(
      "auth", "off|required", settings->mode == AuthMode::kOff ? "off" : "required",
      "required: every request needs a token (JWT) signed by a key of --auth-hmac-secret-file or "
      "--auth-public-keys; off: none is asked for",
      [settings](std::string_view value) -> std::optional<std::string> {
        if (value == "off") {
          settings->mode = AuthMode::kOff;
        } else if (value == "required") {
          settings->mode = AuthMode::kRequired;
        } else {
          return "must be off or required";
        }
        return std::nullopt;
      });
  flags.add_string(
      "auth-hmac-secret-file", &settings->key_files.hmac_secret_file,
      "file holding the HS256 secret (at least 32 bytes); reloaded on SIGHUP and when it changes");
  flags.add_string(
      "auth-public-keys", &settings->key_files.public_keys_file,
      "PEM or JWKS file of the public keys of RS256 and ES256 tokens; reloaded on SIGHUP and when "
      "it changes");
  flags.add_string("auth-audience", &settings->audience,
                   "tokens must name this in their \"aud\" claim (unset: aud is not checked)");
  flags.add_duration("auth-clock-skew", &settings->clock_skew,
                     "allowance on a token's exp and nbf for clocks that differ",
                     {.min = std::chrono::nanoseconds(0), .max = std::chrono::hours(1)});
  flags.add_string_list("allowed-origins", &settings->allowed_origins, std::move(origins_help));
}

std::optional<std::string> check_auth_settings(const AuthSettings& settings) {
  const bool has_keys =
      !settings.key_files.hmac_secret_file.empty() || !settings.key_files.public_keys_file.empty();
  if (settings.mode == AuthMode::kRequired && !has_keys) {
    return std::string("--auth required needs --auth-hmac-secret-file or --auth-public-keys");
  }
  if (settings.mode == AuthMode::kOff && has_keys) {
    return std::string("a key file is set but --auth is off: set --auth required (or drop the key flags)");
  }
  if (settings.mode == AuthMode::kOff && !settings.audience.empty()) {
    return std::string("--auth-audience needs --auth required");
  }
  auto origins = OriginPolicy::parse(settings.allowed_origins);
  if (auto* error = std::get_if<std::string>(&origins)) return "--allowed-origins: " + *error;
  return std::nullopt;
}

}  // namespace ovalstream::auth
