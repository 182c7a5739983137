// Connection over TLS against a real nats-server that requires it, with a CA and certificates made by
// `openssl` at test time: a trusted CA connects (and JetStream works over it), a server that verifies clients
// takes a client certificate, and every mistake fails at connect() with a message that says what is wrong
// instead of a connection that nats.c closes silently.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <memory>
#include <optional>
#include <string>

#include "nats/nats_test_support.hpp"
#include "ovalstream/nats/connection.hpp"
#include "ovalstream/nats/jetstream.hpp"
#include "support/nats_server.hpp"
#include "support/skips.hpp"
#include "support/test_certificates.hpp"

namespace ovalstream::testing {
namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class NatsTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_WITHOUT_NATS();
    if (!TestCertificates::available()) GTEST_SKIP() << TestCertificates::unavailable_message();
    certificates_ = std::make_unique<TestCertificates>();
  }

  void start_server(bool verify_clients) {
    NatsServerOptions options;
    options.tls = NatsServerTls{certificates_->server_cert_file(), certificates_->server_key_file(),
                                certificates_->ca_file(), verify_clients};
    server_ = std::make_unique<NatsServerProcess>(options);
  }

  nats::ConnectionOptions options_with_ca() const {
    nats::ConnectionOptions options;
    options.url = server_->url();
    options.ca_file = certificates_->ca_file();
    options.request_timeout = 2000ms;
    return options;
  }

  std::unique_ptr<TestCertificates> certificates_;
  std::unique_ptr<NatsServerProcess> server_;
};

TEST_F(NatsTlsTest, TrustedCaConnectsAndJetStreamWorks) {
  start_server(false);
  nats::ConnectionOptions options = options_with_ca();
  EXPECT_TRUE(nats::tls_enabled(options)) << "a CA file turns TLS on";
  auto connection = nats::Connection::connect(options);
  ASSERT_TRUE(connection.ok()) << connection.error().message;
  EXPECT_TRUE(connection.value()->connected());
  auto created = nats::create_stream(*connection.value(), "TLS", {"competition.>"});
  ASSERT_TRUE(created.ok()) << created.error().message;
  auto sequence = nats::publish(*connection.value(), "competition.c1", "{}");
  ASSERT_TRUE(sequence.ok()) << sequence.error().message;
  EXPECT_EQ(sequence.value(), 1u);
}

TEST_F(NatsTlsTest, TlsSchemeUrlWithCaConnects) {
  start_server(false);
  nats::ConnectionOptions options = options_with_ca();
  options.url = "tls://127.0.0.1:" + std::to_string(server_->port());
  auto connection = nats::Connection::connect(options);
  ASSERT_TRUE(connection.ok()) << connection.error().message;
  EXPECT_TRUE(connection.value()->connected());
}

TEST_F(NatsTlsTest, UntrustedServerCertificateIsAClearErrorNotASilentRetry) {
  start_server(false);
  for (const std::optional<std::string>& ca : {std::optional<std::string>{},  // the system's CAs
                                               std::optional<std::string>{certificates_->other_ca_file()}}) {
    nats::ConnectionOptions options;
    options.url = server_->url();
    options.tls = true;
    if (ca) options.ca_file = *ca;
    auto connection = nats::Connection::connect(options);
    ASSERT_FALSE(connection.ok()) << "connected without trusting the server's CA";
    const std::string& message = connection.error().message;
    EXPECT_EQ(connection.error().code, NATS_SSL_ERROR) << message;
    EXPECT_TRUE(contains(message, "SSL handshake error")) << message;
    EXPECT_TRUE(contains(message, ca ? "the CA file '" + *ca + "'" : "the system's CA certificates"))
        << message;
  }
  // Without any TLS option the client still upgrades when the server requires TLS, and fails as clearly.
  nats::ConnectionOptions plain;
  plain.url = server_->url();
  auto connection = nats::Connection::connect(plain);
  ASSERT_FALSE(connection.ok());
  EXPECT_TRUE(contains(connection.error().message, "SSL handshake error")) << connection.error().message;
}

TEST_F(NatsTlsTest, ServerThatVerifiesClientsTakesAClientCertificate) {
  start_server(true);
  nats::ConnectionOptions options = options_with_ca();
  options.cert_file = certificates_->client_cert_file();
  options.key_file = certificates_->client_key_file();
  auto connection = nats::Connection::connect(options);
  ASSERT_TRUE(connection.ok()) << connection.error().message;
  EXPECT_TRUE(connection.value()->connected());
  auto info = nats::stream_info(*connection.value(), "absent");
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_FALSE(info->exists);
}

