#include "ovalstream/runtime/address.hpp"

#include <arpa/inet.h>

namespace ovalstream::runtime {
namespace {

ParsedAddress failure(AddressError error) {
  return ParsedAddress{error, {}};
}

// Decimal digits only, as Go's net package reads a numeric port.
AddressError parse_port(std::string_view text, std::uint16_t& port) {
  if (text.empty()) return AddressError::kMissingPort;
  std::uint32_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return AddressError::kPortNotNumber;
    value = value * 10 + static_cast<std::uint32_t>(c - '0');
    if (value > 65535) return AddressError::kPortOutOfRange;
  }
  port = static_cast<std::uint16_t>(value);
  return AddressError::kNone;
}

}  // namespace

ParsedAddress parse_listen_address(std::string_view text) {
  if (text.empty()) return failure(AddressError::kEmpty);

  // The split mirrors Go's net.SplitHostPort: the port follows the last colon; a host holding colons
  // must be bracketed.
  std::string_view host;
  std::string_view port_text;
  if (text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) return failure(AddressError::kBadBrackets);
    if (close + 1 == text.size()) return failure(AddressError::kMissingPort);
    if (text[close + 1] != ':') return failure(AddressError::kBadBrackets);
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
    if (host.empty() || host.find_first_of("[]") != std::string_view::npos) {
      return failure(AddressError::kBadBrackets);
    }
    if (port_text.find(':') != std::string_view::npos) return failure(AddressError::kTooManyColons);
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return failure(AddressError::kMissingPort);
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return failure(AddressError::kTooManyColons);
    if (host.find_first_of("[]") != std::string_view::npos) return failure(AddressError::kBadBrackets);
  }

  ParsedAddress parsed;
  parsed.error = parse_port(port_text, parsed.address.port);
  if (!parsed.ok()) return parsed;
  parsed.address.host = std::string(host);
  return parsed;
}

std::string describe_address_error(AddressError error, std::string_view text) {
  const std::string quoted = "\"" + std::string(text) + "\"";
  switch (error) {
    case AddressError::kNone:
      return "valid address " + quoted;
    case AddressError::kEmpty:
      return "empty address (\":8080\" listens on every interface)";
    case AddressError::kMissingPort:
      return "missing port in address " + quoted + " (\":8080\" listens on every interface)";
    case AddressError::kTooManyColons:
      return "too many colons in address " + quoted + " (write an IPv6 host in brackets: \"[::1]:8080\")";
    case AddressError::kBadBrackets:
      return "misplaced brackets in address " + quoted + " (an IPv6 host is written \"[::1]:8080\")";
    case AddressError::kPortNotNumber:
      return "port is not a number in address " + quoted;
    case AddressError::kPortOutOfRange:
      return "port out of range (0..65535) in address " + quoted;
  }
  return "invalid address " + quoted;
}

bool is_loopback(const ListenAddress& address) noexcept {
  if (address.host == "localhost") return true;
  in_addr v4{};
  if (::inet_pton(AF_INET, address.host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  return ::inet_pton(AF_INET6, address.host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

std::string format_listen_address(const ListenAddress& address) {
  const std::string port = std::to_string(address.port);
  if (address.host.find(':') != std::string::npos) return "[" + address.host + "]:" + port;
  return address.host + ":" + port;
}

}  // namespace ovalstream::runtime
