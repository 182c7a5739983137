#pragma once
// The first step every recorder command shares: its flags (command line, then OVALSTREAM_* and VANTAGE_*
// variables, then the recorder's config file) into its checked config.

#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <utility>

#include "commands/commands.hpp"
#include "ovalstream/runtime/flags.hpp"

namespace ovalstream::recorder {

// The config when the command should run; otherwise the exit code (0 after --help or --version, 2 after a
// usage error).
template <typename Config>
struct CommandConfig {
  std::optional<Config> config;
  int exit_code = 0;
  runtime::ParseOutcome parsed;  // for command_logger()
};

// Parses `args` through `flags`, which write into `config`; refuses positional arguments; then
// `check()` returns a usage error, if any (it may also fill in what follows from the flags). --help and
// usage errors are written to `out` and `err`.
template <typename Config, typename Check>
CommandConfig<Config> parse_command_config(runtime::FlagSet& flags, Config& config,
                                           std::span<const std::string> args, std::ostream& out,
                                           std::ostream& err, Check check) {
  add_recorder_config_file(flags);
  CommandConfig<Config> outcome;
  outcome.parsed = flags.parse(args, out, err);
  if (!outcome.parsed.should_run()) {
    outcome.exit_code = outcome.parsed.exit_code;
    return outcome;
  }
  const std::optional<std::string> problem =
      outcome.parsed.positionals.empty()
          ? check()
          : std::optional<std::string>("unexpected argument \"" + outcome.parsed.positionals.front() + "\"");
  if (problem) {
    outcome.exit_code = flags.usage_error(err, *problem).exit_code;
    return outcome;
  }
  outcome.config = std::move(config);
  return outcome;
}

}  // namespace ovalstream::recorder
