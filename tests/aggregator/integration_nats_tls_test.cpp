// The real aggregator against a real nats-server that requires TLS, with a CA and certificates made by
// `openssl` at test time: with --nats-ca it connects and serves a published event; with a client
// certificate (from OVALSTREAM_NATS_CERT / OVALSTREAM_NATS_KEY) when the server verifies clients; without the
// CA, or without the client certificate, it stops at once saying why; --nats-cert without --nats-key (and
// the reverse) exits 2 before connecting; an unreadable CA file is named.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aggregator/support/aggregator_process.hpp"
#include "aggregator/support/publishing.hpp"
#include "aggregator/support/ws_clients.hpp"
#include "ovalstream/nats/jetstream.hpp"
#include "support/child_process.hpp"
#include "support/event_builder.hpp"
#include "support/nats_server.hpp"
#include "support/skips.hpp"
#include "support/test_certificates.hpp"

namespace ovalstream::aggregator::itest {
namespace {

using ovalstream::testing::make_event_json;
using ovalstream::testing::NatsServerProcess;
using ovalstream::testing::NatsServerTls;
using ovalstream::testing::TestCertificates;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The aggregator run to its end (a startup that must fail): exit code (nullopt: still running after
// `timeout`, then killed) and everything it wrote.
struct AggregatorRun {
  std::optional<int> exit_code;
  std::string output;
};

AggregatorRun run_aggregator(std::vector<std::string> args, std::vector<std::string> environment = {},
                             std::chrono::milliseconds timeout = 20s) {
  TempDir dir;
  environment.push_back("HOME=" + dir.path());
  std::vector<std::string> argv{AggregatorProcess::executable(),
                                "start",
                                "--hub-address",
                                "127.0.0.1:0",
                                "--metrics-address",
                                "127.0.0.1:0"};
  argv.insert(argv.end(), args.begin(), args.end());
  testing::ChildProcess child(argv, dir.path() + "/aggregator.log", environment);
  AggregatorRun run;
  run.exit_code = child.wait_exit(timeout);
  if (!run.exit_code) child.kill9();
  run.output = child.log();
  return run;
}

class AggregatorNatsTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_WITHOUT_NATS();
    if (!TestCertificates::available()) GTEST_SKIP() << TestCertificates::unavailable_message();
    certificates = std::make_unique<TestCertificates>();
  }

  void start_nats(bool verify_clients) {
    testing::NatsServerOptions options;
    options.tls = NatsServerTls{certificates->server_cert_file(), certificates->server_key_file(),
                                certificates->ca_file(), verify_clients};
    nats = std::make_unique<NatsServerProcess>(options);
  }

  // A publisher over TLS (with the client certificate, which a server that does not verify ignores), and
  // the stream.
  std::unique_ptr<Publisher> publisher_with_stream() {
    nats::ConnectionOptions options;
    options.url = nats->url();
    options.ca_file = certificates->ca_file();
    options.cert_file = certificates->client_cert_file();
    options.key_file = certificates->client_key_file();
    auto publisher = std::make_unique<Publisher>(options);
    auto created = nats::create_stream(publisher->connection(), "VANTAGE", {"competition.>"});
    EXPECT_TRUE(created.ok()) << created.error().message;
    return publisher;
  }

  // Publishes a competition activation and checks that a websocket client of the aggregator gets it.
  void expect_served(AggregatorProcess& aggregator, Publisher& publisher, const std::string& id) {
    ASSERT_TRUE(
        wait_until([&] { return http_get(aggregator.metrics_port(), "/readyz").status == 200; }, 15s, 50ms))
        << http_get(aggregator.metrics_port(), "/readyz").body;
    WsClient client(aggregator.websocket_url("/v1/competitions/" + id));
    ASSERT_TRUE(client.connect());
    const std::string activation =
        make_event_json("CompetitionActivatedEvent", "", 0, "",
                        R"("competition":{"name":"TLS Cup","discipline":"SpeedSkating.LongTrack"})", id);
    const Published published = publisher.publish_json(activation);
    ASSERT_TRUE(client.wait_for_count(1, 10s)) << "the event published over TLS was not served";
    EXPECT_EQ(client.messages().front(), std::string(published.event.raw()));
    const std::vector<std::string> connected = aggregator.log_lines_with("nats connected");
    ASSERT_FALSE(connected.empty());
    EXPECT_TRUE(contains(connected.front(), "\"tls\":true")) << connected.front();
  }

