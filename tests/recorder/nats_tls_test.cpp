// The recorder's NATS commands against a real nats-server that requires TLS and verifies clients, with a
// CA and certificates made by `openssl` at test time: `replay` publishes into JetStream with --nats-ca,
// --nats-cert and --nats-key; `record` records from it with the same files from OVALSTREAM_NATS_*;
// `serve` starts over TLS; without the CA a replay stops saying the server's certificate is not trusted;
// a certificate without its key (or the reverse) exits 2 in every command before connecting.
#include <gtest/gtest.h>
#include <signal.h>

#include <memory>
#include <string>
#include <vector>

#include "aggregator/support/aggregator_process.hpp"
#include "aggregator/support/publishing.hpp"
#include "ovalstream/nats/jetstream.hpp"
#include "recorder/support/recorder_process.hpp"
#include "recorder/support/replay_files.hpp"
#include "support/event_builder.hpp"
#include "support/nats_server.hpp"
#include "support/skips.hpp"
#include "support/test_certificates.hpp"

namespace ovalstream::recorder::itest {
namespace {

using aggregator::itest::Publisher;
using aggregator::itest::TempDir;
using aggregator::itest::wait_until;
using ovalstream::testing::NatsServerProcess;
using ovalstream::testing::NatsServerTls;
using ovalstream::testing::TestCertificates;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class RecorderNatsTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_WITHOUT_NATS();
    if (!TestCertificates::available()) GTEST_SKIP() << TestCertificates::unavailable_message();
    certificates_ = std::make_unique<TestCertificates>();
    testing::NatsServerOptions options;
    options.tls = NatsServerTls{certificates_->server_cert_file(), certificates_->server_key_file(),
                                certificates_->ca_file(), /*verify=*/true};
    nats_ = std::make_unique<NatsServerProcess>(options);
    nats::ConnectionOptions publisher_options;
    publisher_options.url = nats_->url();
    publisher_options.ca_file = certificates_->ca_file();
    publisher_options.cert_file = certificates_->client_cert_file();
    publisher_options.key_file = certificates_->client_key_file();
    publisher_ = std::make_unique<Publisher>(publisher_options);
    auto created = nats::create_stream(publisher_->connection(), "VANTAGE", {"competition.>"});
    ASSERT_TRUE(created.ok()) << created.error().message;
  }

  std::vector<std::string> tls_flags() const {
    return {"--nats-ca",  certificates_->ca_file(),        "--nats-cert", certificates_->client_cert_file(),
            "--nats-key", certificates_->client_key_file()};
  }
  std::vector<std::string> tls_environment() const {
    return {"OVALSTREAM_NATS_CA=" + certificates_->ca_file(),
            "OVALSTREAM_NATS_CERT=" + certificates_->client_cert_file(),
            "OVALSTREAM_NATS_KEY=" + certificates_->client_key_file()};
  }
  std::uint64_t messages_in_stream() const {
    auto info = nats::stream_info(publisher_->connection(), "VANTAGE");
    return info && info->exists ? info->messages : 0;
  }
  std::string small_recording(std::size_t events = 5) {
    std::vector<std::chrono::microseconds> gaps(events, std::chrono::milliseconds(1));
    return write_text_file(dir_.path(), "small.jsonl", recording_text(generated_events(events), gaps));
  }

  std::unique_ptr<TestCertificates> certificates_;
  std::unique_ptr<NatsServerProcess> nats_;
  std::unique_ptr<Publisher> publisher_;
  TempDir dir_;
};

TEST_F(RecorderNatsTlsTest, ReplayPublishesIntoJetStreamOverTls) {
  std::vector<std::string> args{"replay", "--file",     small_recording(), "--speed",
                                "max",    "--nats-url", nats_->url()};
  const std::vector<std::string> tls = tls_flags();
  args.insert(args.end(), tls.begin(), tls.end());
  const RecorderRun run = run_recorder(args, 30s);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(messages_in_stream(), 5u);
}

TEST_F(RecorderNatsTlsTest, RecordRecordsFromJetStreamOverTlsWithFilesFromTheEnvironment) {
  for (const std::string& event : generated_events(5)) publisher_->publish_json(event);
  const std::string file = dir_.path() + "/recorded.jsonl";
  RecorderProcess recorder({"record", "--file", file, "--nats-url", nats_->url(), "--competition",
                            ovalstream::testing::kCompetition},
                           tls_environment());
  ASSERT_TRUE(wait_until([&] { return recorded_events(file).size() >= 5; }, 30s)) << recorder.log_tail();
  recorder.send_signal(SIGTERM);
  EXPECT_EQ(recorder.wait_exit(20s), 0) << recorder.log_tail();
  EXPECT_EQ(recorded_events(file), generated_events(5));
}

