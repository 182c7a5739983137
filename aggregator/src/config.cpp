#include "config.hpp"

#include <algorithm>
#include <ostream>
#include <thread>

#include "ovalstream/runtime/flags.hpp"

#ifndef OVALSTREAM_VERSION
#define OVALSTREAM_VERSION "dev"
#endif

namespace ovalstream::aggregator {

unsigned io_thread_count() {
  return std::max(2u, std::thread::hardware_concurrency());
}

std::size_t fanout_lanes(const Config& config) {
  return config.fanout_lanes > 0 ? static_cast<std::size_t>(config.fanout_lanes) : io_thread_count();
}

ConfigOutcome parse_config(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  Config config;
  std::vector<std::string> filter;
  runtime::FlagSet flags(
      "aggregator", OVALSTREAM_VERSION,
      "Follows competitions on NATS JetStream and serves their live state over websockets.",
      "[start] [flags]");
  nats::add_nats_flags(flags, &config.nats);
  flags.add_duration("history", &config.history,
                     "how far back to read the stream at start (competitions, distances, heats)",
                     {.min = std::chrono::seconds(1)});
  flags.add_duration("idle-drop", &config.idle_drop,
                     "drop a competition's state this long after its last event",
                     {.min = std::chrono::seconds(1)});
  flags.add_int("max-competitions", &config.max_competitions,
                "competitions held at most; past it the least recently active one is dropped",
                {.min = 1, .max = 1'000'000});
  flags.add_duration(
      "resume-window", &config.resume_window,
      "per competition, how far back (by the events' stored times) a client that reconnects with "
      "?since= gets only what it missed instead of a snapshot",
      {.min = std::chrono::nanoseconds(0)});
  flags.add_int("resume-window-bytes", &config.resume_window_bytes,
                "per competition, event bytes kept for resuming clients (with --resume-window, whichever is "
                "smaller)",
                {.min = 0, .max = std::int64_t{1} << 30});
  flags.add_string_list("filter", &filter,
                        "follow only these competition ids (repeatable or comma-separated)");
  flags.add_listen_address("hub-address", &config.hub_address, "websocket listen address");
  flags.add_string("cert-file", &config.cert_file, "TLS certificate chain (PEM); with --key-file serves wss");
  flags.add_string("key-file", &config.key_file, "TLS private key (PEM)");
  flags.add_listen_address("metrics-address", &config.metrics_address,
                           "listen address of /metrics, /healthz and /readyz");
  flags.add_string(
      "static-dir", &config.static_dir,
      "serve the files of this directory on the websocket address (\"/\" is its index.html), e.g. "
      "examples/scoreboard");
  flags.add_bool("debug", &config.debug, "log debug lines");
  flags.add_short_name("d", "debug");
  flags.add_int(
      "client-queue-bytes", &config.client_queue_bytes,
      "memory queued per client (frames with their overhead) before it is closed as a slow consumer "
      "(1008); its reads pause at half of it",
      {.min = 64 * 1024, .max = std::int64_t{1} << 32});
  flags.add_int("max-connections", &config.max_connections, "websocket connections at most (0 = no limit)",
                {.min = 0});
  flags.add_int("fanout-lanes", &config.fanout_lanes,
                "per competition, groups of clients written to in parallel, each on its own strand (1 = all "
                "of a competition's clients on one; 0 = one per io thread); more than 1 helps only with "
                "cores to spare: lanes take every io thread while they write, and accepts wait",
                {.min = 0, .max = 256});
  flags.add_duration("drain-delay", &config.drain_delay,
                     "after SIGTERM, keep serving this long with /readyz at 503 before closing connections",
                     {.min = std::chrono::nanoseconds(0)});
  flags.add_int("drain-seconds", &config.drain_seconds,
                "spread the closing of open connections over this many seconds", {.min = 0, .max = 3600});
  hub::add_client_frame_flags(flags, &config.client_frames);
  hub::add_edge_flags(flags, &config.edge);
  auth::add_auth_flags(
      flags, &config.auth,
      "browser origins (scheme://host[:port]) allowed to open a websocket; an upgrade with another "
      "Origin is 403 (* = any)");
  // The Go original's default config file; its deployments may have one.
  flags.add_config_file(".aggregator.yaml");

  ConfigOutcome outcome;
  runtime::ParseOutcome parsed = flags.parse(argc, argv, out, err);
  if (!parsed.should_run()) {
    outcome.exit_code = parsed.exit_code;
    return outcome;
  }
  if (parsed.positionals.size() > 1 || (parsed.positionals.size() == 1 && parsed.positionals[0] != "start")) {
    outcome.exit_code = flags
                            .usage_error(err, "unknown command \"" + parsed.positionals.back() +
                                                  "\" (the only command is start, and it is optional)")
                            .exit_code;
    return outcome;
  }
  if (config.cert_file.empty() != config.key_file.empty()) {
    outcome.exit_code = flags.usage_error(err, "--cert-file and --key-file go together").exit_code;
    return outcome;
  }
  if (const auto problem = auth::check_auth_settings(config.auth)) {
    outcome.exit_code = flags.usage_error(err, *problem).exit_code;
    return outcome;
  }
  if (const auto problem = nats::check_nats_settings(config.nats)) {
    outcome.exit_code = flags.usage_error(err, *problem).exit_code;
    return outcome;
  }
  config.filter.insert(filter.begin(), filter.end());
  outcome.warnings = std::move(parsed.warnings);
  outcome.config_file = std::move(parsed.config_file);
  outcome.config = std::move(config);
  return outcome;
}

}  // namespace ovalstream::aggregator
