#pragma once
// The websocket opening handshake (RFC 6455 section 4.2): validating a client's upgrade request and
// computing Sec-WebSocket-Accept. Beast decides whether a request is an upgrade at all; the rest is ours,
// since after the handshake the hub speaks the protocol itself.

#include <utility>

#include <boost/beast/http/message.hpp>
#include <string>
#include <string_view>

namespace ovalstream::hub {

enum class UpgradeProblem {
  kNone,
  kNotGet,      // only GET can be upgraded
  kBadVersion,  // Sec-WebSocket-Version is not 13
  kBadKey,      // Sec-WebSocket-Key missing or not the base64 of 16 bytes
};

// Checks a request that boost::beast::websocket::is_upgrade() accepted.
UpgradeProblem check_upgrade_request(const boost::beast::http::request_header<>& request);

// Whether `key` is a valid Sec-WebSocket-Key: the base64 encoding of 16 bytes (24 characters, "==" end).
bool is_valid_websocket_key(std::string_view key);

// Sec-WebSocket-Accept for a client key: base64(SHA-1(key + the RFC 6455 GUID)).
std::string websocket_accept_key(std::string_view key);

}  // namespace ovalstream::hub
