#include "ovalstream/auth/verified_tokens.hpp"

#include <openssl/evp.h>

#include <cstring>

namespace ovalstream::auth {

std::size_t VerifiedTokens::DigestHash::operator()(const Digest& digest) const noexcept {
  std::size_t hash = 0;
  std::memcpy(&hash, digest.data(), sizeof hash);  // a cryptographic digest: any 8 bytes are uniform
  return hash;
}

Verification VerifiedTokens::verify(const std::shared_ptr<const KeySet>& keys, std::string_view token,
                                    const VerifyOptions& options, double now_seconds) {
  if (token.empty() || token.size() > options.max_token_bytes) {
    return verify_token(*keys, token, options, now_seconds);
  }
  Digest digest{};
  unsigned int digest_size = 0;
  const bool hashed =
      EVP_Digest(token.data(), token.size(), digest.data(), &digest_size, EVP_sha256(), nullptr) == 1;
  if (hashed) {
    runtime::MutexLock lock(mutex_);
    if (keys_ != keys) {
      known_.clear();
      keys_ = keys;
    }
    if (const auto found = known_.find(digest); found != known_.end()) {
      const Claims& claims = found->second;
      const double skew = static_cast<double>(options.clock_skew_seconds);
      if (now_seconds >= claims.expires_at + skew) {
        known_.erase(found);
        return Failure::kExpired;
      }
      if (claims.not_before && now_seconds < *claims.not_before - skew) return Failure::kNotYetValid;
      return claims;
    }
  }
  Verification verified = verify_token(*keys, token, options, now_seconds);
  if (hashed && std::holds_alternative<Claims>(verified)) {
    runtime::MutexLock lock(mutex_);
    if (keys_ == keys) {
      if (known_.size() >= capacity_) {
        const double skew = static_cast<double>(options.clock_skew_seconds);
        std::erase_if(known_,
                      [&](const auto& entry) { return now_seconds >= entry.second.expires_at + skew; });
        if (known_.size() >= capacity_) known_.clear();
      }
      known_.emplace(digest, std::get<Claims>(verified));
    }
  }
  return verified;
}

std::size_t VerifiedTokens::size() const {
  runtime::MutexLock lock(mutex_);
  return known_.size();
}

}  // namespace ovalstream::auth
