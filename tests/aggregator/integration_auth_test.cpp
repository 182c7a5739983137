// Access control against the real aggregator (issue 15): a token scoped to competition A cannot read B (403
// before the upgrade, and the activations hide B), the token's transports, allowed origins, expiry closing
// with 4001, and key rotation by SIGHUP keeping open connections while refusing old-key tokens afterwards.
// Tokens are minted with libjwt (tests/support/token_minter.hpp); they never appear in the log.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <signal.h>

#include <filesystem>
#include <string>
#include <vector>

#include "aggregator/support/aggregator_process.hpp"
#include "aggregator/support/publishing.hpp"
#include "aggregator/support/ws_clients.hpp"
#include "ovalstream/nats/jetstream.hpp"
#include "support/event_builder.hpp"
#include "support/nats_server.hpp"
#include "support/skips.hpp"
#include "support/token_minter.hpp"

namespace ovalstream::aggregator::itest {
namespace {

using ovalstream::testing::competition_claims;
using ovalstream::testing::kTestHmacSecret;
using ovalstream::testing::make_event_json;
using ovalstream::testing::mint_token;
using ovalstream::testing::NatsServerProcess;

constexpr const char* kStream = "VANTAGE";

std::string activation(const std::string& competition_id, const std::string& name) {
  return make_event_json("CompetitionActivatedEvent", "", 0, "",
                         R"("competition":{"name":")" + name + R"(","discipline":"SpeedSkating.LongTrack"})",
                         competition_id);
}

std::string bearer(const std::string& token) {
  return "Authorization: Bearer " + token + "\r\n";
}

// The competition ids of a GET /v1/competitions body.
std::vector<std::string> listed_ids(const std::string& body) {
  rapidjson::Document document;
  document.Parse(body.c_str());
  std::vector<std::string> ids;
  if (!document.IsArray()) return {"<not a JSON array: " + body + ">"};
  for (const auto& item : document.GetArray()) ids.emplace_back(item["competitionId"].GetString());
  return ids;
}

// The competitionId of each text frame, read until `count` frames or the timeout.
std::vector<std::string> frame_competitions(RawWsClient& client, std::size_t count,
                                            std::chrono::milliseconds timeout) {
  std::vector<std::string> ids;
  for (const std::string& text : client.read_texts(count, timeout)) {
    rapidjson::Document document;
    document.Parse(text.c_str());
    ids.emplace_back(document.IsObject() && document.HasMember("competitionId")
                         ? document["competitionId"].GetString()
                         : "<" + text + ">");
  }
  return ids;
}

class AggregatorAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_WITHOUT_NATS();
    nats_ = std::make_unique<NatsServerProcess>();
    publisher_ = std::make_unique<Publisher>(nats_->url());
    ASSERT_TRUE(nats::create_stream(publisher_->connection(), kStream, {"competition.>"}).ok());
    secret_file_ = dir_.path() + "/hmac-secret";
    ovalstream::testing::write_file(secret_file_, std::string(kTestHmacSecret) + "\n");
  }

