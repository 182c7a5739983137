#pragma once
// What access control reports, and its Prometheus metrics (shared by the aggregator and `recorder serve`):
//   ovalstream_auth_failures_total{reason}     requests refused: a token failure (token_verifier.hpp's
//                                              reasons), "forbidden" (a valid token that does not cover
//                                              the competition, or lacks the scope), "origin" (not in
//                                              --allowed-origins), and per service more (the recorder's
//                                              "content_type")
//   ovalstream_auth_key_reloads_total{outcome} key reloads: "reloaded" or "failed" (the old keys stay)
// No label names a token, a subject or a competition: cardinality stays fixed.
// Thread safety: every member may be called from any thread.

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace ovalstream::auth {

class AuthObserver {
 public:
  virtual ~AuthObserver() = default;
  virtual void refused(std::string_view reason) = 0;
  virtual void keys_reloaded(bool ok) = 0;
};

class AuthMetrics final : public AuthObserver {
 public:
  // Every reason is exposed from the start (at 0), so an alert on a rate sees it before its first failure.
  AuthMetrics(prometheus::Registry& registry, const std::vector<std::string>& extra_reasons = {});

  void refused(std::string_view reason) override;
  void keys_reloaded(bool ok) override;

 private:
  prometheus::Family<prometheus::Counter>& failures_;
  prometheus::Family<prometheus::Counter>& reloads_;
  prometheus::Counter& reloaded_;
  prometheus::Counter& reload_failed_;
  std::map<std::string, prometheus::Counter*, std::less<>> by_reason_;  // fixed after construction
};

}  // namespace ovalstream::auth
