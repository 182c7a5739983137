#include "ovalstream/auth/key_set.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <rapidjson/document.h>

#include <sys/stat.h>
#include <array>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string_view>

#include "base64url.hpp"

namespace ovalstream::auth {
namespace {

template <auto Free>
struct Deleter {
  template <class T>
  void operator()(T* pointer) const noexcept {
    Free(pointer);
  }
};
using Bio = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using Key = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using KeyContext = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX_free>>;
using Certificate = std::unique_ptr<X509, Deleter<X509_free>>;
using BigNumber = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using ParamBuilder = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD_free>>;
using Params = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM_free>>;

// RSA below 2048 bits is breakable in practice (NIST SP 800-131A); libjwt would accept it.
constexpr int kMinRsaBits = 2048;

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

// The algorithm a key verifies, or why it cannot verify any we accept.
std::variant<Algorithm, std::string> algorithm_of(EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
      if (EVP_PKEY_get_bits(key) < kMinRsaBits) {
        return "RSA key of " + std::to_string(EVP_PKEY_get_bits(key)) + " bits (at least 2048 needed)";
      }
      return Algorithm::kRs256;
    case EVP_PKEY_EC: {
      std::array<char, 64> group{};
      std::size_t length = 0;
      if (EVP_PKEY_get_group_name(key, group.data(), group.size(), &length) != 1) {
        return std::string("EC key without a named curve");
      }
      const std::string_view name(group.data(), length);
      if (name != "prime256v1" && name != "P-256") {
        return "EC key on curve " + std::string(name) + " (ES256 needs P-256)";
      }
      return Algorithm::kEs256;
    }
    default:
      return std::string("a key type that is neither RSA nor EC");
  }
}

std::variant<PublicKey, std::string> to_public_key(EVP_PKEY* key, std::string key_id) {
  auto algorithm = algorithm_of(key);
  if (auto* error = std::get_if<std::string>(&algorithm)) return std::move(*error);
  Bio out(BIO_new(BIO_s_mem()));
  if (!out || PEM_write_bio_PUBKEY(out.get(), key) != 1) return std::string("cannot encode the key");
  char* data = nullptr;
  const long size = BIO_get_mem_data(out.get(), &data);
  return PublicKey{std::get<Algorithm>(algorithm), std::move(key_id),
                   std::string(data, static_cast<std::size_t>(size))};
}

std::variant<std::vector<PublicKey>, std::string> parse_pem(std::string_view text) {
  Bio in(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  if (!in) return std::string("out of memory");
  std::vector<PublicKey> keys;
  for (int index = 1;; ++index) {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long length = 0;
    if (PEM_read_bio(in.get(), &name, &header, &data, &length) != 1) break;
    const std::string block(name);
    OPENSSL_free(name);
    OPENSSL_free(header);
    const unsigned char* cursor = data;
    Key key;
    if (block == "PUBLIC KEY") {
      key.reset(d2i_PUBKEY(nullptr, &cursor, length));
    } else if (block == "RSA PUBLIC KEY") {
      key.reset(d2i_PublicKey(EVP_PKEY_RSA, nullptr, &cursor, length));
    } else if (block == "CERTIFICATE") {
      Certificate certificate(d2i_X509(nullptr, &cursor, length));
      if (certificate) key.reset(X509_get_pubkey(certificate.get()));
    } else if (block.find("PRIVATE KEY") != std::string::npos) {
      OPENSSL_free(data);
      return "PEM block " + std::to_string(index) +
             " is a private key: give the public key only (openssl pkey -in key.pem -pubout)";
    } else {
      OPENSSL_free(data);
      return "PEM block " + std::to_string(index) + " (" + block + ") is not a public key or certificate";
    }
    OPENSSL_free(data);
    if (!key) return "PEM block " + std::to_string(index) + " (" + block + ") does not decode";
    auto converted = to_public_key(key.get(), "");
    if (auto* error = std::get_if<std::string>(&converted)) {
      return "PEM block " + std::to_string(index) + ": " + *error;
    }
    keys.push_back(std::move(std::get<PublicKey>(converted)));
  }
  if (keys.empty()) return std::string("no PEM public key or certificate found");
  return keys;
}

std::optional<std::string> string_member(const rapidjson::Value& object, const char* name) {
  const auto member = object.FindMember(name);
  if (member == object.MemberEnd() || !member->value.IsString()) return std::nullopt;
  return std::string(member->value.GetString(), member->value.GetStringLength());
}

BigNumber big_number(const std::string& bytes) {
  return BigNumber(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                             static_cast<int>(bytes.size()), nullptr));
}

// A key from OpenSSL parameters of type "RSA" or "EC"; null when they do not make a valid public key.
Key key_from_params(const char* type, OSSL_PARAM* params) {
  KeyContext context(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!context || EVP_PKEY_fromdata_init(context.get()) != 1 ||
      EVP_PKEY_fromdata(context.get(), &raw, EVP_PKEY_PUBLIC_KEY, params) != 1) {
    return nullptr;
  }
  Key key(raw);
  KeyContext check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) return nullptr;
  return key;
}