TEST_F(NatsTlsTest, ServerThatVerifiesClientsRefusesOneWithoutCertificateClearly) {
  start_server(true);
  auto connection = nats::Connection::connect(options_with_ca());
  ASSERT_FALSE(connection.ok()) << "connected without a client certificate";
  EXPECT_TRUE(contains(connection.error().message, "client certificate none")) << connection.error().message;
  EXPECT_TRUE(contains(connection.error().message, "verifies clients")) << connection.error().message;
}

TEST_F(NatsTlsTest, TlsAgainstAServerWithoutTlsIsAnError) {
  server_ = std::make_unique<NatsServerProcess>();  // plain
  nats::ConnectionOptions options;
  options.url = "tls://127.0.0.1:" + std::to_string(server_->port());
  auto connection = nats::Connection::connect(options);
  ASSERT_FALSE(connection.ok()) << "a tls:// URL connected in plain text";
  EXPECT_EQ(connection.error().code, NATS_SECURE_CONNECTION_WANTED) << connection.error().message;
  EXPECT_TRUE(contains(connection.error().message, "the server offers no TLS")) << connection.error().message;

  options.url = server_->url();
  options.ca_file = certificates_->ca_file();
  connection = nats::Connection::connect(options);
  ASSERT_FALSE(connection.ok()) << "a CA file connected in plain text";
  EXPECT_EQ(connection.error().code, NATS_SECURE_CONNECTION_WANTED) << connection.error().message;
}

TEST_F(NatsTlsTest, UnreadableFilesAreNamed) {
  start_server(false);
  const std::string missing = certificates_->dir() + "/missing.pem";
  struct Case {
    std::string what;
    std::function<void(nats::ConnectionOptions&)> set;
  };
  const std::vector<Case> cases{
      {"TLS CA file", [&](nats::ConnectionOptions& o) { o.ca_file = missing; }},
      {"TLS client certificate file",
       [&](nats::ConnectionOptions& o) {
         o.cert_file = missing;
         o.key_file = certificates_->client_key_file();
       }},
      {"TLS client key file",
       [&](nats::ConnectionOptions& o) {
         o.cert_file = certificates_->client_cert_file();
         o.key_file = missing;
       }},
  };
  for (const Case& c : cases) {
    nats::ConnectionOptions options = options_with_ca();
    c.set(options);
    auto connection = nats::Connection::connect(options);
    ASSERT_FALSE(connection.ok()) << c.what;
    EXPECT_EQ(connection.error().message,
              "cannot read the " + c.what + " '" + missing + "': No such file or directory");
  }
  // Readable but not a key: nats.c's reason, with the file names.
  nats::ConnectionOptions options = options_with_ca();
  options.cert_file = certificates_->client_cert_file();
  options.key_file = certificates_->ca_file();
  auto connection = nats::Connection::connect(options);
  ASSERT_FALSE(connection.ok());
  EXPECT_TRUE(contains(connection.error().message, "'" + certificates_->ca_file() + "'"))
      << connection.error().message;
}

TEST_F(NatsTlsTest, CertificateWithoutKeyIsRefused) {
  start_server(true);
  nats::ConnectionOptions options = options_with_ca();
  options.cert_file = certificates_->client_cert_file();
  auto connection = nats::Connection::connect(options);
  ASSERT_FALSE(connection.ok());
  EXPECT_TRUE(contains(connection.error().message, "certificate and its key go together"))
      << connection.error().message;
}

TEST_F(NatsTlsTest, ServerNotUpYetIsRetriedInTheBackground) {
  start_server(false);
  server_->stop();
  nats::ConnectionOptions options = options_with_ca();
  options.reconnect_wait = 100ms;
  std::atomic<bool> connected{false};
  options.on_connection_change = [&](bool up) { connected = up; };
  auto connection = nats::Connection::connect(options);
  ASSERT_TRUE(connection.ok()) << connection.error().message;
  EXPECT_FALSE(connection.value()->connected());
  server_->restart();
  EXPECT_TRUE(eventually([&] { return connected.load(); }, 10s))
      << "the delayed TLS connect was not reported";
}

}  // namespace
}  // namespace ovalstream::testing
