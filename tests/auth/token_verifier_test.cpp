// Claim checking and the signature check's refusals: every token that must not pass is refused, with its
// reason (the metric label), and the ones that must pass do.
#include <gtest/gtest.h>

#include <string>

#include "ovalstream/auth/key_set.hpp"
#include "ovalstream/auth/token_verifier.hpp"
#include "support/token_minter.hpp"

namespace ovalstream::auth {
namespace {

using testing::competition_claims;
using testing::kTestHmacSecret;
using testing::mint_token;
using testing::unix_now;

class TokenVerifierTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = new testing::KeyPair(testing::make_rsa_key_pair());
    ec_ = new testing::KeyPair(testing::make_ec_key_pair());
    other_rsa_ = new testing::KeyPair(testing::make_rsa_key_pair());
  }
  static void TearDownTestSuite() {
    delete rsa_;
    delete ec_;
    delete other_rsa_;
  }

  // Every kind of key configured: the HMAC secret and both public keys.
  static KeySet all_keys() {
    KeySet keys;
    keys.hmac_secret = std::string(kTestHmacSecret);
    auto parsed = parse_public_keys(rsa_->public_pem + ec_->public_pem);
    keys.public_keys = std::get<std::vector<PublicKey>>(parsed);
    return keys;
  }
  static KeySet public_keys_only() {
    KeySet keys = all_keys();
    keys.hmac_secret.reset();
    return keys;
  }

  static Verification verify(const KeySet& keys, const std::string& token, VerifyOptions options = {}) {
    return verify_token(keys, token, options, static_cast<double>(unix_now()));
  }
  static Failure failure_of(const Verification& verification) {
    EXPECT_TRUE(std::holds_alternative<Failure>(verification)) << "the token was accepted";
    return std::holds_alternative<Failure>(verification) ? std::get<Failure>(verification)
                                                         : Failure::kMissing;
  }

  static testing::KeyPair* rsa_;
  static testing::KeyPair* ec_;
  static testing::KeyPair* other_rsa_;
};
testing::KeyPair* TokenVerifierTest::rsa_ = nullptr;
testing::KeyPair* TokenVerifierTest::ec_ = nullptr;
testing::KeyPair* TokenVerifierTest::other_rsa_ = nullptr;

TEST_F(TokenVerifierTest, AcceptsEachAlgorithmWithItsKeyAndReadsTheClaims) {
  const std::string claims = competition_claims(R"(["c1","C2"])");
  for (const auto& [alg, key] : {std::pair<std::string, std::string>{"HS256", std::string(kTestHmacSecret)},
                                 {"RS256", rsa_->private_pem},
                                 {"ES256", ec_->private_pem}}) {
    const Verification result = verify(all_keys(), mint_token(alg, key, claims));
    ASSERT_TRUE(std::holds_alternative<Claims>(result))
        << alg << ": " << failure_reason(std::get<Failure>(result));
    const Claims& read = std::get<Claims>(result);
    EXPECT_TRUE(read.competitions.covers("c1")) << alg;
    EXPECT_TRUE(read.competitions.covers("c2")) << alg << ": ids match ASCII case-insensitively";
    EXPECT_FALSE(read.competitions.covers("c3")) << alg;
    EXPECT_FALSE(read.competitions.covers_everything()) << alg;
  }
}

TEST_F(TokenVerifierTest, CompetitionsStarCoversEverythingAndAbsentCoversNothing) {
  auto star = verify(all_keys(), mint_token("HS256", kTestHmacSecret, competition_claims(R"("*")")));
  ASSERT_TRUE(std::holds_alternative<Claims>(star));
  EXPECT_TRUE(std::get<Claims>(star).competitions.covers("anything"));
  auto star_in_list =
      verify(all_keys(), mint_token("HS256", kTestHmacSecret, competition_claims(R"(["a","*"])")));
  ASSERT_TRUE(std::holds_alternative<Claims>(star_in_list));
  EXPECT_TRUE(std::get<Claims>(star_in_list).competitions.covers_everything());
  const std::string exp_only = R"({"exp":)" + std::to_string(unix_now() + 60) + "}";
  auto none = verify(all_keys(), mint_token("HS256", kTestHmacSecret, exp_only));
  ASSERT_TRUE(std::holds_alternative<Claims>(none));
  EXPECT_FALSE(std::get<Claims>(none).competitions.covers("a"));
}

