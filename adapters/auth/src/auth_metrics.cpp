#include "ovalstream/auth/auth_metrics.hpp"

#include "ovalstream/auth/token_verifier.hpp"

namespace ovalstream::auth {

AuthMetrics::AuthMetrics(prometheus::Registry& registry, const std::vector<std::string>& extra_reasons)
    : failures_(prometheus::BuildCounter()
                    .Name("ovalstream_auth_failures_total")
                    .Help("Requests refused by access control, per reason (a token failure, forbidden: the "
                          "token does not cover it, origin: not in --allowed-origins)")
                    .Register(registry)),
      reloads_(
          prometheus::BuildCounter()
              .Name("ovalstream_auth_key_reloads_total")
              .Help("Reloads of the key files (SIGHUP or a changed file), per outcome; after a failed one "
                    "the previous keys stay in force")
              .Register(registry)),
      reloaded_(reloads_.Add({{"outcome", "reloaded"}})),
      reload_failed_(reloads_.Add({{"outcome", "failed"}})) {
  std::vector<std::string> reasons{"forbidden", "origin"};
  for (const Failure failure : kAllFailures) reasons.emplace_back(failure_reason(failure));
  reasons.insert(reasons.end(), extra_reasons.begin(), extra_reasons.end());
  for (const std::string& reason : reasons) by_reason_[reason] = &failures_.Add({{"reason", reason}});
}

void AuthMetrics::refused(std::string_view reason) {
  const auto found = by_reason_.find(reason);
  if (found != by_reason_.end()) found->second->Increment();
}

void AuthMetrics::keys_reloaded(bool ok) {
  (ok ? reloaded_ : reload_failed_).Increment();
}

}  // namespace ovalstream::auth
