// --allowed-origins matching, and where a request carries its token.
#include <gtest/gtest.h>

#include "ovalstream/auth/auth_settings.hpp"
#include "ovalstream/auth/origin_policy.hpp"
#include "ovalstream/auth/request_token.hpp"

namespace ovalstream::auth {
namespace {

OriginPolicy policy_of(std::vector<std::string> items) {
  auto parsed = OriginPolicy::parse(items);
  EXPECT_TRUE(std::holds_alternative<OriginPolicy>(parsed));
  return std::holds_alternative<OriginPolicy>(parsed) ? std::get<OriginPolicy>(parsed) : OriginPolicy();
}

TEST(OriginPolicyTest, ExactOriginsStarAndNone) {
  const OriginPolicy listed = policy_of({"https://live.example.org", "http://localhost:8080/"});
  EXPECT_TRUE(listed.allows("https://live.example.org"));
  EXPECT_TRUE(listed.allows("HTTPS://LIVE.EXAMPLE.ORG"));
  EXPECT_TRUE(listed.allows("http://localhost:8080"));
  EXPECT_FALSE(listed.allows("https://live.example.org.evil.com"));
  EXPECT_FALSE(listed.allows("http://live.example.org"));
  EXPECT_FALSE(listed.allows("https://live.example.org:8443"));
  EXPECT_FALSE(listed.allows("null"));
  EXPECT_TRUE(listed.allows("")) << "no Origin: not a browser's cross-site request";
  EXPECT_TRUE(policy_of({"*"}).allows("https://anyone.example"));
  EXPECT_TRUE(OriginPolicy().allows("https://anyone.example")) << "the default allows every origin";
  const OriginPolicy none = policy_of({});
  EXPECT_FALSE(none.allows("https://live.example.org"));
  EXPECT_TRUE(none.allows(""));
  EXPECT_TRUE(policy_of({"null"}).allows("null"));
}

TEST(OriginPolicyTest, RefusesWhatIsNotAnOrigin) {
  for (const std::string bad : {"live.example.org", "https://live.example.org/path", "https://",
                                "*.example.org", "https://user@host"}) {
    EXPECT_TRUE(std::holds_alternative<std::string>(OriginPolicy::parse({bad}))) << bad;
  }
}

hub::Request request_with(std::string target, std::vector<std::pair<std::string, std::string>> headers) {
  hub::Request request;
  request.method = "GET";
  request.target = std::move(target);
  request.path = request.target.substr(0, request.target.find('?'));
  request.headers = std::move(headers);
  return request;
}

TEST(RequestTokenTest, HeaderSubprotocolAndQuery) {
  auto found = find_token(request_with("/v1/competitions", {{"authorization", "Bearer  abc.def.ghi "}}));
  EXPECT_EQ(found.token, "abc.def.ghi");
  EXPECT_EQ(found.transport, TokenTransport::kAuthorizationHeader);

  found =
      find_token(request_with("/v1/competitions", {{"Sec-WebSocket-Protocol", "ovalstream, bearer.a.b.c"}}));
  EXPECT_EQ(found.token, "a.b.c");
  EXPECT_EQ(found.transport, TokenTransport::kSubprotocol);

  found = find_token(request_with("/v1/competitions/x?positions=1&token=q.r.s", {}));
  EXPECT_EQ(found.token, "q.r.s");
  EXPECT_EQ(found.transport, TokenTransport::kQuery);

  found = find_token(request_with("/v1/competitions?mytoken=1", {{"Authorization", "Basic dXNlcjpwYXNz"}}));
  EXPECT_EQ(found.transport, TokenTransport::kNone) << "Basic is no bearer token; mytoken is not token";

  found = find_token(request_with("/v1/recordings?token=q.r.s", {{"Sec-WebSocket-Protocol", "bearer.a.b.c"}}),
                     {.subprotocol = false, .query = false});
  EXPECT_EQ(found.transport, TokenTransport::kNone) << "transports not allowed are not looked at";

  found =
      find_token(request_with("/v1/competitions?token=h.h.h", {{"Authorization", "Bearer a.a.a"},
                                                               {"Sec-WebSocket-Protocol", "bearer.s.s.s"}}));
  EXPECT_EQ(found.token, "a.a.a") << "the header first";
}

TEST(RequestTokenTest, TheChosenSubprotocolIsOvalstreamOnlyWhenOffered) {
  EXPECT_EQ(chosen_subprotocol(request_with("/", {{"Sec-WebSocket-Protocol", "bearer.a.b.c, ovalstream"}})),
            "ovalstream");
  EXPECT_EQ(chosen_subprotocol(request_with("/", {{"Sec-WebSocket-Protocol", "bearer.a.b.c"}})), "");
  EXPECT_EQ(chosen_subprotocol(request_with("/", {{"Sec-WebSocket-Protocol", "graphql-ws"}})), "");
  EXPECT_EQ(chosen_subprotocol(request_with("/", {})), "");
}

TEST(AuthSettingsTest, FlagsAndTheirCrossChecks) {
  AuthSettings settings;
  runtime::FlagSet flags("test", "0", "test");
  add_auth_flags(flags, &settings, "origins");
  std::ostringstream out, err;
  const std::vector<std::string> args{"--auth",
                                      "required",
                                      "--auth-hmac-secret-file",
                                      "/k",
                                      "--auth-clock-skew",
                                      "5s",
                                      "--allowed-origins",
                                      "https://a.example,https://b.example"};
  ASSERT_TRUE(flags.parse(args, out, err, [](std::string_view) { return std::nullopt; }).should_run())
      << err.str();
  EXPECT_EQ(settings.mode, AuthMode::kRequired);
  EXPECT_EQ(settings.verify_options().clock_skew_seconds, 5);
  EXPECT_EQ(settings.allowed_origins.size(), 2u);
  EXPECT_FALSE(check_auth_settings(settings).has_value());

  AuthSettings no_key;
  no_key.mode = AuthMode::kRequired;
  EXPECT_TRUE(check_auth_settings(no_key).has_value());
  AuthSettings key_but_off;
  key_but_off.key_files.public_keys_file = "/k.pem";
  EXPECT_TRUE(check_auth_settings(key_but_off).has_value()) << "a forgotten --auth required";
  AuthSettings bad_origin;
  bad_origin.allowed_origins = {"example.org"};
  EXPECT_TRUE(check_auth_settings(bad_origin).has_value());

  AuthSettings bad_mode;
  runtime::FlagSet more("test", "0", "test");
  add_auth_flags(more, &bad_mode, "origins");
  const std::vector<std::string> bad_args{"--auth", "maybe"};
  EXPECT_FALSE(more.parse(bad_args, out, err, [](std::string_view) { return std::nullopt; }).should_run());
}

}  // namespace
}  // namespace ovalstream::auth
