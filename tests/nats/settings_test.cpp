// The NATS settings helpers that need no server: credentials never reach a log line; the shared flags take
// the Go original's --driver, whose only value is nats.

#include "ovalstream/nats/settings.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace ovalstream::nats
