#include "handshake.hpp"

#include <openssl/evp.h>

#include <array>

namespace ovalstream::hub {

namespace {

constexpr std::string_view kWebSocketGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

}  // namespace

bool is_valid_websocket_key(std::string_view key) {
  // 16 bytes encode to 22 significant characters plus "==" padding. Checking the alphabet is enough to
  // know it decodes; the last significant character must also leave the 4 padding bits zero.
  if (key.size() != 24 || key[22] != '=' || key[23] != '=') return false;
  for (std::size_t i = 0; i < 22; ++i) {
    if (!is_base64_char(key[i])) return false;
  }
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  return (kAlphabet.find(key[21]) & 0x0F) == 0;
}

std::string websocket_accept_key(std::string_view key) {
  std::string input;
  input.reserve(key.size() + kWebSocketGuid.size());
  input.append(key);
  input.append(kWebSocketGuid);

  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_size = 0;
  if (EVP_Digest(input.data(), input.size(), digest.data(), &digest_size, EVP_sha1(), nullptr) != 1) {
    return {};
  }
  // base64 of 20 bytes: 28 characters, plus the terminating NUL EVP_EncodeBlock writes.
  std::array<unsigned char, 4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1> encoded{};
  const int encoded_size = EVP_EncodeBlock(encoded.data(), digest.data(), static_cast<int>(digest_size));
  return std::string(reinterpret_cast<const char*>(encoded.data()), static_cast<std::size_t>(encoded_size));
}

UpgradeProblem check_upgrade_request(const boost::beast::http::request_header<>& request) {
  namespace http = boost::beast::http;
  if (request.method() != http::verb::get) return UpgradeProblem::kNotGet;
  if (request[http::field::sec_websocket_version] != "13") return UpgradeProblem::kBadVersion;
  const auto key = request[http::field::sec_websocket_key];
  if (!is_valid_websocket_key(std::string_view(key.data(), key.size()))) return UpgradeProblem::kBadKey;
  return UpgradeProblem::kNone;
}

}  // namespace ovalstream::hub
