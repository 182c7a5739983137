// Access control of `recorder serve` (issue 15), the real executable: --auth off only on a loopback address;
// with --auth required, operator tokens with recorder:read / recorder:write scopes; state-changing requests
// need JSON and an allowed Origin, so the cross-site form POST (text/plain, a foreign Origin) that used to
// start a replay is refused, with tokens or without.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <string>
#include <vector>

#include "aggregator/support/aggregator_process.hpp"
#include "aggregator/support/publishing.hpp"
#include "recorder/support/recorder_process.hpp"
#include "support/child_process.hpp"
#include "support/event_builder.hpp"
#include "support/nats_server.hpp"
#include "support/skips.hpp"
#include "support/token_minter.hpp"

namespace ovalstream::recorder::itest {
namespace {

using aggregator::itest::http_get;
using aggregator::itest::http_request_with;
using aggregator::itest::HttpReply;
using aggregator::itest::metric_value;
using aggregator::itest::Publisher;
using aggregator::itest::TempDir;
using aggregator::itest::wait_until;
using ovalstream::testing::kTestHmacSecret;
using ovalstream::testing::mint_token;
using ovalstream::testing::NatsServerProcess;

constexpr const char* kJson = "Content-Type: application/json\r\n";
constexpr const char* kFormPost = "Content-Type: text/plain\r\nOrigin: https://evil.example\r\n";

std::string operator_token(const std::string& scope, std::int64_t ttl_seconds = 600) {
  return mint_token("HS256", kTestHmacSecret,
                    R"({"exp":)" + std::to_string(ovalstream::testing::unix_now() + ttl_seconds) +
                        R"(,"scope":")" + scope + R"("})");
}

std::string bearer(const std::string& token) {
  return "Authorization: Bearer " + token + "\r\n";
}

TEST(ServeAuthRefusal, AuthOffOnANonLoopbackAddressDoesNotStartAndSaysWhy) {
  TempDir dir;
  for (const char* address : {":0", "0.0.0.0:0", "[::]:0"}) {
    const RecorderRun run = run_recorder(
        {"serve", "--dir", dir.path(), "--address", address, "--nats-url", "nats://127.0.0.1:1"}, 20s);
    EXPECT_EQ(run.exit_code, 2) << address << ": " << run.output;
    EXPECT_NE(run.output.find("--auth off is allowed only on a loopback --address"), std::string::npos)
        << run.output;
  }
  // --auth required without a key file, and a key file while --auth is off, are usage errors too.
  EXPECT_EQ(run_recorder({"serve", "--dir", dir.path(), "--auth", "required"}, 20s).exit_code, 2);
  EXPECT_EQ(
      run_recorder(
          {"serve", "--dir", dir.path(), "--address", "127.0.0.1:0", "--auth-hmac-secret-file", "/x"}, 20s)
          .exit_code,
      2);
}

class ServeAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_WITHOUT_NATS();
    nats_ = std::make_unique<NatsServerProcess>();
    publisher_ = std::make_unique<Publisher>(nats_->url());
    secret_file_ = keys_.path() + "/secret";
    ovalstream::testing::write_file(secret_file_, kTestHmacSecret);
  }

  std::unique_ptr<RecorderProcess> start_serve(std::vector<std::string> more) {
    std::vector<std::string> args = {
        "serve",     "--nats-url", nats_->url(),  "--create-stream",   "--dir",
        dir_.path(), "--address",  "127.0.0.1:0", "--metrics-address", "127.0.0.1:0"};
    args.insert(args.end(), more.begin(), more.end());
    auto process = std::make_unique<RecorderProcess>(args);
    EXPECT_TRUE(process->wait_for_log("recording every competition", 30s)) << process->log_tail();
    api_port_ = ovalstream::testing::logged_port(process->log(), "serving the recordings API");
    metrics_port_ = ovalstream::testing::logged_port(process->log(), "serving metrics and health");
    return process;
  }

  // Records one competition activation; the recording's name as the API lists it.
  std::string record_one() {
    publisher_->publish_json(ovalstream::testing::make_event_json(
        "CompetitionActivatedEvent", "", 0, "",
        R"("competition":{"name":"Cup","discipline":"SpeedSkating.LongTrack"})", "comp-r"));
    std::string name;
    EXPECT_TRUE(wait_until(
        [&] {
          for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_.path())) {
            if (entry.path().extension() == ".jsonl" && entry.file_size() > 0) {
              name = entry.path().lexically_relative(dir_.path()).generic_string();
              return true;
            }
          }
          return false;
        },
        30s));
    return name;
  }

  double metric(const std::string& series) const {
    return metric_value(http_get(metrics_port_, "/metrics").body, series).value_or(-1);
  }

  TempDir dir_;
  TempDir keys_;
  std::string secret_file_;
  std::unique_ptr<NatsServerProcess> nats_;
  std::unique_ptr<Publisher> publisher_;
  std::uint16_t api_port_ = 0;
  std::uint16_t metrics_port_ = 0;
};

