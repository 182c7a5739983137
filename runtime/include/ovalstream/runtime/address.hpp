#pragma once
// Listen addresses written as the Go original took them (net.Listen "host:port"): ":8080" for every
// interface, "127.0.0.1:9090", "[::1]:8080", "localhost:8080". Only the text is checked here; whether the
// host resolves or the port can be bound is found out when binding.
// Thread safety: pure functions.

#include <cstdint>
#include <string>
#include <string_view>

namespace ovalstream::runtime {

struct ListenAddress {
  std::string host;        // "" = every interface; an IPv6 literal without its brackets, e.g. "::1"
  std::uint16_t port = 0;  // 0 = any free port (tests)
  friend bool operator==(const ListenAddress&, const ListenAddress&) = default;
};

enum class AddressError : std::uint8_t {
  kNone = 0,
  kEmpty,           // ""
  kMissingPort,     // no ":port", e.g. "8080" or "localhost" or "127.0.0.1:"
  kTooManyColons,   // an IPv6 literal without brackets, e.g. "::1:8080"
  kBadBrackets,     // "[::1", "::1]:80", "[::1]8080", "[]:80"
  kPortNotNumber,   // ":http", ":-1", ": 80" (service names are not looked up)
  kPortOutOfRange,  // > 65535
};

struct ParsedAddress {
  AddressError error = AddressError::kNone;
  ListenAddress address;  // meaningful when ok()
  bool ok() const noexcept { return error == AddressError::kNone; }
};

ParsedAddress parse_listen_address(std::string_view text);

// A one-line reason for a failed parse of `text`, e.g. `missing port in address "8080" (":8080" listens
// on every interface)`.
std::string describe_address_error(AddressError error, std::string_view text);

// True when the address listens on the loopback interface only: "localhost", 127.0.0.0/8 or ::1 (not "",
// which is every interface).
bool is_loopback(const ListenAddress& address) noexcept;

// Back to text: ":8080", "127.0.0.1:9090", "[::1]:8080".
std::string format_listen_address(const ListenAddress& address);

}  // namespace ovalstream::runtime
