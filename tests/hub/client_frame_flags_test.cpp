// The client data frame flags: their defaults are the hub's, values reach ServerOptions, and values out
// of range are usage errors (exit 2) naming the flag.

#include "ovalstream/hub/client_frame_flags.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace ovalstream::hub {
namespace {

struct Parsed {
  runtime::ParseOutcome outcome;
  ClientFrameSettings settings;
  std::string err;
};

Parsed parse(std::vector<std::string> args, std::optional<std::string> rate_variable = std::nullopt) {
  Parsed parsed;
  runtime::FlagSet flags("aggregator", "test", "test");
  add_client_frame_flags(flags, &parsed.settings);
  std::ostringstream out;
  std::ostringstream err;
  parsed.outcome = flags.parse(args, out, err, [&](std::string_view name) -> std::optional<std::string> {
    if (name == "OVALSTREAM_CLIENT_FRAME_RATE") return rate_variable;
    return std::nullopt;
  });
  parsed.err = err.str();
  return parsed;
}

TEST(ClientFrameFlags, DefaultsAreTheHubsAndReachItsOptions) {
  const Parsed parsed = parse({});
  ASSERT_TRUE(parsed.outcome.should_run());
  const ServerOptions defaults;
  EXPECT_EQ(parsed.settings.max_message_bytes, defaults.max_client_message_bytes);
  EXPECT_EQ(parsed.settings.frame_rate, defaults.client_frame_rate);
  EXPECT_EQ(defaults.max_client_message_bytes, 65536u);
  EXPECT_EQ(defaults.client_frame_rate, 10u);

  const Parsed set = parse({"--max-client-message-bytes", "1024", "--client-frame-rate", "0"});
  ASSERT_TRUE(set.outcome.should_run()) << set.err;
  ServerOptions options;
  set.settings.apply_to(options);
  EXPECT_EQ(options.max_client_message_bytes, 1024u);
  EXPECT_EQ(options.client_frame_rate, 0u) << "0 = no limit";
  EXPECT_EQ(parse({}, "25").settings.frame_rate, 25u) << "from OVALSTREAM_CLIENT_FRAME_RATE";
}

TEST(ClientFrameFlags, ValuesOutOfRangeAreUsageErrors) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"--max-client-message-bytes", "1023"},
           {"--max-client-message-bytes", "16777217"},
           {"--max-client-message-bytes", "-1"},
           {"--max-client-message-bytes", "64KiB"},
           {"--client-frame-rate", "-1"},
           {"--client-frame-rate", "10001"},
           {"--client-frame-rate", "2.5"},
           {"--client-frame-rate", ""},
       }) {
    const Parsed parsed = parse(args);
    EXPECT_FALSE(parsed.outcome.should_run()) << args[0] << " " << args[1];
    EXPECT_EQ(parsed.outcome.exit_code, 2) << args[0] << " " << args[1];
    EXPECT_NE(parsed.err.find(args[0]), std::string::npos) << parsed.err;
  }
  EXPECT_EQ(parse({"--max-client-message-bytes", "16777216"}).settings.max_message_bytes, 16u << 20);
  EXPECT_EQ(parse({"--client-frame-rate", "10000"}).settings.frame_rate, 10'000u);
}

}  // namespace
}  // namespace ovalstream::hub
