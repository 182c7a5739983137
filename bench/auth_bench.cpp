// What access control costs per request (docs/security.md, "Access control"): verify_token for each
// algorithm, a forged token refused (HS256 with the RSA public key as secret), and a malformed one refused
// before any cryptography. A websocket pays it once, at the upgrade; a plain GET on every request.
//   build/bench/auth_bench [--benchmark_min_time=...]
#include <benchmark/benchmark.h>

#include <cstdlib>

#include "ovalstream/auth/key_set.hpp"
#include "ovalstream/auth/token_verifier.hpp"
#include "ovalstream/auth/verified_tokens.hpp"
#include "support/token_minter.hpp"

namespace {

using namespace ovalstream;

struct Fixture {
  testing::KeyPair rsa = testing::make_rsa_key_pair(2048);
  testing::KeyPair ec = testing::make_ec_key_pair();
  auth::KeySet keys;
  std::string claims =
      testing::competition_claims(R"(["30913459-50b1-4a5d-8f69-9fba6bb4b7d0","c2","c3"])", 3600);

  Fixture() {
    keys.hmac_secret = std::string(testing::kTestHmacSecret);
    keys.public_keys =
        std::get<std::vector<auth::PublicKey>>(auth::parse_public_keys(rsa.public_pem + ec.public_pem));
  }
};

Fixture& fixture() {
  static Fixture instance;
  return instance;
}

void verify(benchmark::State& state, const std::string& token, bool accepted) {
  const double now = static_cast<double>(testing::unix_now());
  for (auto _ : state) {
    auto result = auth::verify_token(fixture().keys, token, {}, now);
    if (std::holds_alternative<auth::Claims>(result) != accepted) {
      state.SkipWithError("unexpected verdict");
      break;
    }
    benchmark::DoNotOptimize(result);
  }
}

void BM_VerifyHs256(benchmark::State& state) {
  verify(state, testing::mint_token("HS256", testing::kTestHmacSecret, fixture().claims), true);
}
void BM_VerifyRs256(benchmark::State& state) {
  verify(state, testing::mint_token("RS256", fixture().rsa.private_pem, fixture().claims), true);
}
void BM_VerifyEs256(benchmark::State& state) {
  verify(state, testing::mint_token("ES256", fixture().ec.private_pem, fixture().claims), true);
}
// The same RS256 token again (a page's second socket, a reconnect): remembered, no signature check.
void BM_VerifyRs256Remembered(benchmark::State& state) {
  const std::string token = testing::mint_token("RS256", fixture().rsa.private_pem, fixture().claims);
  const auto keys = std::make_shared<const auth::KeySet>(fixture().keys);
  auth::VerifiedTokens verified;
  const double now = static_cast<double>(testing::unix_now());
  for (auto _ : state) {
    auto result = verified.verify(keys, token, {}, now);
    if (!std::holds_alternative<auth::Claims>(result)) {
      state.SkipWithError("refused");
      break;
    }
    benchmark::DoNotOptimize(result);
  }
}
void BM_RefuseAlgorithmConfusion(benchmark::State& state) {
  verify(state, testing::mint_token("HS256", fixture().rsa.public_pem, fixture().claims), false);
}
void BM_RefuseMalformed(benchmark::State& state) {
  verify(state, "not.a-token", false);
}

BENCHMARK(BM_VerifyHs256);
BENCHMARK(BM_VerifyRs256);
BENCHMARK(BM_VerifyEs256);
BENCHMARK(BM_VerifyRs256Remembered);
BENCHMARK(BM_RefuseAlgorithmConfusion);
BENCHMARK(BM_RefuseMalformed);

}  // namespace

BENCHMARK_MAIN();
