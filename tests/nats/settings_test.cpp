// The NATS settings helpers that need no server: credentials never reach a log line; the shared flags take
// the Go original's --driver, whose only value is nats.

#include "ovalstream/nats/settings.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace ovalstream::nats {
namespace {

TEST(RedactUrlCredentials, ReplacesUserInformationOfEveryUrl) {
  EXPECT_EQ(redact_url_credentials("nats://127.0.0.1:4222"), "nats://127.0.0.1:4222");
  EXPECT_EQ(redact_url_credentials("nats://alice:s3cret@nats:4222"), "nats://REDACTED@nats:4222");
  EXPECT_EQ(redact_url_credentials("tls://t0ken@nats.example:4222"), "tls://REDACTED@nats.example:4222");
  EXPECT_EQ(redact_url_credentials("nats://a:b@one:4222,nats://two:4222,nats://c:d@three:4222"),
            "nats://REDACTED@one:4222,nats://two:4222,nats://REDACTED@three:4222");
  EXPECT_EQ(redact_url_credentials("u:p@host:4222"), "REDACTED@host:4222") << "no scheme";
  EXPECT_EQ(redact_url_credentials("nats://p@ss:wo@rd@host:4222"), "nats://REDACTED@host:4222")
      << "the last '@' before the host ends the user information";
  EXPECT_EQ(redact_url_credentials("nats://host:4222/path@x"), "nats://host:4222/path@x");
  EXPECT_EQ(redact_url_credentials(""), "");
}

struct DriverRun {
  int exit_code = 0;
  std::string err;
  std::string driver;
};

DriverRun parse_nats_flags(std::vector<std::string> args, std::optional<std::string> vantage_driver = {}) {
  NatsSettings settings;
  runtime::FlagSet flags("aggregator", "v", "s");
  add_nats_flags(flags, &settings);
  std::ostringstream out;
  std::ostringstream err;
  const runtime::ParseOutcome outcome =
      flags.parse(args, out, err, [&](std::string_view name) -> std::optional<std::string> {
        if (name == "VANTAGE_DRIVER") return vantage_driver;
        return std::nullopt;
      });
  return {outcome.exit_code, err.str(), settings.driver};
}

TEST(NatsFlags, DriverNatsIsAccepted) {
  for (const auto& args : std::vector<std::vector<std::string>>{{}, {"--driver", "nats"}, {"-driver=nats"}}) {
    const DriverRun run = parse_nats_flags(args);
    EXPECT_EQ(run.exit_code, 0) << run.err;
    EXPECT_EQ(run.driver, "nats");
  }
  EXPECT_EQ(parse_nats_flags({}, "nats").exit_code, 0);
}

TEST(NatsFlags, AnyOtherDriverIsAUsageError) {
  for (const char* driver : {"stan", "kafka", "Nats", ""}) {
    const DriverRun run = parse_nats_flags({std::string("--driver=") + driver});
    EXPECT_EQ(run.exit_code, 2) << driver;
    EXPECT_NE(run.err.find("only nats is supported"), std::string::npos) << run.err;
  }
  const DriverRun from_environment = parse_nats_flags({}, "stan");
  EXPECT_EQ(from_environment.exit_code, 2);
  EXPECT_NE(from_environment.err.find("VANTAGE_DRIVER"), std::string::npos) << from_environment.err;
}

// --nats-ca, --nats-cert, --nats-key from the command line, OVALSTREAM_* and the Go original's VANTAGE_*
// variables, and the config file, as every other flag; in --help.
TEST(NatsFlags, TlsFilesFromEveryFlagSource) {
  NatsSettings settings;
  runtime::FlagSet flags("aggregator", "v", "s");
  add_nats_flags(flags, &settings);
  flags.add_config_file(".test.yaml");
  std::ostringstream out;
  std::ostringstream err;
  const runtime::ParseOutcome outcome = flags.parse(
      std::vector<std::string>{"--nats-ca", "/etc/nats/ca.pem", "--config", "/cfg.yaml"}, out, err,
      [](std::string_view name) -> std::optional<std::string> {
        if (name == "VANTAGE_NATS_CERT") return "/etc/nats/tls.crt";
        if (name == "OVALSTREAM_NATS_CA") return "/from/environment.pem";  // the command line wins
        return std::nullopt;
      },
      [](const std::string&) {
        return runtime::ConfigFileText{runtime::ConfigFileText::Status::kRead,
                                       "nats-ca: /from/config.pem\nnats-key: /etc/nats/tls.key\n", ""};
      });
  ASSERT_TRUE(outcome.should_run()) << err.str();
  EXPECT_EQ(settings.ca_file, "/etc/nats/ca.pem");
  EXPECT_EQ(settings.cert_file, "/etc/nats/tls.crt");
  EXPECT_EQ(settings.key_file, "/etc/nats/tls.key");
  EXPECT_EQ(check_nats_settings(settings), std::nullopt);
  const ConnectionOptions options = connection_options(settings, "test");
  EXPECT_EQ(options.ca_file, "/etc/nats/ca.pem");
  EXPECT_EQ(options.cert_file, "/etc/nats/tls.crt");
  EXPECT_EQ(options.key_file, "/etc/nats/tls.key");
  EXPECT_TRUE(tls_enabled(options));

  const std::string help = flags.usage();
  for (const char* flag : {"--nats-ca", "--nats-cert", "--nats-key"})
    EXPECT_NE(help.find(flag), std::string::npos) << flag << " missing from --help:\n" << help;
}

TEST(NatsFlags, CertificateAndKeyGoTogether) {
  NatsSettings settings;
  EXPECT_EQ(check_nats_settings(settings), std::nullopt);
  settings.cert_file = "tls.crt";
  EXPECT_EQ(check_nats_settings(settings),
            "--nats-cert needs --nats-key (a client certificate and its private key go together)");
  settings.cert_file.clear();
  settings.key_file = "tls.key";
  EXPECT_EQ(check_nats_settings(settings),
            "--nats-key needs --nats-cert (a client certificate and its private key go together)");
  settings.ca_file = "ca.pem";  // a CA alone is fine, a key alone is not
  EXPECT_NE(check_nats_settings(settings), std::nullopt);
}

TEST(NatsTlsEnabled, ByFlagSchemeCaOrClientCertificate) {
  ConnectionOptions options;
  EXPECT_FALSE(tls_enabled(options));
  options.url = "nats://a:4222,TLS://b:4222";
  EXPECT_TRUE(tls_enabled(options)) << "any URL of the list, scheme in any case";
  options.url = "nats://a:4222, tls://b:4222";
  EXPECT_TRUE(tls_enabled(options));
  options.url = "nats://tls.example:4222";
  EXPECT_FALSE(tls_enabled(options));
  options.tls = true;
  EXPECT_TRUE(tls_enabled(options));
  options.tls = false;
  options.ca_file = "ca.pem";
  EXPECT_TRUE(tls_enabled(options));
  options.ca_file.clear();
  options.cert_file = "tls.crt";
  EXPECT_TRUE(tls_enabled(options));
}

// The command the aggregator logs when the stream is missing: copy-and-paste ready, no credentials.
TEST(StreamAddCommand, NamesServerStreamSubjectsAndLimits) {
  NatsSettings settings;
  EXPECT_EQ(
      stream_add_command(settings, {"competition.>"}),
      "nats --server nats://127.0.0.1:4222 stream add VANTAGE --subjects 'competition.>' --storage file "
      "--replicas 3 --retention limits --max-age 72h --max-bytes 20GiB --discard old --dupe-window 2m "
      "--defaults");
  settings.url = "tls://alice:s3cret@nats.live.svc:4222";
  settings.stream = "LIVE";
  settings.ca_file = "/etc/nats tls/ca.pem";
  settings.password = "s3cret";
  const std::string command = stream_add_command(settings, {"competition.>", "other.>"});
  EXPECT_EQ(command.find("s3cret"), std::string::npos) << command;
  EXPECT_EQ(command.rfind("nats --server tls://REDACTED@nats.live.svc:4222 --tlsca '/etc/nats tls/ca.pem' "
                          "stream add LIVE --subjects 'competition.>,other.>' ",
                          0),
            0u)
      << command;
  settings.stream = "it's";
  EXPECT_NE(stream_add_command(settings, {"x"}).find("stream add 'it'\\''s'"), std::string::npos);
}

// The logged command and the one docs/deploy.md explains option by option must not drift apart.
TEST(StreamAddCommand, IsTheOneDocumentedInDeployMd) {
  std::ifstream doc(std::string(OVALSTREAM_SOURCE_DIR) + "/docs/deploy.md");
  ASSERT_TRUE(doc) << "docs/deploy.md not found under " << OVALSTREAM_SOURCE_DIR;
  std::string documented;
  for (std::string line; std::getline(doc, line);) {
    if (line.rfind("nats stream add VANTAGE ", 0) == 0) {
      documented = line;
      while (!documented.empty() && documented.back() == '\\' && std::getline(doc, line)) {
        documented.pop_back();
        const auto first = line.find_first_not_of(' ');
        documented += first == std::string::npos ? "" : line.substr(first);
      }
      break;
    }
  }
  ASSERT_FALSE(documented.empty()) << "no `nats stream add VANTAGE` in docs/deploy.md";
  const std::string logged = stream_add_command(NatsSettings{}, {"competition.>"});
  const std::string prefix = "nats --server nats://127.0.0.1:4222 ";
  ASSERT_EQ(logged.rfind(prefix, 0), 0u) << logged;
  EXPECT_EQ("nats " + logged.substr(prefix.size()), documented);
}

}  // namespace
}  // namespace ovalstream::nats
