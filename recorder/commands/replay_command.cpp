// recorder replay: flags into a ReplayConfig, the recording read and planned, then the service
// (replay/replay_service.hpp).
#include <cmath>
#include <cstdlib>
#include <optional>
#include <ostream>
#include <string>

#include "commands/command_config.hpp"
#include "ovalstream/nats/settings.hpp"
#include "ovalstream/runtime/flags.hpp"
#include "ovalstream/runtime/log.hpp"
#include "replay/jetstream_sink.hpp"
#include "replay/replay_service.hpp"

#ifndef OVALSTREAM_VERSION
#define OVALSTREAM_VERSION "dev"
#endif

namespace ovalstream::recorder {
namespace {

std::optional<std::string> set_speed(std::string_view text, core::ReplaySpeed& speed) {
  if (text == "max") {
    speed = core::ReplaySpeed::max();
    return std::nullopt;
  }
  const std::string copy(text);
  char* end = nullptr;
  const double value = std::strtod(copy.c_str(), &end);
  if (copy.empty() || end != copy.c_str() + copy.size() || !std::isfinite(value))
    return "not a number or \"max\"";
  if (value <= 0) return "must be greater than 0 (use \"max\" for no waiting)";
  speed = core::ReplaySpeed::times(value);
  return std::nullopt;
}

runtime::FlagSet replay_flags(ReplayConfig& replay) {
  runtime::FlagSet flags(
      "recorder replay", OVALSTREAM_VERSION,
      "Replays a recording into NATS JetStream, or over websocket with --address, waiting the "
      "recorded gaps divided by --speed.",
      "--file F [flags]");
  flags.add_string("file", &replay.file, "the recording to replay (JSON lines with _time)");
  flags.add_custom("speed", "N|max", "1",
                   "divide the recorded gaps by N (fractions allowed: 0.5 is half speed); max: no waiting",
                   [&replay](std::string_view value) { return set_speed(value, replay.speed); });
  flags.add_custom(
      "from", "TIME", "",
      "start at this recorded time (RFC 3339, as in _time) or this long after the first event "
      "(a duration, e.g. 10m): the state at that time goes out first, then the replay continues",
      [&replay](std::string_view value) -> std::optional<std::string> {
        replay.from = parse_replay_from(value);
        replay.from_text = std::string(value);
        if (!replay.from)
          return "not an RFC 3339 time (e.g. 2020-01-12T14:47:00+01:00) or a duration from the first "
                 "event (e.g. 10m)";
        return std::nullopt;
      });
  flags.add_bool("loop", &replay.loop, "start over when the recording ends");
  flags.add_custom("address", "host:port", "",
                   "serve the replay over websocket instead of publishing: every client gets its own replay "
                   "(e.g. :3000)",
                   [&replay](std::string_view value) -> std::optional<std::string> {
                     const auto parsed = runtime::parse_listen_address(value);
                     if (!parsed.ok()) return runtime::describe_address_error(parsed.error, value);
                     replay.address = parsed.address;
                     return std::nullopt;
                   });
  flags.add_string("subject-prefix", &replay.subject_prefix,
                   "publish under <prefix>.competition.... instead of the live subjects");
  flags.add_custom("on-error", "skip|stop", "stop",
                   "a corrupt line in the recording: stop (exit 1 before anything is published) or skip it",
                   [&replay](std::string_view value) -> std::optional<std::string> {
                     const auto parsed = parse_on_error(value);
                     if (!parsed) return "must be skip or stop";
                     replay.on_error = *parsed;
                     return std::nullopt;
                   });
  flags.add_bool("debug", &replay.debug, "log debug lines");
  flags.add_short_name("d", "debug");
  nats::add_nats_flags(flags, &replay.nats);
  return flags;
}

// The flags of the command line (then the environment and the config file) into a checked ReplayConfig;
// --help and usage errors are written to `out` and `err`.
CommandConfig<ReplayConfig> parse_replay_config(std::span<const std::string> args, std::ostream& out,
                                                std::ostream& err) {
  ReplayConfig config;
  runtime::FlagSet flags = replay_flags(config);
  return parse_command_config(flags, config, args, out, err, [&]() -> std::optional<std::string> {
    if (config.file.empty()) return "--file is required";
    if (const auto problem = nats::check_nats_settings(config.nats)) return *problem;
    if (!is_valid_subject_prefix(config.subject_prefix)) {
      return "--subject-prefix \"" + config.subject_prefix +
             "\" is not a subject prefix: dot-separated tokens without '*', '>' or whitespace";
    }
    if (config.address && !config.subject_prefix.empty())
      return "--subject-prefix is for replays into JetStream; --address serves websockets";
    return std::nullopt;
  });
}

}  // namespace

std::vector<std::string> replay_flag_names() {
  ReplayConfig unused;
  return replay_flags(unused).names();
}

int run_replay(std::span<const std::string> args, std::ostream& out, std::ostream& err) {
  const auto outcome = parse_replay_config(args, out, err);
  if (!outcome.config) return outcome.exit_code;
  const ReplayConfig& config = *outcome.config;
  const runtime::Logger logger = command_logger(outcome.parsed, config.debug, out);

  LoadedReplay loaded = load_replay(config, logger, err);
  if (!loaded.plan) {
    // --from beyond the recording is a usage error, found once the recording is read.
    ReplayConfig unused;
    if (!loaded.usage_error.empty())
      return replay_flags(unused).usage_error(err, loaded.usage_error).exit_code;
    return loaded.exit_code;
  }
  ReplayService service(config, std::move(*loaded.plan), logger, err);
  return service.run();
}

}  // namespace ovalstream::recorder
