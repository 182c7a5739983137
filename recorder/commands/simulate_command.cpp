// recorder simulate: writes a simulated competition (simulator.hpp) in the recording format. Wiring only:
// flags, the file, one log line.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <ostream>

#include "commands/command_config.hpp"
#include "ovalstream/core/record_codec.hpp"
#include "ovalstream/runtime/flags.hpp"
#include "ovalstream/runtime/log.hpp"
#include "simulator/simulator.hpp"

#ifndef OVALSTREAM_VERSION
#define OVALSTREAM_VERSION "dev"
#endif

namespace ovalstream::recorder {

namespace {

using simulator::SimulatedDistance;
using simulator::SimulatedEvent;
using simulator::SimulationOptions;

struct SimulateSettings {
  std::string file;
  std::int64_t seed = 1;
  std::string scope = "competition";
  std::optional<SimulatedDistance> distance;
  SimulationOptions options;
  std::int64_t heats = 0;
};

runtime::FlagSet simulate_flags(SimulateSettings& settings) {
  runtime::FlagSet flags(
      "recorder simulate", OVALSTREAM_VERSION,
      "writes a simulated competition (pairs distances, quartet starts, a team pursuit, a mass "
      "start) in the recording format; the same flags give the same bytes");
  flags.add_string("out", &settings.file,
                   "the recording to write (JSON lines with _time); \"-\" writes to stdout");
  flags.add_int("seed", &settings.seed, "the seed: names, times and ids follow from it",
                runtime::IntRange{0});
  flags.add_custom("scope", "competition|distance", "competition",
                   "the whole day's program, or one distance (--distance)",
                   [&settings](std::string_view value) {
                     if (value != "competition" && value != "distance")
                       return std::optional<std::string>("not \"competition\" or \"distance\"");
                     settings.scope = std::string(value);
                     return std::optional<std::string>();
                   });
  flags.add_custom(
      "distance", "500|1000|1500|5000|team-pursuit|mass-start", "",
      "one distance only (implies --scope distance)", [&settings](std::string_view value) {
        settings.distance = simulator::parse_simulated_distance(value);
        if (!settings.distance)
          return std::optional<std::string>("not one of 500, 1000, 1500, 5000, team-pursuit, mass-start");
        return std::optional<std::string>();
      });
  flags.add_custom(
      "start", "RFC 3339 time", core::format_rfc3339(settings.options.start),
      "the recorded time of the first event; its offset is used for every _time",
      [&settings](std::string_view value) {
        const auto time = core::parse_rfc3339(value);
        if (!time) return std::optional<std::string>("not an RFC 3339 time like 2026-02-14T13:00:00+01:00");
        settings.options.start = *time;
        return std::optional<std::string>();
      });
  flags.add_int("heats", &settings.heats,
                "heats per distance (pairs, team pursuit heats); 0: each distance's default. The mass start "
                "is one heat",
                runtime::IntRange{0, 40});
  return flags;
}

// The flags of the command line (then the environment and the config file) into checked settings, the
// simulation's options filled in; --help and usage errors are written to `out` and `err`.
CommandConfig<SimulateSettings> parse_simulate_config(std::span<const std::string> args, std::ostream& out,
                                                      std::ostream& err) {
  SimulateSettings settings;
  runtime::FlagSet flags = simulate_flags(settings);
  return parse_command_config(flags, settings, args, out, err, [&]() -> std::optional<std::string> {
    if (settings.file.empty()) return "--out is required (a file, or - for stdout)";
    if (settings.scope == "distance" && !settings.distance) return "--scope distance needs --distance";
    if (settings.distance && flags.source("scope") == runtime::FlagSource::kDefault)
      settings.scope = "distance";
    if (settings.scope == "competition" && settings.distance)
      return "--distance is for --scope distance, not --scope competition";
    settings.options.seed = static_cast<std::uint64_t>(settings.seed);
    settings.options.only = settings.distance;
    settings.options.heats = static_cast<int>(settings.heats);
    return std::nullopt;
  });
}

}  // namespace

std::vector<std::string> simulate_flag_names() {
  SimulateSettings unused;
  return simulate_flags(unused).names();
}

int run_simulate(std::span<const std::string> args, std::ostream& out, std::ostream& err) {
  const auto outcome = parse_simulate_config(args, out, err);
  if (!outcome.config) return outcome.exit_code;
  const SimulateSettings& settings = *outcome.config;
  const runtime::ParseOutcome& parsed = outcome.parsed;
  const std::vector<SimulatedEvent> events = simulator::simulate_competition(settings.options);

  const bool to_stdout = settings.file == "-";
  std::ofstream stream;
  if (!to_stdout) {
    stream.open(settings.file, std::ios::binary | std::ios::trunc);
    if (!stream) {
      err << "recorder simulate: cannot write " << settings.file << ": " << std::strerror(errno) << "\n";
      return 1;
    }
  }
  std::ostream& sink = to_stdout ? out : stream;
  for (const auto& event : events) {
    sink << core::write_record_line(event.bytes, event.time) << '\n';
  }
  sink.flush();
  if (!sink) {
    err << "recorder simulate: writing " << settings.file << " failed\n";
    return 1;
  }
  // The log line goes where the recording does not.
  const runtime::Logger logger = command_logger(parsed, false, to_stdout ? err : out);
  const std::int64_t seconds =
      events.empty() ? 0 : (events.back().time.unix_micros - events.front().time.unix_micros) / 1'000'000;
  logger.info(
      "wrote a simulated competition",
      {{"file", settings.file},
       {"events", events.size()},
       {"seed", settings.seed},
       {"scope", settings.scope},
       {"distance", settings.distance ? std::string(simulator::simulated_distance_name(*settings.distance))
                                      : std::string()},
       {"from", events.empty() ? std::string() : core::format_rfc3339(events.front().time)},
       {"recordedSeconds", seconds}});
  return 0;
}

}  // namespace ovalstream::recorder
