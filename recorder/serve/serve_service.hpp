#pragma once
// `recorder serve`: the long-running recorder for Kubernetes. It records every competition continuously
// (one durable JetStream consumer on competition.>, files D/YYYY-MM-DD/<competitionId>.jsonl, the writer's
// no-loss/no-duplicate guarantee), serves the HTTP API of serve_api.hpp on --address, and /metrics,
// /healthz and /readyz on --metrics-address. SIGTERM/SIGINT: stop recording (everything written is
// acknowledged), cancel replays, exit 0.
// Thread safety: construct and run() on one thread; run() returns when the service stopped.

#include <chrono>
#include <memory>
#include <string>

#include "ovalstream/auth/auth_settings.hpp"
#include "ovalstream/hub/edge_flags.hpp"
#include "ovalstream/nats/settings.hpp"
#include "ovalstream/runtime/address.hpp"
#include "ovalstream/runtime/log.hpp"

namespace ovalstream::recorder {

struct ServeConfig {
  nats::NatsSettings nats;
  std::string directory = "recordings";
  runtime::ListenAddress address{"", 8090};
  runtime::ListenAddress metrics_address{"", 9091};
  std::string durable = "ovalstream-recorder";
  std::chrono::milliseconds ack_wait{30'000};
  std::string replay_stream = "VANTAGE_REPLAYS";
  bool allow_live_replay = false;
  std::int64_t max_replays = 4;
  std::int64_t max_downloads = 8;
  std::int64_t max_open_files = 16;
  hub::EdgeSettings edge;
  // Access control: --auth off is allowed only on a loopback --address (serve_command checks it); no
  // browser origin may send state-changing requests unless listed.
  auth::AuthSettings auth = [] {
    auth::AuthSettings settings;
    settings.allowed_origins.clear();
    return settings;
  }();
  bool debug = false;
};

class ServeService {
 public:
  ServeService(ServeConfig config, runtime::Logger logger);
  ~ServeService();
  ServeService(const ServeService&) = delete;
  ServeService& operator=(const ServeService&) = delete;

  // Runs until SIGTERM/SIGINT (0) or a failure a retry cannot fix (1). Throws for startup mistakes (an
  // address that cannot be bound, a directory that cannot be created).
  int run();

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace ovalstream::recorder
