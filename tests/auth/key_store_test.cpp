// Key rotation: a reload puts new keys in force, a failed one keeps the old keys, and reload_if_changed()
// reloads only when a file changed.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "ovalstream/auth/key_store.hpp"
#include "ovalstream/auth/token_verifier.hpp"
#include "support/child_process.hpp"
#include "support/token_minter.hpp"

namespace ovalstream::auth {
namespace {

bool accepts(const KeyStore& store, const std::string& token) {
  return std::holds_alternative<Claims>(
      verify_token(*store.current(), token, {}, static_cast<double>(testing::unix_now())));
}

TEST(KeyStoreTest, RotationByReloadAndByFileChange) {
  const std::string dir = testing::make_temp_dir("ovalstream-keystore");
  const std::string file = dir + "/keys.pem";
  const auto old_key = testing::make_rsa_key_pair();
  const auto new_key = testing::make_rsa_key_pair();
  testing::write_file(file, old_key.public_pem);
  auto opened = KeyStore::open({"", file});
  ASSERT_TRUE(std::holds_alternative<std::shared_ptr<KeyStore>>(opened)) << std::get<std::string>(opened);
  KeyStore& store = *std::get<std::shared_ptr<KeyStore>>(opened);
  const std::string claims = testing::competition_claims(R"("*")");
  const std::string old_token = testing::mint_token("RS256", old_key.private_pem, claims);
  const std::string new_token = testing::mint_token("RS256", new_key.private_pem, claims);
  EXPECT_TRUE(accepts(store, old_token));
  EXPECT_FALSE(accepts(store, new_token));
  EXPECT_FALSE(store.reload_if_changed().reloaded) << "nothing changed";

  // The new key published: reload_if_changed() sees the file replaced.
  testing::write_file(file, new_key.public_pem);
  const auto changed = store.reload_if_changed();
  EXPECT_TRUE(changed.reloaded) << changed.error;
  EXPECT_TRUE(accepts(store, new_token));
  EXPECT_FALSE(accepts(store, old_token));

  // A broken file: the reload fails and the keys in force stay.
  const auto held = store.current();
  testing::write_file(file, "not a key");
  const auto broken = store.reload();
  EXPECT_FALSE(broken.reloaded);
  EXPECT_NE(broken.error.find(file), std::string::npos);
  EXPECT_EQ(store.current(), held);
  EXPECT_TRUE(accepts(store, new_token));
  EXPECT_FALSE(store.reload_if_changed().reloaded) << "the failed version is not retried until it changes";

  // Both keys during a rotation: one file with both.
  testing::write_file(file, old_key.public_pem + new_key.public_pem);
  EXPECT_TRUE(store.reload().reloaded);
  EXPECT_TRUE(accepts(store, old_token));
  EXPECT_TRUE(accepts(store, new_token));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ovalstream::auth

#include "ovalstream/auth/verified_tokens.hpp"

namespace ovalstream::auth {
namespace {

TEST(VerifiedTokensTest, RemembersVerifiedTokensUntilTheKeysChangeAndStillChecksExpiry) {
  const auto rsa = testing::make_rsa_key_pair();
  auto keys = std::make_shared<const KeySet>(
      KeySet{std::nullopt, std::get<std::vector<PublicKey>>(parse_public_keys(rsa.public_pem))});
  VerifiedTokens tokens(2);
  VerifyOptions options;
  options.clock_skew_seconds = 0;
  const double now = static_cast<double>(testing::unix_now());
  const std::string token =
      testing::mint_token("RS256", rsa.private_pem, testing::competition_claims(R"(["a"])", 60));
  ASSERT_TRUE(std::holds_alternative<Claims>(tokens.verify(keys, token, options, now)));
  EXPECT_EQ(tokens.size(), 1u);
  const auto again = tokens.verify(keys, token, options, now);
  ASSERT_TRUE(std::holds_alternative<Claims>(again));
  EXPECT_TRUE(std::get<Claims>(again).competitions.covers("a"));
  // Past exp: refused although remembered, and forgotten.
  EXPECT_EQ(std::get<Failure>(tokens.verify(keys, token, options, now + 61)), Failure::kExpired);
  EXPECT_EQ(tokens.size(), 0u);
  // Refused tokens are not remembered.
  EXPECT_TRUE(std::holds_alternative<Failure>(tokens.verify(keys, token + "x", options, now)));
  EXPECT_EQ(tokens.size(), 0u);
  // New keys: the token of the old key is checked again, and refused.
  ASSERT_TRUE(std::holds_alternative<Claims>(tokens.verify(keys, token, options, now)));
  const auto other = testing::make_rsa_key_pair();
  auto rotated = std::make_shared<const KeySet>(
      KeySet{std::nullopt, std::get<std::vector<PublicKey>>(parse_public_keys(other.public_pem))});
  EXPECT_EQ(std::get<Failure>(tokens.verify(rotated, token, options, now)), Failure::kSignature);
  // The bound: a third token over a capacity of two empties the memory first.
  for (int i = 0; i < 3; ++i) {
    const std::string each = testing::mint_token(
        "RS256", other.private_pem, testing::competition_claims("[\"c" + std::to_string(i) + "\"]", 60));
    ASSERT_TRUE(std::holds_alternative<Claims>(tokens.verify(rotated, each, options, now)));
  }
  EXPECT_LE(tokens.size(), 2u);
}

}  // namespace
}  // namespace ovalstream::auth