TEST_F(RecorderNatsTlsTest, ServeStartsOverTls) {
  std::vector<std::string> args{"serve",     "--nats-url",  nats_->url(),        "--dir",      dir_.path(),
                                "--address", "127.0.0.1:0", "--metrics-address", "127.0.0.1:0"};
  const std::vector<std::string> tls = tls_flags();
  args.insert(args.end(), tls.begin(), tls.end());
  RecorderProcess serve(args);
  ASSERT_TRUE(serve.wait_for_log("recording every competition", 30s)) << serve.log_tail();
  const std::vector<std::string> connected = serve.log_lines_with("nats connected");
  ASSERT_FALSE(connected.empty()) << serve.log_tail();
  EXPECT_TRUE(contains(connected.front(), "\"tls\":true")) << connected.front();
  serve.send_signal(SIGTERM);
  EXPECT_EQ(serve.wait_exit(20s), 0) << serve.log_tail();
}

TEST_F(RecorderNatsTlsTest, ReplayWithoutTheCaStopsSayingWhy) {
  const RecorderRun run = run_recorder(
      {"replay", "--file", small_recording(), "--speed", "max", "--nats-url", nats_->url(), "--nats-tls"},
      30s);
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_TRUE(contains(run.output, "SSL handshake error")) << run.output;
  EXPECT_TRUE(contains(run.output, "the system's CA certificates")) << run.output;
  EXPECT_EQ(messages_in_stream(), 0u);
}

TEST_F(RecorderNatsTlsTest, RecordWithAnUnreadableKeyNamesIt) {
  const std::string missing = certificates_->dir() + "/missing.key";
  const RecorderRun run = run_recorder(
      {"record", "--file", dir_.path() + "/r.jsonl", "--nats-url", nats_->url(), "--nats-ca",
       certificates_->ca_file(), "--nats-cert", certificates_->client_cert_file(), "--nats-key", missing},
      30s);
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_TRUE(contains(run.output, "cannot read the TLS client key file '" + missing + "'")) << run.output;
}

// No server is needed: the combination is refused before any connection (nothing listens on port 1).
TEST(RecorderNatsTlsFlags, CertificateAndKeyGoTogetherInEveryCommand) {
  TempDir dir;
  const std::string recording = write_text_file(
      dir.path(), "r.jsonl", recording_text(generated_events(1), {std::chrono::microseconds(0)}));
  const std::vector<std::vector<std::string>> commands{
      {"record", "--file", dir.path() + "/out.jsonl"},
      {"replay", "--file", recording},
      {"serve", "--dir", dir.path(), "--address", "127.0.0.1:0", "--metrics-address", "127.0.0.1:0"}};
  for (const auto& command : commands) {
    std::vector<std::string> cert_only = command;
    cert_only.insert(cert_only.end(), {"--nats-url", "nats://127.0.0.1:1", "--nats-cert", "/tmp/tls.crt"});
    const RecorderRun run = run_recorder(cert_only, 20s);
    EXPECT_EQ(run.exit_code, 2) << command.front() << ": " << run.output;
    EXPECT_TRUE(contains(run.output, "--nats-cert needs --nats-key"))
        << command.front() << ": " << run.output;

    std::vector<std::string> key_only = command;
    key_only.insert(key_only.end(), {"--nats-url", "nats://127.0.0.1:1"});
    const RecorderRun from_environment = run_recorder(key_only, 20s, {"OVALSTREAM_NATS_KEY=/tmp/tls.key"});
    EXPECT_EQ(from_environment.exit_code, 2) << command.front() << ": " << from_environment.output;
    EXPECT_TRUE(contains(from_environment.output, "--nats-key needs --nats-cert"))
        << command.front() << ": " << from_environment.output;
  }
}

TEST(RecorderNatsTlsFlags, HelpOfEveryNatsCommandNamesTheTlsFlags) {
  for (const char* command : {"record", "replay", "serve"}) {
    const RecorderRun run = run_recorder({command, "--help"}, 20s);
    EXPECT_EQ(run.exit_code, 0) << command;
    for (const char* flag : {"--nats-ca", "--nats-cert", "--nats-key"})
      EXPECT_TRUE(contains(run.output, flag)) << command << " --help lacks " << flag;
  }
}

}  // namespace
}  // namespace ovalstream::recorder::itest
