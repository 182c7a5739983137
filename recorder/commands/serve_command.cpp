// recorder serve: flags into a ServeConfig, then the service (serve/serve_service.hpp).
#include <exception>
#include <optional>
#include <ostream>

#include "commands/command_config.hpp"
#include "ovalstream/nats/durable_consumer.hpp"
#include "ovalstream/runtime/descriptors.hpp"
#include "ovalstream/runtime/flags.hpp"
#include "serve/serve_service.hpp"

#ifndef OVALSTREAM_VERSION
#define OVALSTREAM_VERSION "dev"
#endif

namespace ovalstream::recorder {
namespace {

runtime::FlagSet serve_flags(ServeConfig& config) {
  runtime::FlagSet flags(
      "recorder serve", OVALSTREAM_VERSION,
      "Records every competition continuously into DIR/YYYY-MM-DD/<competitionId>.jsonl and "
      "serves the recordings and replays over HTTP.");
  nats::add_nats_flags(flags, &config.nats);
  flags.add_string("dir", &config.directory, "directory of the recordings (created if missing)");
  flags.add_listen_address("address", &config.address,
                           "listen address of the HTTP API (/v1/recordings, /v1/replays)");
  flags.add_listen_address("metrics-address", &config.metrics_address,
                           "listen address of /metrics, /healthz and /readyz");
  flags.add_string("durable", &config.durable,
                   "name of the durable JetStream consumer (its position survives restarts)");
  flags.add_duration("ack-wait", &config.ack_wait,
                     "JetStream redelivers a message not acknowledged this long",
                     {.min = std::chrono::seconds(1), .max = std::chrono::hours(1)});
  flags.add_string(
      "replay-stream", &config.replay_stream,
      "stream that captures replays under a subject prefix (--create-stream creates it on replay.>)");
  flags.add_bool("allow-live-replay", &config.allow_live_replay,
                 "allow POST /v1/replays with subjectPrefix \"\": replaying onto the live subjects");
  flags.add_int("max-replays", &config.max_replays, "replays running at once at most", {.min = 1, .max = 64});
  flags.add_int("max-downloads", &config.max_downloads,
                "downloads of recordings in progress at once at most (each streams through a small buffer); "
                "more get 503",
                {.min = 1, .max = 4096});
  flags.add_int("max-open-files", &config.max_open_files,
                "recording files held open at once at most (one per competition and day being recorded); at "
                "the bound they are closed and reopened by their next event",
                {.min = 1, .max = 65536});
  hub::add_edge_flags(flags, &config.edge);
  auth::add_auth_flags(
      flags, &config.auth,
      "browser origins (scheme://host[:port]) allowed to send POST and DELETE; a state-changing "
      "request with another Origin is 403 (default: none; * = any)");
  flags.add_bool("debug", &config.debug, "log debug lines");
  flags.add_short_name("d", "debug");
  return flags;
}

// The flags of the command line (then the environment and the config file) into a checked ServeConfig;
// --help and usage errors are written to `out` and `err`.
CommandConfig<ServeConfig> parse_serve_config(std::span<const std::string> args, std::ostream& out,
                                              std::ostream& err) {
  ServeConfig config;
  runtime::FlagSet flags = serve_flags(config);
  return parse_command_config(flags, config, args, out, err, [&]() -> std::optional<std::string> {
    if (config.directory.empty()) return "--dir must not be empty";
    if (!nats::is_valid_consumer_name(config.durable))
      return "--durable may hold only letters, digits, '-' and '_'";
    if (const auto problem = nats::check_nats_settings(config.nats)) return *problem;
    if (config.replay_stream == config.nats.stream) return "--replay-stream must differ from --stream";
    if (const auto problem = auth::check_auth_settings(config.auth)) return *problem;
    // The API replays recordings into JetStream and hands out every recording: without tokens only this
    // machine may reach it.
    if (config.auth.mode == auth::AuthMode::kOff && !runtime::is_loopback(config.address)) {
      return "--auth off is allowed only on a loopback --address (127.0.0.1, [::1], localhost): the API "
             "starts "
             "replays and serves every recording, and \"" +
             runtime::format_listen_address(config.address) +
             "\" is reachable from other machines; set --auth required with --auth-hmac-secret-file or "
             "--auth-public-keys, or listen on 127.0.0.1";
    }
    return std::nullopt;
  });
}

}  // namespace

std::vector<std::string> serve_flag_names() {
  ServeConfig unused;
  return serve_flags(unused).names();
}

int run_serve(std::span<const std::string> args, std::ostream& out, std::ostream& err) {
  const auto outcome = parse_serve_config(args, out, err);
  if (!outcome.config) return outcome.exit_code;
  const runtime::Logger logger = command_logger(outcome.parsed, outcome.config->debug, out);
  runtime::log_descriptor_limit(logger, runtime::raise_descriptor_limit());
  try {
    ServeService service(*outcome.config, logger);
    return service.run();
  } catch (const std::exception& error) {
    logger.error("cannot start", {{"error", error.what()}});
    return 1;
  }
}

}  // namespace ovalstream::recorder
