#include "support/token_minter.hpp"

#include <fcntl.h>
#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <vector>

namespace ovalstream::testing {
namespace {

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(size));
}

KeyPair pems_of(EVP_PKEY* key) {
  if (!key) throw std::runtime_error("key generation failed");
  std::unique_ptr<BIO, decltype(&BIO_free)> priv(BIO_new(BIO_s_mem()), BIO_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> pub(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_PrivateKey(priv.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  PEM_write_bio_PUBKEY(pub.get(), key);
  KeyPair pair{bio_text(priv.get()), bio_text(pub.get())};
  EVP_PKEY_free(key);
  return pair;
}

std::string base64url(const unsigned char* data, std::size_t size) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t bits = 0;
  int count = 0;
  for (std::size_t i = 0; i < size; ++i) {
    bits = (bits << 8) | data[i];
    count += 8;
    while (count >= 6) {
      count -= 6;
      out.push_back(kAlphabet[(bits >> count) & 0x3F]);
    }
  }
  if (count > 0) out.push_back(kAlphabet[(bits << (6 - count)) & 0x3F]);
  return out;
}

std::string bn_member(EVP_PKEY* key, const char* param, int pad_to = 0) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, param, &bn) != 1) throw std::runtime_error("no key parameter");
  std::vector<unsigned char> bytes(static_cast<std::size_t>(std::max(BN_num_bytes(bn), pad_to)));
  BN_bn2binpad(bn, bytes.data(), static_cast<int>(bytes.size()));
  BN_free(bn);
  return base64url(bytes.data(), bytes.size());
}

}  // namespace

KeyPair make_rsa_key_pair(int bits) {
  return pems_of(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(bits)));
}

KeyPair make_ec_key_pair(const char* curve) {
  return pems_of(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve));
}

std::string jwk_of(const std::string& public_pem, const std::string& kid) {
  std::unique_ptr<BIO, decltype(&BIO_free)> in(
      BIO_new_mem_buf(public_pem.data(), static_cast<int>(public_pem.size())), BIO_free);
  EVP_PKEY* key = PEM_read_bio_PUBKEY(in.get(), nullptr, nullptr, nullptr);
  if (!key) throw std::runtime_error("not a public key PEM");
  std::string jwk;
  if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA) {
    jwk = R"({"kty":"RSA","kid":")" + kid + R"(","use":"sig","n":")" + bn_member(key, OSSL_PKEY_PARAM_RSA_N) +
          R"(","e":")" + bn_member(key, OSSL_PKEY_PARAM_RSA_E) + R"("})";
  } else {
    jwk = R"({"kty":"EC","kid":")" + kid + R"(","crv":"P-256","x":")" +
          bn_member(key, OSSL_PKEY_PARAM_EC_PUB_X, 32) + R"(","y":")" +
          bn_member(key, OSSL_PKEY_PARAM_EC_PUB_Y, 32) + R"("})";
  }
  EVP_PKEY_free(key);
  return jwk;
}

std::string mint_token(std::string_view alg, std::string_view key, const std::string& claims_json,
                       const std::string& headers_json) {
  jwt_t* jwt = nullptr;
  if (jwt_new(&jwt) != 0) throw std::runtime_error("jwt_new failed");
  std::unique_ptr<jwt_t, decltype(&jwt_free)> hold(jwt, jwt_free);
  if (jwt_add_grants_json(jwt, claims_json.c_str()) != 0) throw std::runtime_error("bad claims JSON");
  if (!headers_json.empty() && jwt_add_headers_json(jwt, headers_json.c_str()) != 0) {
    throw std::runtime_error("bad headers JSON");
  }
  const std::string alg_name(alg);
  const jwt_alg_t algorithm = jwt_str_alg(alg_name.c_str());
  const int status = algorithm == JWT_ALG_NONE
                         ? jwt_set_alg(jwt, JWT_ALG_NONE, nullptr, 0)
                         : jwt_set_alg(jwt, algorithm, reinterpret_cast<const unsigned char*>(key.data()),
                                       static_cast<int>(key.size()));
  if (status != 0) throw std::runtime_error("jwt_set_alg failed");
  char* encoded = jwt_encode_str(jwt);
  if (!encoded) throw std::runtime_error("jwt_encode_str failed");
  std::string token(encoded);
  std::free(encoded);
  return token;
}

std::string base64url_encode(std::string_view bytes) {
  return base64url(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

std::string with_header(const std::string& token, const std::string& header_json) {
  return base64url_encode(header_json) + token.substr(token.find('.'));
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string competition_claims(const std::string& competitions_json, std::int64_t ttl_seconds) {
  return R"({"exp":)" + std::to_string(unix_now() + ttl_seconds) + R"(,"competitions":)" + competitions_json +
         "}";
}

void write_file(const std::string& path, std::string_view contents) {
  // Written beside and renamed over, as a key rotation would: a reader never sees half a file.
  const std::string temporary = path + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) throw std::runtime_error("cannot write " + temporary);
  const bool written = ::write(fd, contents.data(), contents.size()) == static_cast<ssize_t>(contents.size());
  ::close(fd);
  if (!written || std::rename(temporary.c_str(), path.c_str()) != 0) {
    throw std::runtime_error("cannot write " + path);
  }
}

}  // namespace ovalstream::testing
