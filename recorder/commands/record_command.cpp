// recorder record: flags into a RecordConfig, then the service (record/record_service.hpp).
#include <optional>
#include <ostream>
#include <string>

#include "commands/command_config.hpp"
#include "ovalstream/core/subject.hpp"
#include "ovalstream/nats/durable_consumer.hpp"
#include "ovalstream/nats/settings.hpp"
#include "ovalstream/runtime/flags.hpp"
#include "ovalstream/runtime/log.hpp"
#include "record/record_service.hpp"
#include "record/websocket_recorder.hpp"

#ifndef OVALSTREAM_VERSION
#define OVALSTREAM_VERSION "dev"
#endif

namespace ovalstream::recorder {
namespace {

// The flags: the service's config, and --host (which becomes config.from_url).
struct RecordFlags {
  RecordConfig config;
  std::string host;
};

runtime::FlagSet record_flags(RecordFlags& flags_of) {
  RecordConfig& config = flags_of.config;
  runtime::FlagSet flags(
      "recorder record", OVALSTREAM_VERSION,
      "Records every competition activation, or one competition's events, to a JSON-lines file "
      "(the original recorder's format). Source: JetStream through a durable consumer (no loss, "
      "no duplicate across restarts), or an aggregator's websocket with --from-url.",
      "--file F [--competition ID] [--from-url ws://host/v1/competitions[/ID] | --host H] [flags]");
  flags.add_string("file", &config.file,
                   "the recording file to append to (required); its position file is F.position");
  flags.add_string(
      "competition", &config.competition,
      "record this competition's events (competition.ID, competition.ID.> and its activations on "
      "competition.activations); without it, every competition activation (competition.activations)");
  flags.add_string(
      "from-url", &config.from_url,
      "record from an aggregator's websocket instead of JetStream: ws://host:port/v1/competitions or "
      "ws://host:port/v1/competitions/ID (wss:// too)");
  flags.add_string(
      "host", &flags_of.host,
      "as the original eventrecorder: record from the aggregator at wss://H/v1/competitions[/ID] "
      "(ID from --competition), as --from-url; H is host[:port], or ws://host[:port] for one "
      "without TLS");
  flags.add_string("durable", &config.durable,
                   "the JetStream durable consumer's name (default: derived from the file's absolute path)");
  flags.add_duration("ack-wait", &config.ack_wait,
                     "how long JetStream waits for an acknowledgement before delivering a message again",
                     runtime::DurationRange{std::chrono::seconds(1), std::chrono::hours(1)});
  flags.add_int("batch", &config.batch, "messages fetched from JetStream at once",
                runtime::IntRange{1, 4096});
  flags.add_bool("debug", &config.debug, "log at debug level");
  flags.add_short_name("d", "debug");
  nats::add_nats_flags(flags, &config.nats);
  return flags;
}

// The flags of the command line (then the environment and the config file) into a checked RecordConfig;
// --help and usage errors are written to `out` and `err`.
CommandConfig<RecordConfig> parse_record_config(std::span<const std::string> args, std::ostream& out,
                                                std::ostream& err) {
  RecordFlags settings;
  runtime::FlagSet flags = record_flags(settings);
  RecordConfig& config = settings.config;
  return parse_command_config(flags, config, args, out, err, [&]() -> std::optional<std::string> {
    if (config.file.empty()) return "--file is required";
    if (!config.competition.empty() && !core::is_subject_token(config.competition))
      return "--competition \"" + config.competition + "\" cannot be a subject token";
    if (!settings.host.empty()) {
      if (!config.from_url.empty()) return "--host and --from-url both name the aggregator: give one";
      std::string why;
      const std::optional<std::string> url = url_for_host(settings.host, config.competition, why);
      if (!url) return "--host " + settings.host + ": " + why;
      config.from_url = *url;
      config.competition.clear();  // in the URL now
    }
    if (const auto problem = nats::check_nats_settings(config.nats)) return *problem;
    if (!config.durable.empty() && !nats::is_valid_consumer_name(config.durable))
      return "--durable may hold only letters, digits, '-' and '_'";
    if (!config.from_url.empty()) {
      std::string why;
      if (!valid_competitions_url(config.from_url, why)) return "--from-url " + config.from_url + ": " + why;
      if (!config.competition.empty())
        return "--competition does not go with --from-url (the URL names the competition)";
      for (const char* jetstream_only :
           {"durable", "ack-wait", "batch", "stream", "create-stream", "nats-url", "nats-username",
            "nats-password", "nats-tls", "nats-ca", "nats-cert", "nats-key", "nats-creds"}) {
        if (flags.source(jetstream_only) == runtime::FlagSource::kCommandLine)
          return std::string("--") + jetstream_only +
                 " is for recording from JetStream; it does not go with --from-url";
      }
    }
    return std::nullopt;
  });
}

}  // namespace

std::vector<std::string> record_flag_names() {
  RecordFlags unused;
  return record_flags(unused).names();
}

int run_record(std::span<const std::string> args, std::ostream& out, std::ostream& err) {
  const auto outcome = parse_record_config(args, out, err);
  if (!outcome.config) return outcome.exit_code;
  const runtime::Logger logger = command_logger(outcome.parsed, outcome.config->debug, out);
  RecordService service(*outcome.config, logger);
  return service.run();
}

}  // namespace ovalstream::recorder
