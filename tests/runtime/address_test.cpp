// Listen addresses as the Go original's net.Listen took them.
#include "ovalstream/runtime/address.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ovalstream::runtime {
namespace {

ListenAddress parsed_ok(const char* text) {
  const ParsedAddress parsed = parse_listen_address(text);
  EXPECT_TRUE(parsed.ok()) << text << ": " << describe_address_error(parsed.error, text);
  return parsed.address;
}

TEST(ListenAddress, ColonPortListensOnEveryInterface) {
  EXPECT_EQ(parsed_ok(":8080"), (ListenAddress{"", 8080}));
}

TEST(ListenAddress, HostAndPort) {
  EXPECT_EQ(parsed_ok("127.0.0.1:9090"), (ListenAddress{"127.0.0.1", 9090}));
  EXPECT_EQ(parsed_ok("localhost:8080"), (ListenAddress{"localhost", 8080}));
  EXPECT_EQ(parsed_ok("0.0.0.0:1"), (ListenAddress{"0.0.0.0", 1}));
  EXPECT_EQ(parsed_ok(":65535"), (ListenAddress{"", 65535}));
}

TEST(ListenAddress, BracketedIpv6LosesItsBrackets) {
  EXPECT_EQ(parsed_ok("[::1]:8080"), (ListenAddress{"::1", 8080}));
  EXPECT_EQ(parsed_ok("[::]:443"), (ListenAddress{"::", 443}));
  EXPECT_EQ(parsed_ok("[fe80::1%eth0]:80"), (ListenAddress{"fe80::1%eth0", 80}));
}

TEST(ListenAddress, PortZeroMeansAnyFreePort) {
  EXPECT_EQ(parsed_ok("127.0.0.1:0"), (ListenAddress{"127.0.0.1", 0}));
}

TEST(ListenAddress, ErrorsAreTyped) {
  const struct {
    const char* text;
    AddressError error;
  } cases[] = {
      {"", AddressError::kEmpty},
      {"8080", AddressError::kMissingPort},
      {"localhost", AddressError::kMissingPort},
      {"127.0.0.1:", AddressError::kMissingPort},
      {"[::1]", AddressError::kMissingPort},
      {"::1:8080", AddressError::kTooManyColons},
      {"[::1]:80:80", AddressError::kTooManyColons},
      {"[::1:8080", AddressError::kBadBrackets},
      {"::1]:8080", AddressError::kTooManyColons},
      {"a]:8080", AddressError::kBadBrackets},
      {"[::1]8080", AddressError::kBadBrackets},
      {"[]:8080", AddressError::kBadBrackets},
      {":http", AddressError::kPortNotNumber},
      {":-1", AddressError::kPortNotNumber},
      {": 80", AddressError::kPortNotNumber},
      {":+80", AddressError::kPortNotNumber},
      {":65536", AddressError::kPortOutOfRange},
      {":99999999999999999999", AddressError::kPortOutOfRange},
  };
  for (const auto& [text, error] : cases) {
    const ParsedAddress parsed = parse_listen_address(text);
    EXPECT_EQ(parsed.error, error) << '"' << text << '"';
    EXPECT_FALSE(parsed.ok()) << text;
  }
}

TEST(ListenAddress, ErrorDescriptionNamesTheAddressAndTheFix) {
  const std::string message = describe_address_error(AddressError::kMissingPort, "8080");
  EXPECT_NE(message.find("\"8080\""), std::string::npos) << message;
  EXPECT_NE(message.find("\":8080\""), std::string::npos) << message;
  EXPECT_NE(describe_address_error(AddressError::kTooManyColons, "::1:80").find("[::1]"), std::string::npos);
}

TEST(ListenAddress, FormatsBackToTheSameText) {
  for (const char* text : {":8080", "127.0.0.1:9090", "[::1]:8080", "localhost:0"}) {
    EXPECT_EQ(format_listen_address(parsed_ok(text)), text);
  }
}

}  // namespace
}  // namespace ovalstream::runtime

namespace ovalstream::runtime {
namespace {

TEST(ListenAddress, LoopbackIsLocalhost127Slash8AndIpv6One) {
  for (const char* text : {"127.0.0.1:8090", "127.1.2.3:1", "localhost:8090", "[::1]:8090"}) {
    EXPECT_TRUE(is_loopback(parse_listen_address(text).address)) << text;
  }
  for (const char* text : {":8090", "0.0.0.0:8090", "[::]:8090", "10.0.0.1:8090", "128.0.0.1:1",
                           "example.org:1", "[::ffff:127.0.0.1]:1"}) {
    EXPECT_FALSE(is_loopback(parse_listen_address(text).address)) << text;
  }
}

}  // namespace
}  // namespace ovalstream::runtime