std::variant<Key, std::string> rsa_jwk(const rapidjson::Value& jwk) {
  const auto n = string_member(jwk, "n");
  const auto e = string_member(jwk, "e");
  const auto n_bytes = n ? decode_base64url(*n) : std::nullopt;
  const auto e_bytes = e ? decode_base64url(*e) : std::nullopt;
  if (!n_bytes || !e_bytes || n_bytes->empty() || e_bytes->empty()) {
    return std::string("RSA key without base64url \"n\" and \"e\"");
  }
  BigNumber modulus = big_number(*n_bytes);
  BigNumber exponent = big_number(*e_bytes);
  ParamBuilder builder(OSSL_PARAM_BLD_new());
  if (!modulus || !exponent || !builder ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, modulus.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, exponent.get()) != 1) {
    return std::string("out of memory");
  }
  Params params(OSSL_PARAM_BLD_to_param(builder.get()));
  Key key = params ? key_from_params("RSA", params.get()) : nullptr;
  if (!key) return std::string("RSA key that OpenSSL refuses");
  return key;
}

std::variant<Key, std::string> ec_jwk(const rapidjson::Value& jwk) {
  const auto curve = string_member(jwk, "crv");
  if (curve != "P-256") return "unsupported curve " + curve.value_or("(none)") + " (ES256 needs P-256)";
  const auto x = string_member(jwk, "x");
  const auto y = string_member(jwk, "y");
  const auto x_bytes = x ? decode_base64url(*x) : std::nullopt;
  const auto y_bytes = y ? decode_base64url(*y) : std::nullopt;
  if (!x_bytes || !y_bytes || x_bytes->size() != 32 || y_bytes->size() != 32) {
    return std::string("P-256 key without 32-byte base64url \"x\" and \"y\"");
  }
  // The uncompressed point, as SEC 1 writes it.
  std::string point = "\x04" + *x_bytes + *y_bytes;
  ParamBuilder builder(OSSL_PARAM_BLD_new());
  if (!builder ||
      OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) !=
          1) {
    return std::string("out of memory");
  }
  Params params(OSSL_PARAM_BLD_to_param(builder.get()));
  Key key = params ? key_from_params("EC", params.get()) : nullptr;
  if (!key) return std::string("P-256 key whose point is not on the curve");
  return key;
}