  std::unique_ptr<AggregatorProcess> start(std::vector<std::string> extra) {
    std::vector<std::string> args{"--auth", "required"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto aggregator = std::make_unique<AggregatorProcess>(nats_->url(), args);
    EXPECT_TRUE(
        wait_until([&] { return http_get(aggregator->metrics_port(), "/readyz").status == 200; }, 15s, 50ms));
    return aggregator;
  }

  std::string hs256(const std::string& competitions_json, std::int64_t ttl_seconds = 600) const {
    return mint_token("HS256", kTestHmacSecret, competition_claims(competitions_json, ttl_seconds));
  }

  TempDir dir_;
  std::string secret_file_;
  std::unique_ptr<NatsServerProcess> nats_;
  std::unique_ptr<Publisher> publisher_;
};

TEST_F(AggregatorAuthTest, ATokenForCompetitionACannotReadB) {
  const Published a = publisher_->publish_json(activation("comp-a", "Cup A"));
  const Published b = publisher_->publish_json(activation("comp-b", "Cup B"));
  auto aggregator = start({"--auth-hmac-secret-file", secret_file_});
  const std::uint16_t port = aggregator->hub_port();
  const std::string token_a = hs256(R"(["comp-a","comp-d"])");

  // No token: 401 before anything is revealed, with the Bearer challenge.
  HttpReply reply = upgrade_request(port, "/v1/competitions/comp-a");
  EXPECT_EQ(reply.status, 401) << reply.head;
  EXPECT_NE(reply.header("WWW-Authenticate").find("Bearer"), std::string::npos);
  EXPECT_EQ(http_get(port, "/v1/competitions").status, 401);
  EXPECT_EQ(http_get(port, "/v1/competitions/comp-b").status, 401);

  // Token A: B is 403 before the upgrade (websocket and plain GET), A is served.
  reply = upgrade_request_with(port, "/v1/competitions/comp-b", bearer(token_a));
  EXPECT_EQ(reply.status, 403) << reply.head;
  EXPECT_EQ(http_request_with(port, "GET", "/v1/competitions/COMP-B", bearer(token_a)).status, 403)
      << "ids match case-insensitively here too";
  EXPECT_EQ(http_request_with(port, "GET", "/v1/competitions/comp-a", bearer(token_a)).status, 200);
  EXPECT_EQ(upgrade_request_with(port, "/v1/competitions/comp-a", bearer(token_a)).status, 101);

  // The list and the activations websocket show only what the token covers.
  reply = http_request_with(port, "GET", "/v1/competitions", bearer(token_a));
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(listed_ids(reply.body), std::vector<std::string>{"comp-a"});
  reply = http_request_with(port, "GET", "/v1/competitions", bearer(hs256(R"("*")")));
  EXPECT_EQ(listed_ids(reply.body), (std::vector<std::string>{"comp-a", "comp-b"}));

  RawWsClient activations(port);
  ASSERT_TRUE(activations.handshake_with("/v1/competitions", bearer(token_a)));
  EXPECT_EQ(frame_competitions(activations, 1, 5s), std::vector<std::string>{"comp-a"});
  // Live activations: C is not covered, D is; only D arrives (and nothing of B or C after it).
  publisher_->publish_json(activation("comp-c", "Cup C"));
  publisher_->publish_json(activation("comp-d", "Cup D"));
  publisher_->publish_json(activation("comp-b", "Cup B again"));
  EXPECT_EQ(frame_competitions(activations, 2, 3s), std::vector<std::string>{"comp-d"});

  // A star token reads B; a token signed with another secret reads nothing.
  EXPECT_EQ(upgrade_request_with(port, "/v1/competitions/comp-b", bearer(hs256(R"("*")"))).status, 101);
  const std::string forged = mint_token("HS256", "another-secret-0123456789abcdefghijklmnopqrstuvwxyz",
                                        competition_claims(R"("*")"));
  EXPECT_EQ(upgrade_request_with(port, "/v1/competitions/comp-b", bearer(forged)).status, 401);

  // Refusals are counted by reason.
  EXPECT_GE(aggregator->metric(R"(ovalstream_auth_failures_total{reason="missing"})").value_or(0), 3);
  EXPECT_GE(aggregator->metric(R"(ovalstream_auth_failures_total{reason="forbidden"})").value_or(0), 2);
  EXPECT_GE(aggregator->metric(R"(ovalstream_auth_failures_total{reason="signature"})").value_or(0), 1);
  (void)a;
  (void)b;
}

TEST_F(AggregatorAuthTest, TheTokenComesAsHeaderQueryOrSubprotocolAndIsNeverLogged) {
  publisher_->publish_json(activation("comp-a", "Cup A"));
  auto aggregator = start(
      {"--auth-hmac-secret-file", secret_file_, "--debug", "--drain-delay", "0s", "--drain-seconds", "0"});
  const std::uint16_t port = aggregator->hub_port();
  const std::string token = hs256(R"(["comp-a"])");

  // ?token= (any client), with resume parameters beside it.
  EXPECT_EQ(upgrade_request(port, "/v1/competitions/comp-a?positions=1&token=" + token).status, 101);
  EXPECT_EQ(upgrade_request(port, "/v1/competitions/comp-b?token=" + token).status, 403);
  // Sec-WebSocket-Protocol (browsers): the 101 names "ovalstream", never the token.
  RawWsClient browser_like(port);
  std::string head;
  ASSERT_TRUE(browser_like.handshake_with(
      "/v1/competitions/comp-a", "Sec-WebSocket-Protocol: ovalstream, bearer." + token + "\r\n", &head));
  EXPECT_NE(head.find("Sec-WebSocket-Protocol: ovalstream\r\n"), std::string::npos) << head;
  EXPECT_EQ(head.find(token), std::string::npos);
  EXPECT_EQ(frame_competitions(browser_like, 1, 5s), std::vector<std::string>{"comp-a"});
  // A malformed token: 401 and the reason, without the token.
  const HttpReply refused = upgrade_request(port, "/v1/competitions/comp-a?token=" + token.substr(0, 30));
  EXPECT_EQ(refused.status, 401);
  EXPECT_EQ(refused.body.find(token.substr(0, 30)), std::string::npos);

  aggregator->send_signal(SIGTERM);
  ASSERT_TRUE(aggregator->wait_exit(20s).has_value());
  const std::string log = aggregator->log();
  EXPECT_EQ(log.find(token), std::string::npos) << "a token in the log";
  EXPECT_EQ(log.find(token.substr(token.rfind('.') + 1)), std::string::npos) << "a signature in the log";
  EXPECT_EQ(log.find(std::string(kTestHmacSecret)), std::string::npos) << "the secret in the log";
}

TEST_F(AggregatorAuthTest, UpgradesFromOriginsNotAllowedAre403) {
  publisher_->publish_json(activation("comp-a", "Cup A"));
  // Origins apply with --auth off too.
  AggregatorProcess aggregator(nats_->url(), {"--allowed-origins", "https://live.example.org"});
  const std::uint16_t port = aggregator.hub_port();
  EXPECT_EQ(upgrade_request_with(port, "/v1/competitions/comp-a", "Origin: https://evil.example\r\n").status,
            403);
  EXPECT_EQ(
      upgrade_request_with(port, "/v1/competitions", "Origin: https://live.example.org.evil.example\r\n")
          .status,
      403);
  EXPECT_EQ(
      upgrade_request_with(port, "/v1/competitions/comp-a", "Origin: https://live.example.org\r\n").status,
      101);
  EXPECT_EQ(upgrade_request(port, "/v1/competitions/comp-a").status, 101) << "no Origin: not a browser";
  EXPECT_EQ(http_request_with(port, "GET", "/v1/competitions", "Origin: https://evil.example\r\n").status,
            200)
      << "plain GETs are not upgrades (a browser's CORS rules keep a foreign page from reading them)";
  EXPECT_EQ(aggregator.metric(R"(ovalstream_auth_failures_total{reason="origin"})").value_or(0), 2);
}

TEST_F(AggregatorAuthTest, AConnectionIsClosedWith4001WhenItsTokenExpires) {
  publisher_->publish_json(activation("comp-a", "Cup A"));
  auto aggregator = start({"--auth-hmac-secret-file", secret_file_, "--auth-clock-skew", "0s"});
  const std::uint16_t port = aggregator->hub_port();

  RawWsClient lasting(port);
  ASSERT_TRUE(lasting.handshake_with("/v1/competitions/comp-a", bearer(hs256(R"(["comp-a"])", 600))));
  RawWsClient expiring(port);
  const auto connected = std::chrono::steady_clock::now();
  ASSERT_TRUE(expiring.handshake_with("/v1/competitions/comp-a", bearer(hs256(R"(["comp-a"])", 2))));
  const auto close = expiring.read_until_close(8s);
  const auto elapsed = std::chrono::steady_clock::now() - connected;
  ASSERT_TRUE(close.has_value()) << "no close frame";
  EXPECT_EQ(close->close_code(), 4001);
  EXPECT_EQ(close->close_reason(), "token expired");
  EXPECT_GE(elapsed, 900ms) << "closed before exp";
  EXPECT_LE(elapsed, 4s) << "closed long after exp";

  // The other connection stays open and keeps receiving.
  std::size_t frames = 0;
  EXPECT_FALSE(lasting.read_until_close(1s, &frames).has_value());
  EXPECT_FALSE(lasting.eof());
  publisher_->publish_json(activation("comp-a", "Cup A again"));
  EXPECT_FALSE(lasting.read_texts(1, 5s).empty()) << "the connection with a valid token is still served";

  // An expired token is refused at the door.
  EXPECT_EQ(upgrade_request_with(port, "/v1/competitions/comp-a", bearer(hs256(R"(["comp-a"])", -5))).status,
            401);
  EXPECT_GE(aggregator->metric(R"(ovalstream_auth_failures_total{reason="expired"})").value_or(0), 1);
}

TEST_F(AggregatorAuthTest, KeyRotationBySighupKeepsOpenConnectionsAndRefusesOldKeyTokens) {
  publisher_->publish_json(activation("comp-a", "Cup A"));
  const auto old_key = ovalstream::testing::make_rsa_key_pair();
  const auto new_key = ovalstream::testing::make_ec_key_pair();
  const std::string keys_file = dir_.path() + "/keys.pem";
  ovalstream::testing::write_file(keys_file, old_key.public_pem);
  auto aggregator = start({"--auth-public-keys", keys_file});
  const std::uint16_t port = aggregator->hub_port();
  const std::string claims = competition_claims(R"(["comp-a"])");
  const std::string old_token = mint_token("RS256", old_key.private_pem, claims);
  const std::string new_token = mint_token("ES256", new_key.private_pem, claims);

  RawWsClient open_before(port);
  ASSERT_TRUE(open_before.handshake_with("/v1/competitions/comp-a", bearer(old_token)));
  ASSERT_EQ(open_before.read_texts(1, 5s).size(), 1u);
  EXPECT_EQ(upgrade_request_with(port, "/v1/competitions/comp-a", bearer(new_token)).status, 401);

  // Rotate: the new key replaces the old one, then SIGHUP.
  ovalstream::testing::write_file(keys_file, new_key.public_pem);
  aggregator->send_signal(SIGHUP);
  ASSERT_TRUE(aggregator->wait_for_log("keys reloaded", 10s)) << aggregator->log_tail();
  EXPECT_TRUE(aggregator->running()) << "SIGHUP no longer ends the process";
  EXPECT_EQ(upgrade_request_with(port, "/v1/competitions/comp-a", bearer(old_token)).status, 401);
  EXPECT_EQ(upgrade_request_with(port, "/v1/competitions/comp-a", bearer(new_token)).status, 101);
  EXPECT_EQ(aggregator->metric(R"(ovalstream_auth_key_reloads_total{outcome="reloaded"})").value_or(0), 1);

  // The connection admitted with the old key stays open and is served.
  publisher_->publish_json(activation("comp-a", "Cup A again"));
  EXPECT_EQ(open_before.read_texts(1, 5s).size(), 1u) << "the open connection was dropped by the rotation";

  // A broken key file: the reload fails, the keys in force stay.
  ovalstream::testing::write_file(keys_file, "not a key\n");
  aggregator->send_signal(SIGHUP);
  ASSERT_TRUE(aggregator->wait_for_log("cannot reload the keys", 10s));
  EXPECT_EQ(upgrade_request_with(port, "/v1/competitions/comp-a", bearer(new_token)).status, 101);
  EXPECT_EQ(aggregator->metric(R"(ovalstream_auth_key_reloads_total{outcome="failed"})").value_or(0), 1);
}

TEST_F(AggregatorAuthTest, MisconfiguredAuthDoesNotStart) {
  // --auth required without a key: a usage error.
  EXPECT_EQ(
      run_program({AggregatorProcess::executable(), "--auth", "required", "--nats-url", nats_->url()}, 10s),
      2);
  // A key file with --auth off: refused rather than serving everyone.
  EXPECT_EQ(run_program({AggregatorProcess::executable(), "--auth-hmac-secret-file", secret_file_}, 10s), 2);
  // A key file that does not load: exit 1, and the secret is not quoted.
  const std::string short_secret = dir_.path() + "/short";
  ovalstream::testing::write_file(short_secret, "short\n");
  EXPECT_THROW(
      AggregatorProcess(nats_->url(), {"--auth", "required", "--auth-hmac-secret-file", short_secret}),
      std::runtime_error);
}

}  // namespace
}  // namespace ovalstream::aggregator::itest
