#pragma once
// verify_token() with a memory of the tokens that passed. libjwt reads its PEM key anew for every check,
// which OpenSSL 3 makes cost about 0.3 ms (RS256 and ES256; HS256 about 7 us): a page opens two sockets with
// one token, a drained replica's clients all reconnect with theirs, and graphics machines share one. A token
// seen again, while the same keys are in force, skips the signature check; its exp and nbf are checked every
// time, against the claims it was verified with. Only verified tokens are remembered (keyed by their
// SHA-256, so a remembered token costs 32 bytes plus its claims), at most `capacity` of them: when full the
// expired ones go, and if none did, all of them (a bound, not an LRU: past it tokens are checked in full).
// A key reload (a different KeySet) forgets everything.
// Thread safety: verify() may be called concurrently.

#include <array>
#include <cstddef>
#include <memory>
#include <string_view>
#include <unordered_map>

#include "ovalstream/auth/key_set.hpp"
#include "ovalstream/auth/token_verifier.hpp"
#include "ovalstream/runtime/mutex.hpp"

namespace ovalstream::auth {

class VerifiedTokens {
 public:
  explicit VerifiedTokens(std::size_t capacity = 4096) : capacity_(capacity) {}

  [[nodiscard]] Verification verify(const std::shared_ptr<const KeySet>& keys, std::string_view token,
                                    const VerifyOptions& options, double now_seconds);
  std::size_t size() const;

 private:
  using Digest = std::array<unsigned char, 32>;
  struct DigestHash {
    std::size_t operator()(const Digest& digest) const noexcept;
  };

  const std::size_t capacity_;
  mutable runtime::Mutex mutex_;
  // What the remembered tokens were verified with.
  std::shared_ptr<const KeySet> keys_ GUARDED_BY(mutex_);
  std::unordered_map<Digest, Claims, DigestHash> known_ GUARDED_BY(mutex_);
};

}  // namespace ovalstream::auth