TEST_F(TokenVerifierTest, ScopeIsReadAsASpaceSeparatedStringOrAnArray) {
  const std::string exp = std::to_string(unix_now() + 60);
  auto spaced =
      verify(all_keys(), mint_token("HS256", kTestHmacSecret,
                                    R"({"exp":)" + exp + R"(,"scope":"recorder:read  recorder:write"})"));
  ASSERT_TRUE(std::holds_alternative<Claims>(spaced));
  EXPECT_TRUE(std::get<Claims>(spaced).has_scope("recorder:read"));
  EXPECT_TRUE(std::get<Claims>(spaced).has_scope("recorder:write"));
  auto listed = verify(all_keys(), mint_token("HS256", kTestHmacSecret,
                                              R"({"exp":)" + exp + R"(,"scope":["recorder:read"]})"));
  ASSERT_TRUE(std::holds_alternative<Claims>(listed));
  EXPECT_TRUE(std::get<Claims>(listed).has_scope("recorder:read"));
  EXPECT_FALSE(std::get<Claims>(listed).has_scope("recorder:write"));
  EXPECT_FALSE(std::get<Claims>(listed).has_scope("recorder"));
}

TEST_F(TokenVerifierTest, ExpiredTokensAreRefusedAfterTheSkew) {
  const std::int64_t now = unix_now();
  const auto token_expiring = [&](std::int64_t exp) {
    return mint_token("HS256", kTestHmacSecret, R"({"exp":)" + std::to_string(exp) + "}");
  };
  EXPECT_EQ(failure_of(verify(all_keys(), token_expiring(now - 31))), Failure::kExpired);
  EXPECT_TRUE(std::holds_alternative<Claims>(verify(all_keys(), token_expiring(now - 20))))
      << "within the 30 s default skew";
  VerifyOptions strict;
  strict.clock_skew_seconds = 0;
  EXPECT_EQ(failure_of(verify(all_keys(), token_expiring(now - 1), strict)), Failure::kExpired);
  EXPECT_EQ(failure_of(verify(all_keys(), token_expiring(now), strict)), Failure::kExpired)
      << "exp is exclusive";
}

TEST_F(TokenVerifierTest, NotYetValidTokensAreRefusedBeforeTheSkew) {
  const std::int64_t now = unix_now();
  const auto token_from = [&](std::int64_t nbf) {
    return mint_token("HS256", kTestHmacSecret,
                      R"({"exp":)" + std::to_string(now + 600) + R"(,"nbf":)" + std::to_string(nbf) + "}");
  };
  EXPECT_EQ(failure_of(verify(all_keys(), token_from(now + 120))), Failure::kNotYetValid);
  EXPECT_TRUE(std::holds_alternative<Claims>(verify(all_keys(), token_from(now + 20)))) << "within the skew";
}

TEST_F(TokenVerifierTest, ExpIsRequiredAndClaimsMustHaveTheirTypes) {
  const std::string exp = std::to_string(unix_now() + 60);
  EXPECT_EQ(failure_of(verify(all_keys(), mint_token("HS256", kTestHmacSecret, R"({"competitions":"*"})"))),
            Failure::kClaims);
  EXPECT_EQ(failure_of(verify(all_keys(), mint_token("HS256", kTestHmacSecret, R"({"exp":"soon"})"))),
            Failure::kClaims);
  EXPECT_EQ(failure_of(verify(all_keys(), mint_token("HS256", kTestHmacSecret,
                                                     R"({"exp":)" + exp + R"(,"competitions":[1]})"))),
            Failure::kClaims);
  EXPECT_EQ(failure_of(verify(all_keys(), mint_token("HS256", kTestHmacSecret,
                                                     R"({"exp":)" + exp + R"(,"competitions":"c1"})"))),
            Failure::kClaims);
  EXPECT_EQ(failure_of(verify(all_keys(), mint_token("HS256", kTestHmacSecret,
                                                     R"({"exp":)" + exp + R"(,"scope":{"a":1}})"))),
            Failure::kClaims);
  EXPECT_EQ(failure_of(verify(all_keys(),
                              mint_token("HS256", kTestHmacSecret, R"({"exp":)" + exp + R"(,"nbf":"now"})"))),
            Failure::kClaims);
}

