// recorder simulate: writes a simulated competition (simulator.hpp) in the recording format. Wiring only:
// flags, the file, one log line.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <ostream>

#include "commands.hpp"
#include "ovalstream/core/record_codec.hpp"
#include "ovalstream/runtime/flags.hpp"
#include "ovalstream/runtime/log.hpp"
#include "simulator.hpp"

#ifndef OVALSTREAM_VERSION
#define OVALSTREAM_VERSION "dev"
#endif

namespace ovalstream::recorder {

int run_simulate(std::span<const std::string> args, std::ostream& out, std::ostream& err) {
  std::string file;
  std::int64_t seed = 1;
  std::string scope = "competition";
  std::optional<SimulatedDistance> distance;
  SimulationOptions options;
  std::int64_t heats = 0;

  runtime::FlagSet flags(
      "recorder simulate", OVALSTREAM_VERSION,
      "writes a simulated competition (pairs distances, quartet starts, a team pursuit, a mass "
      "start) in the recording format; the same flags give the same bytes");
  flags.add_string("out", &file, "the recording to write (JSON lines with _time); \"-\" writes to stdout");
  flags.add_int("seed", &seed, "the seed: names, times and ids follow from it", runtime::IntRange{0});
  flags.add_custom("scope", "competition|distance", "competition",
                   "the whole day's program, or one distance (--distance)", [&](std::string_view value) {
                     if (value != "competition" && value != "distance")
                       return std::optional<std::string>("not \"competition\" or \"distance\"");
                     scope = std::string(value);
                     return std::optional<std::string>();
                   });
  flags.add_custom(
      "distance", "500|1000|1500|5000|team-pursuit|mass-start", "",
      "one distance only (implies --scope distance)", [&](std::string_view value) {
        distance = parse_simulated_distance(value);
        if (!distance)
          return std::optional<std::string>("not one of 500, 1000, 1500, 5000, team-pursuit, mass-start");
        return std::optional<std::string>();
      });
  flags.add_custom(
      "start", "RFC 3339 time", core::format_rfc3339(options.start),
      "the recorded time of the first event; its offset is used for every _time",
      [&](std::string_view value) {
        const auto time = core::parse_rfc3339(value);
        if (!time) return std::optional<std::string>("not an RFC 3339 time like 2026-02-14T13:00:00+01:00");
        options.start = *time;
        return std::optional<std::string>();
      });
  flags.add_int("heats", &heats,
                "heats per distance (pairs, team pursuit heats); 0: each distance's default. The mass start "
                "is one heat",
                runtime::IntRange{0, 40});

  const runtime::ParseOutcome parsed = flags.parse(args, out, err);
  if (!parsed.should_run()) return parsed.exit_code;
  if (!parsed.positionals.empty())
    return flags.usage_error(err, "unexpected argument \"" + parsed.positionals.front() + "\"").exit_code;
  if (file.empty()) return flags.usage_error(err, "--out is required (a file, or - for stdout)").exit_code;
  if (scope == "distance" && !distance)
    return flags.usage_error(err, "--scope distance needs --distance").exit_code;
  if (distance && flags.source("scope") == runtime::FlagSource::kDefault) scope = "distance";
  if (scope == "competition" && distance)
    return flags.usage_error(err, "--distance is for --scope distance, not --scope competition").exit_code;

  options.seed = static_cast<std::uint64_t>(seed);
  options.only = distance;
  options.heats = static_cast<int>(heats);
  const std::vector<SimulatedEvent> events = simulate_competition(options);

  const bool to_stdout = file == "-";
  std::ofstream stream;
  if (!to_stdout) {
    stream.open(file, std::ios::binary | std::ios::trunc);
    if (!stream) {
      err << "recorder simulate: cannot write " << file << ": " << std::strerror(errno) << "\n";
      return 1;
    }
  }
  std::ostream& sink = to_stdout ? out : stream;
  for (const auto& event : events) {
    sink << core::write_record_line(event.bytes, event.time) << '\n';
  }
  sink.flush();
  if (!sink) {
    err << "recorder simulate: writing " << file << " failed\n";
    return 1;
  }
  // The log line goes where the recording does not.
  runtime::Logger logger("recorder", to_stdout ? err : out);
  const std::int64_t seconds =
      events.empty() ? 0 : (events.back().time.unix_micros - events.front().time.unix_micros) / 1'000'000;
  logger.info("wrote a simulated competition",
              {{"file", file},
               {"events", events.size()},
               {"seed", seed},
               {"scope", scope},
               {"distance", distance ? std::string(simulated_distance_name(*distance)) : std::string()},
               {"from", events.empty() ? std::string() : core::format_rfc3339(events.front().time)},
               {"recordedSeconds", seconds}});
  return 0;
}

}  // namespace ovalstream::recorder
