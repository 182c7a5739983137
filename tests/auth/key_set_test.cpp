// Reading keys: PEM (public keys, PKCS#1, several in one file), JWKS (RSA and P-256), and the refusals that
// keep a bad key file from ever being used (private keys, short secrets, weak or unsupported keys).
#include <gtest/gtest.h>

#include <filesystem>

#include "ovalstream/auth/key_set.hpp"
#include "support/child_process.hpp"
#include "support/token_minter.hpp"

namespace ovalstream::auth {
namespace {

std::string error_of(const std::variant<std::vector<PublicKey>, std::string>& parsed) {
  return std::holds_alternative<std::string>(parsed) ? std::get<std::string>(parsed) : "";
}

TEST(KeySetTest, PemFileWithSeveralKeysBindsEachToItsAlgorithm) {
  const auto rsa = testing::make_rsa_key_pair();
  const auto ec = testing::make_ec_key_pair();
  auto parsed = parse_public_keys(rsa.public_pem + "\n" + ec.public_pem);
  ASSERT_TRUE(std::holds_alternative<std::vector<PublicKey>>(parsed)) << error_of(parsed);
  const auto& keys = std::get<std::vector<PublicKey>>(parsed);
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].algorithm, Algorithm::kRs256);
  EXPECT_EQ(keys[1].algorithm, Algorithm::kEs256);
}

TEST(KeySetTest, JwksWithRsaAndEcKeys) {
  const auto rsa = testing::make_rsa_key_pair();
  const auto ec = testing::make_ec_key_pair();
  auto parsed = parse_public_keys(R"({"keys":[)" + testing::jwk_of(rsa.public_pem, "r1") + "," +
                                  testing::jwk_of(ec.public_pem, "e1") +
                                  R"(,{"kty":"RSA","use":"enc","n":"AQAB","e":"AQAB"}]})");
  ASSERT_TRUE(std::holds_alternative<std::vector<PublicKey>>(parsed)) << error_of(parsed);
  const auto& keys = std::get<std::vector<PublicKey>>(parsed);
  ASSERT_EQ(keys.size(), 2u) << "the encryption key is left out";
  EXPECT_EQ(keys[0].key_id, "r1");
  EXPECT_EQ(keys[0].algorithm, Algorithm::kRs256);
  EXPECT_EQ(keys[1].key_id, "e1");
  EXPECT_EQ(keys[1].algorithm, Algorithm::kEs256);
  // The JWK and the PEM describe the same key: a token signed by the private key verifies against both.
  EXPECT_EQ(keys[0].pem, std::get<std::vector<PublicKey>>(parse_public_keys(rsa.public_pem))[0].pem);
}

TEST(KeySetTest, RefusesPrivateKeysWeakKeysAndUnsupportedCurves) {
  const auto rsa = testing::make_rsa_key_pair();
  EXPECT_NE(error_of(parse_public_keys(rsa.private_pem)).find("private key"), std::string::npos);
  EXPECT_NE(error_of(parse_public_keys(testing::make_rsa_key_pair(1024).public_pem)).find("1024 bits"),
            std::string::npos);
  const auto p384 = testing::make_ec_key_pair("P-384");
  EXPECT_NE(error_of(parse_public_keys(p384.public_pem)).find("P-256"), std::string::npos);
  EXPECT_NE(error_of(parse_public_keys("")).find("no PEM"), std::string::npos);
  EXPECT_NE(error_of(parse_public_keys("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"))
                .find("decode"),
            std::string::npos);
}

TEST(KeySetTest, RefusesBadJwks) {
  EXPECT_NE(error_of(parse_public_keys("{")).find("JSON"), std::string::npos);
  EXPECT_NE(error_of(parse_public_keys(R"({"keys":{}})")).find("keys"), std::string::npos);
  EXPECT_NE(error_of(parse_public_keys(R"({"keys":[]})")).find("no signing key"), std::string::npos);
  EXPECT_NE(error_of(parse_public_keys(R"({"keys":[{"kty":"oct","k":"c2VjcmV0"}]})")).find("kty oct"),
            std::string::npos);
  EXPECT_NE(
      error_of(parse_public_keys(R"({"keys":[{"kty":"EC","crv":"P-384","x":"AA","y":"AA"}]})")).find("P-384"),
      std::string::npos);
  // A point that is not on the curve.
  const std::string zeros = testing::base64url_encode(std::string(32, '\x01'));
  EXPECT_NE(error_of(parse_public_keys(R"({"keys":[{"kty":"EC","crv":"P-256","x":")" + zeros + R"(","y":")" +
                                       zeros + R"("}]})"))
                .find("not on the curve"),
            std::string::npos);
  // "alg" disagreeing with the key.
  const auto rsa = testing::make_rsa_key_pair();
  std::string jwk = testing::jwk_of(rsa.public_pem, "k");
  jwk.insert(1, R"("alg":"ES256",)");
  EXPECT_NE(error_of(parse_public_keys(R"({"keys":[)" + jwk + "]}")).find("does not fit"), std::string::npos);
}

TEST(KeySetTest, HmacSecretIsTrimmedAndAtLeast32Bytes) {
  std::string error;
  const auto ok = parse_hmac_secret(std::string(testing::kTestHmacSecret) + "\n", error);
  ASSERT_TRUE(ok.has_value()) << error;
  EXPECT_EQ(*ok, testing::kTestHmacSecret);
  EXPECT_FALSE(parse_hmac_secret("too-short-secret\n", error).has_value());
  EXPECT_NE(error.find("at least 32"), std::string::npos);
  EXPECT_EQ(error.find("too-short"), std::string::npos) << "the secret is never echoed";
}

TEST(KeySetTest, LoadKeySetNamesTheFileAndNeverItsContents) {
  const std::string dir = testing::make_temp_dir("ovalstream-keys");
  const std::string secret_file = dir + "/secret";
  testing::write_file(secret_file, "short-secret-value");
  auto loaded = load_key_set({secret_file, ""});
  ASSERT_TRUE(std::holds_alternative<std::string>(loaded));
  EXPECT_NE(std::get<std::string>(loaded).find(secret_file), std::string::npos);
  EXPECT_EQ(std::get<std::string>(loaded).find("short-secret-value"), std::string::npos);

  EXPECT_TRUE(std::holds_alternative<std::string>(load_key_set({dir + "/missing", ""})));
  EXPECT_TRUE(std::holds_alternative<std::string>(load_key_set({"", ""})));
  EXPECT_TRUE(std::holds_alternative<std::string>(load_key_set({dir, ""}))) << "a directory";

  testing::write_file(secret_file, testing::kTestHmacSecret);
  const auto rsa = testing::make_rsa_key_pair();
  testing::write_file(dir + "/keys.pem", rsa.public_pem);
  auto both = load_key_set({secret_file, dir + "/keys.pem"});
  ASSERT_TRUE(std::holds_alternative<KeySet>(both)) << std::get<std::string>(both);
  EXPECT_TRUE(std::get<KeySet>(both).hmac_secret.has_value());
  EXPECT_EQ(std::get<KeySet>(both).public_keys.size(), 1u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ovalstream::auth