  std::unique_ptr<TestCertificates> certificates;
  std::unique_ptr<NatsServerProcess> nats;
};

TEST_F(AggregatorNatsTlsTest, ConnectsWithTheCaAndServesAnEvent) {
  start_nats(false);
  auto publisher = publisher_with_stream();
  AggregatorProcess aggregator(nats->url(), {"--nats-ca", certificates->ca_file()});
  expect_served(aggregator, *publisher, "tls-cup");
}

TEST_F(AggregatorNatsTlsTest, ConnectsWithAClientCertificateFromTheEnvironmentWhenTheServerVerifiesClients) {
  start_nats(true);
  auto publisher = publisher_with_stream();
  AggregatorOptions options;
  options.nats_url = "tls://127.0.0.1:" + std::to_string(nats->port());
  options.environment = {"OVALSTREAM_NATS_CA=" + certificates->ca_file(),
                         "OVALSTREAM_NATS_CERT=" + certificates->client_cert_file(),
                         "OVALSTREAM_NATS_KEY=" + certificates->client_key_file()};
  AggregatorProcess aggregator(options);
  expect_served(aggregator, *publisher, "mutual-tls-cup");
}

TEST_F(AggregatorNatsTlsTest, WithoutTheCaItStopsSayingTheServerCertificateIsNotTrusted) {
  start_nats(false);
  for (const std::vector<std::string>& tls_args :
       {std::vector<std::string>{}, std::vector<std::string>{"--nats-tls"},
        std::vector<std::string>{"--nats-ca", certificates->other_ca_file()}}) {
    std::vector<std::string> args{"--nats-url", nats->url()};
    args.insert(args.end(), tls_args.begin(), tls_args.end());
    const AggregatorRun run = run_aggregator(args);
    EXPECT_EQ(run.exit_code, 1) << run.output;
    EXPECT_TRUE(contains(run.output, "\"msg\":\"cannot start\"")) << run.output;
    EXPECT_TRUE(contains(run.output, "SSL handshake error")) << run.output;
    EXPECT_TRUE(contains(run.output, "the server's certificate is checked against")) << run.output;
  }
}

TEST_F(AggregatorNatsTlsTest, WithoutAClientCertificateAVerifyingServerIsAClearStartupError) {
  start_nats(true);
  const AggregatorRun run = run_aggregator({"--nats-url", nats->url(), "--nats-ca", certificates->ca_file()});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_TRUE(contains(run.output, "client certificate none")) << run.output;
}

TEST_F(AggregatorNatsTlsTest, UnreadableCaFileIsNamed) {
  start_nats(false);
  const std::string missing = certificates->dir() + "/no-such-ca.pem";
  const AggregatorRun run = run_aggregator({"--nats-url", nats->url(), "--nats-ca", missing});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_TRUE(contains(run.output, "cannot read the TLS CA file '" + missing + "'")) << run.output;
}

// No server is needed: the combination is refused before any connection (nothing listens on port 1).
TEST(AggregatorNatsTlsFlags, CertificateAndKeyGoTogetherExitTwo) {
  struct Case {
    std::vector<std::string> args;
    std::vector<std::string> environment;
    std::string message;
  };
  const std::vector<Case> cases{
      {{"--nats-cert", "/tmp/tls.crt"}, {}, "--nats-cert needs --nats-key"},
      {{"--nats-key", "/tmp/tls.key", "--nats-ca", "/tmp/ca.pem"}, {}, "--nats-key needs --nats-cert"},
      {{}, {"OVALSTREAM_NATS_KEY=/tmp/tls.key"}, "--nats-key needs --nats-cert"},
      {{}, {"VANTAGE_NATS_CERT=/tmp/tls.crt"}, "--nats-cert needs --nats-key"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args{"--nats-url", "nats://127.0.0.1:1"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    const AggregatorRun run = run_aggregator(args, c.environment);
    EXPECT_EQ(run.exit_code, 2) << run.output;
    EXPECT_TRUE(contains(run.output, "aggregator: " + c.message)) << run.output;
  }
}

TEST(AggregatorNatsTlsFlags, HelpNamesTheTlsFlags) {
  const AggregatorRun run = run_aggregator({"--help"});
  EXPECT_EQ(run.exit_code, 0);
  for (const char* flag : {"--nats-ca", "--nats-cert", "--nats-key"})
    EXPECT_TRUE(contains(run.output, flag)) << flag << " missing from --help:\n" << run.output;
}

}  // namespace
}  // namespace ovalstream::aggregator::itest
