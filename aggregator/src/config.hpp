#pragma once
// The aggregator's settings, from flags, OVALSTREAM_* and VANTAGE_* environment variables and the config
// file ($HOME/.aggregator.yaml or --config), in that order (names of the Go original's `aggregator start`
// where they exist).

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ovalstream/auth/auth_settings.hpp"
#include "ovalstream/hub/client_frame_flags.hpp"
#include "ovalstream/hub/edge_flags.hpp"
#include "ovalstream/nats/settings.hpp"
#include "ovalstream/runtime/address.hpp"

namespace ovalstream::aggregator {

struct Config {
  nats::NatsSettings nats;
  std::chrono::nanoseconds history = std::chrono::hours(24);
  std::chrono::nanoseconds idle_drop = std::chrono::hours(24);
  std::set<std::string> filter;
  std::int64_t max_competitions = 1000;
  std::chrono::nanoseconds resume_window = std::chrono::minutes(5);
  std::int64_t resume_window_bytes = 2 << 20;
  runtime::ListenAddress hub_address{"", 8080};
  std::string cert_file;
  std::string key_file;
  runtime::ListenAddress metrics_address{"", 9090};
  bool debug = false;
  std::int64_t client_queue_bytes = 8 << 20;
  std::int64_t max_connections = 0;
  // Fan-out lanes per competition; 0 = one per io thread (io_thread_count()).
  // 1 by default: more lanes measured slower end to end when the cores are not free (docs/benchmarks.md).
  std::int64_t fanout_lanes = 1;
  std::chrono::nanoseconds drain_delay = std::chrono::seconds(5);
  std::int64_t drain_seconds = 10;
  std::string static_dir;
  // Bounds on plain HTTP connections and their timeouts (--max-http-connections, ...). Applied by the
  // service to the websocket listener's options (hub::EdgeSettings::apply_to).
  hub::EdgeSettings edge;
  // Access control (--auth, the key flags, --allowed-origins): off and every origin by default, as the
  // original served everyone.
  auth::AuthSettings auth;
  // What websocket clients may send as data frames (--max-client-message-bytes, --client-frame-rate).
  hub::ClientFrameSettings client_frames;
};

// The threads that run the service's io_context: every hardware thread, at least 2.
unsigned io_thread_count();
// The fan-out lanes per competition `config` asks for: --fanout-lanes, or one per io thread when it is 0.
std::size_t fanout_lanes(const Config& config);

struct ConfigOutcome {
  std::optional<Config> config;       // set: run with it
  int exit_code = 0;                  // otherwise: exit with this (0 after --help/--version, 2 for bad input)
  std::vector<std::string> warnings;  // deprecated flags used: log them once the logger exists
  std::string config_file;            // the config file read; "" when none
};

// Parses argv (and the environment through `getenv`, and the config file); writes help, version, warnings
// and errors to out/err.
ConfigOutcome parse_config(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace ovalstream::aggregator
