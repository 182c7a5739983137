// The NATS settings helpers that need no server: credentials never reach a log line.

#include "ovalstream/nats/settings.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace ovalstream::nats
