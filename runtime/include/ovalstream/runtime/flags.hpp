#pragma once
// Command lines as Go's flag package reads them, because the executables replace a Go server whose flag
// names and syntax existing deployments use unchanged:
//   --name value   --name=value   -name value   -name=value
//   --debug        --debug=false  --debug=true   (a boolean takes its value only after '='; as in Go,
//                                                 "--debug false" is not a boolean value: it is refused
//                                                 here with a hint instead of silently meaning true)
// Differences from Go's flag package, on purpose: flags and positional arguments may be mixed
// ("aggregator start --debug" and "aggregator --debug start" both work; "--" ends the flags), a flag may
// have a one-letter short name ("-d" for "--debug", as the Go original's cobra flags had), and a flag not
// on the command line is read, in this order, from:
//   1. the environment variable OVALSTREAM_<NAME> ('-' as '_', upper case),
//   2. the environment variable VANTAGE_<NAME>, which the Go original read (its deployments set them),
//   3. the config file, when add_config_file() enabled one (config_file.hpp): --config FILE (or its
//      variables), else $HOME/<default name>, which may be missing.
// A variable set to "" counts as unset (compose files pass empty variables through). Values from every
// source are checked like the flag's, and an error names where the value came from. A value from a lower
// source that a higher one overrides is not checked; a config file's keys and the shape of its values
// (a plain value, or a list for a list flag) are, whatever overrides them.
// Integers are decimal (Go also reads 0x.. and 0-prefixed octal).
//
// parse() never exits and never throws for user input: it returns whether to run or to exit with a code
// (0 after --help/--version, 2 after a usage error) and writes text only to the streams it is given.
// Registering a flag badly (a duplicate, a reserved or malformed name) is a programming error and throws
// std::invalid_argument.
//
// Thread safety: FlagSet is not synchronized. Register flags and call parse() on one thread (main),
// before other threads read the bound variables.

#include <chrono>
#include <concepts>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ovalstream/runtime/address.hpp"
#include "ovalstream/runtime/config_file.hpp"

namespace ovalstream::runtime {

// Where a flag's value came from.
enum class FlagSource : std::uint8_t { kDefault, kConfigFile, kEnvironment, kCommandLine };

// Looks up an environment variable by name; nullopt when unset. Injectable so tests need no real
// environment.
using EnvironmentLookup = std::function<std::optional<std::string>(std::string_view name)>;
std::optional<std::string> process_environment(std::string_view name);  // std::getenv

struct IntRange {
  std::int64_t min = std::numeric_limits<std::int64_t>::min();
  std::int64_t max = std::numeric_limits<std::int64_t>::max();
};
struct DoubleRange {
  double min = std::numeric_limits<double>::lowest();
  double max = std::numeric_limits<double>::max();
};
struct DurationRange {
  std::chrono::nanoseconds min = std::chrono::nanoseconds::min();
  std::chrono::nanoseconds max = std::chrono::nanoseconds::max();
};

struct ParseOutcome {
  enum class Action : std::uint8_t { kRun, kExit };
  Action action = Action::kRun;
  int exit_code = 0;                     // for kExit: 0 after --help or --version, 2 after a usage error
  std::vector<std::string> positionals;  // non-flag arguments in order, e.g. {"start"}
  // One line per deprecated flag or variable that was used, saying it has no effect: log them once a
  // logger exists (parse() runs before the log level is known, so it does not print them itself).
  std::vector<std::string> warnings;
  // The config file whose values were applied; "" when none was read (none enabled, or the default one is
  // missing).
  std::string config_file;
  bool should_run() const noexcept { return action == Action::kRun; }
};

class FlagSet {
 public:
  // Checks a value and stores it in the bound variable; returns the reason when the value is bad, e.g.
  // "not an integer". Used by add_custom().
  using Setter = std::function<std::optional<std::string>(std::string_view value)>;

  // `summary` is the one line under the program name in --help; `synopsis` the arguments after the
  // program name in the usage line.
  FlagSet(std::string program, std::string version, std::string summary, std::string synopsis = "[flags]");
  ~FlagSet();
  FlagSet(FlagSet&&) noexcept;
  FlagSet& operator=(FlagSet&&) noexcept;