TEST_F(TokenVerifierTest, AudienceIsCheckedWhenConfigured) {
  const std::string exp = std::to_string(unix_now() + 60);
  VerifyOptions options;
  options.audience = "live.example.org";
  const auto with_aud = [&](const std::string& aud) {
    return mint_token("HS256", kTestHmacSecret,
                      R"({"exp":)" + exp + (aud.empty() ? "" : R"(,"aud":)" + aud) + "}");
  };
  EXPECT_TRUE(std::holds_alternative<Claims>(verify(all_keys(), with_aud(R"("live.example.org")"), options)));
  EXPECT_TRUE(std::holds_alternative<Claims>(
      verify(all_keys(), with_aud(R"(["other","live.example.org"])"), options)));
  EXPECT_EQ(failure_of(verify(all_keys(), with_aud(R"("other.example.org")"), options)), Failure::kAudience);
  EXPECT_EQ(failure_of(verify(all_keys(), with_aud(R"(["other"])"), options)), Failure::kAudience);
  EXPECT_EQ(failure_of(verify(all_keys(), with_aud(""), options)), Failure::kAudience) << "aud missing";
  EXPECT_TRUE(std::holds_alternative<Claims>(verify(all_keys(), with_aud(R"("anyone")"))))
      << "no --auth-audience: aud is not checked";
}

TEST_F(TokenVerifierTest, WrongKeysAreRefused) {
  const std::string claims = competition_claims(R"("*")");
  EXPECT_EQ(failure_of(verify(
                all_keys(), mint_token("HS256", "another-secret-0123456789abcdefghijklmnopqrstuvw", claims))),
            Failure::kSignature);
  EXPECT_EQ(failure_of(verify(all_keys(), mint_token("RS256", other_rsa_->private_pem, claims))),
            Failure::kSignature);
  const testing::KeyPair other_ec = testing::make_ec_key_pair();
  EXPECT_EQ(failure_of(verify(all_keys(), mint_token("ES256", other_ec.private_pem, claims))),
            Failure::kSignature);
}

TEST_F(TokenVerifierTest, AlgNoneIsRefused) {
  const std::string unsigned_token = mint_token("none", "", competition_claims(R"("*")"));
  ASSERT_EQ(unsigned_token.back(), '.') << "an unsigned JWS has an empty signature";
  EXPECT_EQ(failure_of(verify(all_keys(), unsigned_token)), Failure::kAlgorithm);
  // With a signature part added (libjwt, given no key, would accept it unverified): refused by its alg.
  EXPECT_EQ(failure_of(verify(all_keys(), unsigned_token + "AAAA")), Failure::kAlgorithm);
  // "None", a missing alg: not an accepted algorithm either.
  EXPECT_EQ(
      failure_of(verify(all_keys(), testing::with_header(unsigned_token + "AAAA", R"({"alg":"None"})"))),
      Failure::kAlgorithm);
  EXPECT_EQ(failure_of(verify(all_keys(), testing::with_header(unsigned_token + "AAAA", R"({"typ":"JWT"})"))),
            Failure::kAlgorithm);
  // The HS256 signature of a token re-labelled "none": refused, never accepted unverified.
  const std::string signed_token = mint_token("HS256", kTestHmacSecret, competition_claims(R"("*")"));
  EXPECT_EQ(failure_of(verify(all_keys(), testing::with_header(signed_token, R"({"alg":"none"})"))),
            Failure::kAlgorithm);
}

TEST_F(TokenVerifierTest, AlgorithmConfusionWithThePublicKeyAsHmacSecretIsRefused) {
  const std::string claims = competition_claims(R"("*")");
  // The classic forgery: HS256 "signed" with the server's RSA public key (which is public) as the secret.
  const std::string forged = mint_token("HS256", rsa_->public_pem, claims);
  // Where only public keys are configured there is no HMAC key at all: refused by its algorithm.
  EXPECT_EQ(failure_of(verify(public_keys_only(), forged)), Failure::kAlgorithm);
  // Where an HMAC secret exists too, only that secret is tried: the signature does not verify.
  EXPECT_EQ(failure_of(verify(all_keys(), forged)), Failure::kSignature);
  // And the other way round: an RS256 token is never checked against the HMAC secret.
  KeySet hmac_only;
  hmac_only.hmac_secret = std::string(kTestHmacSecret);
  EXPECT_EQ(failure_of(verify(hmac_only, mint_token("RS256", rsa_->private_pem, claims))),
            Failure::kAlgorithm);
  // An ES256 header over an RS256 signature: checked against the EC keys only.
  EXPECT_EQ(failure_of(verify(all_keys(), testing::with_header(mint_token("RS256", rsa_->private_pem, claims),
                                                               R"({"alg":"ES256","typ":"JWT"})"))),
            Failure::kSignature);
}