std::variant<std::vector<PublicKey>, std::string> parse_jwks(std::string_view text) {
  rapidjson::Document document;
  document.Parse(text.data(), text.size());
  if (document.HasParseError() || !document.IsObject()) return std::string("JWKS is not a JSON object");
  const auto keys_member = document.FindMember("keys");
  if (keys_member == document.MemberEnd() || !keys_member->value.IsArray()) {
    return std::string("JWKS without a \"keys\" array");
  }
  std::vector<PublicKey> keys;
  int index = 0;
  for (const auto& jwk : keys_member->value.GetArray()) {
    ++index;
    const std::string where = "JWKS key " + std::to_string(index) + ": ";
    if (!jwk.IsObject()) return where + "not an object";
    const auto use = string_member(jwk, "use");
    if (use && *use != "sig") continue;  // an encryption key published beside the signing keys
    const auto type = string_member(jwk, "kty");
    std::variant<Key, std::string> key = std::string("unsupported kty " + type.value_or("(none)"));
    if (type == "RSA") key = rsa_jwk(jwk);
    if (type == "EC") key = ec_jwk(jwk);
    if (auto* error = std::get_if<std::string>(&key)) return where + *error;
    auto converted = to_public_key(std::get<Key>(key).get(), string_member(jwk, "kid").value_or(""));
    if (auto* error = std::get_if<std::string>(&converted)) return where + *error;
    PublicKey& public_key = std::get<PublicKey>(converted);
    if (const auto alg = string_member(jwk, "alg"); alg && *alg != algorithm_name(public_key.algorithm)) {
      return where + "\"alg\" " + *alg + " does not fit a key that verifies " +
             std::string(algorithm_name(public_key.algorithm));
    }
    keys.push_back(std::move(public_key));
  }
  if (keys.empty()) return std::string("JWKS holds no signing key");
  return keys;
}

// The file's contents, or nullopt with `error` set.
std::optional<std::string> read_small_file(const std::string& path, std::string& error) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    error = "cannot read it";
    return std::nullopt;
  }
  if (!S_ISREG(info.st_mode)) {
    error = "not a regular file";
    return std::nullopt;
  }
  if (static_cast<std::size_t>(info.st_size) > kMaxKeyFileBytes) {
    error = "larger than 1 MiB";
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream contents;
  if (in) contents << in.rdbuf();
  if (!in || in.bad()) {
    error = "cannot read it";
    return std::nullopt;
  }
  return contents.str();
}

}  // namespace

std::string_view algorithm_name(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kHs256:
      return "HS256";
    case Algorithm::kRs256:
      return "RS256";
    case Algorithm::kEs256:
      return "ES256";
  }
  return "?";
}

std::optional<Algorithm> algorithm_from_name(std::string_view name) {
  if (name == "HS256") return Algorithm::kHs256;
  if (name == "RS256") return Algorithm::kRs256;
  if (name == "ES256") return Algorithm::kEs256;
  return std::nullopt;
}

std::variant<std::vector<PublicKey>, std::string> parse_public_keys(std::string_view text) {
  const std::string_view trimmed = trim(text);
  if (!trimmed.empty() && trimmed.front() == '{') return parse_jwks(trimmed);
  return parse_pem(text);
}

std::optional<std::string> parse_hmac_secret(std::string_view contents, std::string& error) {
  const auto end = contents.find_last_not_of(" \t\r\n");
  const std::string_view secret =
      end == std::string_view::npos ? std::string_view() : contents.substr(0, end + 1);
  if (secret.size() < kMinHmacSecretBytes) {
    error = "the secret is " + std::to_string(secret.size()) +
            " bytes; HS256 needs at least 32 (e.g. openssl rand -base64 48)";
    return std::nullopt;
  }
  return std::string(secret);
}

std::variant<KeySet, std::string> load_key_set(const KeyFiles& files) {
  if (files.hmac_secret_file.empty() && files.public_keys_file.empty()) {
    return std::string("no key file: set --auth-hmac-secret-file or --auth-public-keys");
  }
  KeySet keys;
  std::string error;
  if (!files.hmac_secret_file.empty()) {
    const auto contents = read_small_file(files.hmac_secret_file, error);
    if (contents) keys.hmac_secret = parse_hmac_secret(*contents, error);
    if (!keys.hmac_secret) return files.hmac_secret_file + ": " + error;
  }
  if (!files.public_keys_file.empty()) {
    const auto contents = read_small_file(files.public_keys_file, error);
    if (!contents) return files.public_keys_file + ": " + error;
    auto parsed = parse_public_keys(*contents);
    if (auto* parse_error = std::get_if<std::string>(&parsed))
      return files.public_keys_file + ": " + *parse_error;
    keys.public_keys = std::move(std::get<std::vector<PublicKey>>(parsed));
  }
  return keys;
}

}  // namespace ovalstream::auth