TEST_F(ServeAuthTest, RefusesUnauthenticatedAndCrossSiteWrites) {
  auto serve = start_serve({"--auth", "required", "--auth-hmac-secret-file", secret_file_,
                            "--allowed-origins", "https://ops.example"});
  const std::string name = record_one();
  const std::string body = R"({"recording":")" + name + R"(","speed":"max"})";
  const std::string reader = operator_token("recorder:read");
  const std::string writer = operator_token("recorder:read recorder:write");

  // Reading: a token with recorder:read, nothing less.
  HttpReply reply = http_get(api_port_, "/v1/recordings");
  EXPECT_EQ(reply.status, 401);
  EXPECT_NE(reply.header("WWW-Authenticate").find("Bearer"), std::string::npos);
  EXPECT_EQ(http_request_with(api_port_, "GET", "/v1/recordings", bearer(reader)).status, 200);
  EXPECT_EQ(http_request_with(api_port_, "GET", "/v1/recordings/" + name, bearer(reader)).status, 200);
  EXPECT_EQ(http_request_with(api_port_, "GET", "/v1/recordings", bearer(operator_token("other"))).status,
            403);
  EXPECT_EQ(http_request_with(api_port_, "GET", "/v1/recordings?token=" + reader, "").status, 401)
      << "the recorder takes tokens from the Authorization header only";

  // Writing: unauthenticated, read-only, expired, and cross-site requests are refused; nothing started.
  EXPECT_EQ(http_request_with(api_port_, "POST", "/v1/replays", kJson, body).status, 401);
  EXPECT_EQ(http_request_with(api_port_, "POST", "/v1/replays", kJson + bearer(reader), body).status, 403);
  EXPECT_EQ(http_request_with(api_port_, "POST", "/v1/replays",
                              kJson + bearer(operator_token("recorder:write", -60)), body)
                .status,
            401);
  EXPECT_EQ(http_request_with(api_port_, "POST", "/v1/replays", kFormPost, body).status, 403)
      << "the cross-site form POST of the issue";
  EXPECT_EQ(http_request_with(api_port_, "POST", "/v1/replays", kFormPost + bearer(writer), body).status,
            403);
  EXPECT_EQ(http_request_with(api_port_, "POST", "/v1/replays",
                              "Content-Type: text/plain\r\n" + bearer(writer), body)
                .status,
            415);
  EXPECT_EQ(http_request_with(api_port_, "POST", "/v1/replays", bearer(writer), body).status, 415)
      << "no type";
  EXPECT_EQ(http_request_with(api_port_, "DELETE", "/v1/replays/r1", bearer(writer)).status, 415);
  EXPECT_EQ(http_request_with(api_port_, "DELETE", "/v1/replays/r1", kJson + bearer(reader)).status, 403);
  reply = http_request_with(api_port_, "GET", "/v1/replays", bearer(reader));
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "[]\n") << "no refused request started a replay";

  // The operator: JSON, an allowed origin or none, recorder:write.
  reply = http_request_with(api_port_, "POST", "/v1/replays",
                            "Origin: https://ops.example\r\n" + std::string(kJson) + bearer(writer), body);
  EXPECT_EQ(reply.status, 201) << reply.body;
  reply = http_request_with(api_port_, "POST", "/v1/replays",
                            "Content-Type: application/json; charset=utf-8\r\n" + bearer(writer), body);
  EXPECT_EQ(reply.status, 201) << reply.body;
  EXPECT_EQ(http_request_with(api_port_, "DELETE", "/v1/replays/r999", kJson + bearer(writer)).status, 404)
      << "past the checks, the API answers";

  EXPECT_GE(metric(R"(ovalstream_auth_failures_total{reason="missing"})"), 2);
  EXPECT_GE(metric(R"(ovalstream_auth_failures_total{reason="forbidden"})"), 3);
  EXPECT_GE(metric(R"(ovalstream_auth_failures_total{reason="expired"})"), 1);
  EXPECT_GE(metric(R"(ovalstream_auth_failures_total{reason="origin"})"), 2);
  EXPECT_GE(metric(R"(ovalstream_auth_failures_total{reason="content_type"})"), 3);

  serve->send_signal(SIGTERM);
  EXPECT_EQ(serve->wait_exit(20s), 0);
  EXPECT_EQ(serve->log().find(writer), std::string::npos) << "a token in the log";
  EXPECT_EQ(serve->log().find(std::string(kTestHmacSecret)), std::string::npos) << "the secret in the log";
}

TEST_F(ServeAuthTest, WithAuthOffOnLoopbackCrossSiteWritesAreStillRefused) {
  auto serve = start_serve({});
  const std::string name = record_one();
  const std::string body = R"({"recording":")" + name + R"(","speed":"max"})";
  EXPECT_EQ(http_request_with(api_port_, "POST", "/v1/replays", kFormPost, body).status, 403)
      << "the issue's cross-site form POST: 201 before";
  EXPECT_EQ(http_request_with(api_port_, "POST", "/v1/replays", "Content-Type: text/plain\r\n", body).status,
            415);
  EXPECT_EQ(http_request_with(api_port_, "POST", "/v1/replays",
                              "Origin: http://127.0.0.1:9\r\n" + std::string(kJson), body)
                .status,
            403)
      << "no browser origin is allowed by default, not even a local page's";
  EXPECT_EQ(http_request_with(api_port_, "GET", "/v1/replays", "").body, "[]\n");
  const HttpReply reply = http_request_with(api_port_, "POST", "/v1/replays", kJson, body);
  EXPECT_EQ(reply.status, 201) << "an operator's tool on this machine (no Origin, JSON): " << reply.body;
}

}  // namespace
}  // namespace ovalstream::recorder::itest