TEST_F(TokenVerifierTest, OtherAlgorithmsAreRefused) {
  const std::string claims = competition_claims(R"("*")");
  EXPECT_EQ(
      failure_of(verify(
          all_keys(),
          mint_token("HS512", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", claims))),
      Failure::kAlgorithm);
  EXPECT_EQ(failure_of(verify(all_keys(), mint_token("RS512", rsa_->private_pem, claims))),
            Failure::kAlgorithm);
}

TEST_F(TokenVerifierTest, TruncatedAndMangledTokensAreRefused) {
  const std::string token = mint_token("RS256", rsa_->private_pem, competition_claims(R"("*")"));
  for (std::size_t cut :
       {std::size_t{1}, std::size_t{5}, std::size_t{40}, token.size() - token.rfind('.') - 1}) {
    const std::string truncated = token.substr(0, token.size() - cut);
    EXPECT_TRUE(std::holds_alternative<Failure>(verify(all_keys(), truncated))) << "cut " << cut;
  }
  EXPECT_EQ(failure_of(verify(all_keys(), token.substr(0, token.find('.')))), Failure::kMalformed);
  EXPECT_EQ(failure_of(verify(all_keys(), token.substr(0, token.rfind('.')))), Failure::kMalformed);
  EXPECT_EQ(failure_of(verify(all_keys(), token + ".x")), Failure::kMalformed) << "four parts";
  EXPECT_EQ(failure_of(verify(all_keys(), "a.b.c")), Failure::kMalformed);
  EXPECT_EQ(failure_of(verify(all_keys(), "")), Failure::kMissing);
  std::string with_nul = token;
  with_nul.insert(with_nul.find('.') + 3, 1, '\0');
  EXPECT_EQ(failure_of(verify(all_keys(), with_nul)), Failure::kMalformed) << "an embedded NUL";
  // One payload character changed: the signature no longer matches.
  std::string tampered = token;
  const std::size_t at = token.find('.') + 5;
  tampered[at] = tampered[at] == 'A' ? 'B' : 'A';
  EXPECT_TRUE(std::holds_alternative<Failure>(verify(all_keys(), tampered)));
}

TEST_F(TokenVerifierTest, OversizedTokensAreRefusedUnread) {
  std::string many;
  for (int i = 0; i < 400; ++i)
    many += std::string(i ? "," : "") + "\"competition-" + std::to_string(i) + "\"";
  const std::string big = mint_token("HS256", kTestHmacSecret, competition_claims("[" + many + "]"));
  ASSERT_GT(big.size(), VerifyOptions{}.max_token_bytes);
  EXPECT_EQ(failure_of(verify(all_keys(), big)), Failure::kMalformed);
  VerifyOptions roomy;
  roomy.max_token_bytes = big.size();
  EXPECT_TRUE(std::holds_alternative<Claims>(verify(all_keys(), big, roomy)))
      << "the bound is what refused it";
}

TEST_F(TokenVerifierTest, KidSelectsTheKeyAndAnUnknownKidIsRefused) {
  auto jwks = parse_public_keys(R"({"keys":[)" + testing::jwk_of(rsa_->public_pem, "k1") + "," +
                                testing::jwk_of(other_rsa_->public_pem, "k2") + "]}");
  ASSERT_TRUE(std::holds_alternative<std::vector<PublicKey>>(jwks)) << std::get<std::string>(jwks);
  KeySet keys;
  keys.public_keys = std::get<std::vector<PublicKey>>(jwks);
  const std::string claims = competition_claims(R"("*")");
  EXPECT_TRUE(std::holds_alternative<Claims>(
      verify(keys, mint_token("RS256", rsa_->private_pem, claims, R"({"kid":"k1"})"))));
  EXPECT_TRUE(std::holds_alternative<Claims>(
      verify(keys, mint_token("RS256", other_rsa_->private_pem, claims, R"({"kid":"k2"})"))));
  EXPECT_TRUE(std::holds_alternative<Claims>(verify(keys, mint_token("RS256", rsa_->private_pem, claims))))
      << "no kid: every key of the algorithm is tried";
  EXPECT_EQ(failure_of(verify(keys, mint_token("RS256", rsa_->private_pem, claims, R"({"kid":"k2"})"))),
            Failure::kSignature)
      << "the kid names the other key";
  EXPECT_EQ(failure_of(verify(keys, mint_token("RS256", rsa_->private_pem, claims, R"({"kid":"k9"})"))),
            Failure::kSignature);
}

TEST_F(TokenVerifierTest, FailureReasonsAreDistinctLabels) {
  std::set<std::string_view> labels;
  for (const Failure failure : kAllFailures) labels.insert(failure_reason(failure));
  EXPECT_EQ(labels.size(), std::size(kAllFailures));
}

}  // namespace
}  // namespace ovalstream::auth