  // Each add_* binds a flag to `target`, whose current value is the default (shown in --help). The
  // target must outlive parse().
  void add_string(std::string name, std::string* target, std::string help);
  void add_bool(std::string name, bool* target, std::string help);
  void add_int(std::string name, std::int64_t* target, std::string help, IntRange range = {});
  // Any other integer type: the range is narrowed to what T holds.
  template <std::integral T>
  requires(!std::same_as<T, bool> && !std::same_as<T, std::int64_t>) void add_int(std::string name, T* target,
                                                                                  std::string help,
                                                                                  IntRange range = {});
  void add_double(std::string name, double* target, std::string help, DoubleRange range = {});
  // Go duration syntax ("24h", "90m", "1h30m", "1.5s", "500ms"). The milliseconds form refuses values
  // finer than a millisecond instead of rounding them.
  void add_duration(std::string name, std::chrono::nanoseconds* target, std::string help,
                    DurationRange range = {});
  void add_duration(std::string name, std::chrono::milliseconds* target, std::string help,
                    DurationRange range = {});
  // Repeatable and comma-separated: "--filter a,b --filter c" gives {a, b, c}; items are trimmed and
  // empty items dropped. The first value given replaces the default instead of adding to it.
  void add_string_list(std::string name, std::vector<std::string>* target, std::string help);
  // A listen address as parse_listen_address() reads it (":8080", "[::1]:8080").
  void add_listen_address(std::string name, ListenAddress* target, std::string help);
  // One of a fixed set of words, matched exactly; with a single choice the error says that only it is
  // supported (e.g. the Go original's --driver, whose one working value was nats).
  void add_choice(std::string name, std::string* target, std::vector<std::string> choices, std::string help);
  // A flag of any other type. `type_name` and `default_text` are shown in --help. A boolean custom flag
  // (is_bool) is given "true" when written without a value.
  void add_custom(std::string name, std::string type_name, std::string default_text, std::string help,
                  Setter set, bool is_bool = false);
  // Accepted for compatibility with the Go original and otherwise ignored; its use adds a warning to
  // ParseOutcome::warnings. `takes_value` false makes it a boolean switch.
  void add_deprecated(std::string name, bool takes_value, std::string note);

  // A one-letter (or longer) alternative name for a registered flag, e.g. "d" for "debug": -d, --d, -d=false.
  // It is not an environment variable or a config key.
  void add_short_name(std::string short_name, std::string_view flag_name);
  // Registers --config FILE: a YAML file of flag values (config_file.hpp), read after the environment.
  // Without --config (or OVALSTREAM_CONFIG / VANTAGE_CONFIG) the file is $HOME/<default_file_name>, and
  // its absence is fine; a file named explicitly must exist. "--config=" reads no file.
  void add_config_file(std::string default_file_name);
  // Keys the config file may hold for other commands of the same program (one file serves every command):
  // skipped instead of refused as unknown.
  void accept_config_keys(const std::vector<std::string>& keys);

  // `args` are the arguments after the program name.
  // `environment` and `read_config` are injectable so that tests need no real environment or files; an
  // empty one reads nothing.
  ParseOutcome parse(std::span<const std::string> args, std::ostream& out, std::ostream& err,
                     const EnvironmentLookup& environment = process_environment,
                     const ConfigFileReader& read_config = read_config_file);
  // argv[0] (the program path) is skipped.
  ParseOutcome parse(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
                     const EnvironmentLookup& environment = process_environment,
                     const ConfigFileReader& read_config = read_config_file);

  // Writes "<program>: <message>" and the --help hint to `err` and returns the kExit/2 outcome, so the
  // caller reports its own checks (e.g. an unknown subcommand) the same way parse() does.
  ParseOutcome usage_error(std::ostream& err, std::string_view message) const;

  // Where a registered flag's value came from after parse(); throws std::out_of_range for an unknown name.
  FlagSource source(std::string_view name) const;
  // The environment variable read for a flag, e.g. "OVALSTREAM_NATS_URL" for "nats-url".
  static std::string environment_variable(std::string_view flag_name);
  // The Go original's variable for a flag, read after environment_variable(): "VANTAGE_NATS_URL".
  static std::string legacy_environment_variable(std::string_view flag_name);
  // The registered flags' names (short names and --help/--version excluded), e.g. for accept_config_keys().
  std::vector<std::string> names() const;

  // The --help text.
  std::string usage() const;

 private:
  struct Flag;
  void add_integer(std::string name, std::string help, IntRange range, std::int64_t default_value,
                   std::function<void(std::int64_t)> assign);
  Flag& add_flag(std::string name, std::string type_name, std::string default_text, std::string help,
                 Setter set);
  Flag* find(std::string_view name);
  const Flag* find(std::string_view name) const;
  Flag* find_short(std::string_view short_name);
  // The closest flag name to a misspelled one, for "did you mean"; "" when none is close.
  std::string closest_name(std::string_view name) const;
  // Applies the config file's values to the flags still at their defaults; the usage error, if any.
  std::optional<std::string> apply_config_file(ParseOutcome& outcome, const EnvironmentLookup& environment,
                                               const ConfigFileReader& read_config);

  std::string program_;
  std::string version_;
  std::string summary_;
  std::string synopsis_;
  std::vector<std::unique_ptr<Flag>> flags_;
  std::optional<std::string> config_default_file_name_;  // set by add_config_file()
  std::shared_ptr<std::string> config_path_ = std::make_shared<std::string>();
  std::vector<std::string> accepted_config_keys_;  // lower case
};

template <std::integral T>
requires(!std::same_as<T, bool> &&
         !std::same_as<T, std::int64_t>) void FlagSet::add_int(std::string name, T* target, std::string help,
                                                               IntRange range) {
  constexpr auto kTypeMin = std::numeric_limits<T>::min();
  constexpr auto kTypeMax = std::numeric_limits<T>::max();
  if (std::cmp_less(range.min, kTypeMin)) range.min = static_cast<std::int64_t>(kTypeMin);
  if (std::cmp_greater(range.max, kTypeMax)) range.max = static_cast<std::int64_t>(kTypeMax);
  add_integer(std::move(name), std::move(help), range, static_cast<std::int64_t>(*target),
              [target](std::int64_t value) { *target = static_cast<T>(value); });
}

}  // namespace ovalstream::runtime
