#include "ovalstream/runtime/flags.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "ovalstream/runtime/duration.hpp"
#include "quote.hpp"

namespace ovalstream::runtime {

struct FlagSet::Flag {
  std::string name;
  std::string type_name;
  std::string default_text;  // as shown in --help
  std::string help;
  Setter set;
  bool is_bool = false;
  bool is_list = false;  // takes a YAML sequence in the config file
  bool deprecated = false;
  std::string short_name;  // "" when none
  FlagSource source = FlagSource::kDefault;
  std::string variable;  // for kEnvironment: the variable that set it
};

namespace {

constexpr std::string_view kEnvironmentPrefix = "OVALSTREAM_";
constexpr std::string_view kLegacyEnvironmentPrefix = "VANTAGE_";
constexpr std::string_view kConfigFlagName = "config";
constexpr std::string_view kHelpHint = "run with --help for usage";
constexpr int kUsageErrorExitCode = 2;

// Go's strconv.ParseBool, which Go's flag package uses for booleans.
std::optional<bool> parse_go_bool(std::string_view text) {
  if (text == "1" || text == "t" || text == "T" || text == "TRUE" || text == "true" || text == "True")
    return true;
  if (text == "0" || text == "f" || text == "F" || text == "FALSE" || text == "false" || text == "False") {
    return false;
  }
  return std::nullopt;
}

std::string format_double(double value) {
  char text[64];
  const auto result = std::to_chars(text, text + sizeof text, value);
  return std::string(text, result.ptr);
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out.append(separator);
    out.append(items[i]);
  }
  return out;
}

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

// Accepts an optional sign and decimal digits only, the whole string.
std::optional<std::string> parse_int64(std::string_view text, std::int64_t& value) {
  std::string_view digits = text;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  // from_chars reads a '-' itself; a second sign ("+-5", "++5") is refused here.
  if (digits.empty() || digits.front() == '+' || (digits.size() < text.size() && digits.front() == '-')) {
    return "not an integer";
  }
  const auto result = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (result.ec == std::errc::result_out_of_range) return "out of range";
  if (result.ec != std::errc() || result.ptr != digits.data() + digits.size()) return "not an integer";
  return std::nullopt;
}

std::optional<std::string> parse_double(std::string_view text, double& value) {
  std::string_view digits = text;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  // from_chars reads a '-' itself; a second sign ("+-5", "++5") is refused here.
  if (digits.empty() || digits.front() == '+' || (digits.size() < text.size() && digits.front() == '-')) {
    return "not a number";
  }
  const auto result = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (result.ec == std::errc::result_out_of_range) return "out of range";
  if (result.ec != std::errc() || result.ptr != digits.data() + digits.size()) return "not a number";
  if (!std::isfinite(value)) return "not a finite number";
  return std::nullopt;
}

// "must be between 1 and 65535", or one-sided when the other bound is the type's own limit.
template <typename T>
std::optional<std::string> check_range(T value, T min, T max, T type_min, T type_max,
                                       const std::function<std::string(T)>& show) {
  if (value >= min && value <= max) return std::nullopt;
  if (min != type_min && max != type_max) return "must be between " + show(min) + " and " + show(max);
  if (min != type_min) return "must be at least " + show(min);
  return "must be at most " + show(max);
}

template <typename T>
std::string describe_range(T min, T max, T type_min, T type_max, const std::function<std::string(T)>& show) {
  if (min != type_min && max != type_max) return show(min) + ".." + show(max);
  if (min != type_min) return ">= " + show(min);
  if (max != type_max) return "<= " + show(max);
  return {};
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

bool is_valid_flag_name(std::string_view name) {
  if (name.empty() || name.front() == '-') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

bool is_reserved_flag_name(std::string_view name) {
  return name == "h" || name == "help" || name == "version";
}

std::string lower_case(std::string_view text) {
  std::string lowered(text);
  for (char& c : lowered) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lowered;
}

std::string variable_name(std::string_view prefix, std::string_view flag_name) {
  std::string name(prefix);
  for (const char c : flag_name) {
    if (c == '-' || c == '.') {
      name.push_back('_');
    } else if (c >= 'a' && c <= 'z') {
      name.push_back(static_cast<char>(c - 'a' + 'A'));
    } else {
      name.push_back(c);
    }
  }
  return name;
}

}  // namespace

std::optional<std::string> process_environment(std::string_view name) {
  const char* value = std::getenv(std::string(name).c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

FlagSet::FlagSet(std::string program, std::string version, std::string summary, std::string synopsis)
    : program_(std::move(program)),
      version_(std::move(version)),
      summary_(std::move(summary)),
      synopsis_(std::move(synopsis)) {}

FlagSet::~FlagSet() = default;
FlagSet::FlagSet(FlagSet&&) noexcept = default;
FlagSet& FlagSet::operator=(FlagSet&&) noexcept = default;

std::string FlagSet::environment_variable(std::string_view flag_name) {
  return variable_name(kEnvironmentPrefix, flag_name);
}

std::string FlagSet::legacy_environment_variable(std::string_view flag_name) {
  return variable_name(kLegacyEnvironmentPrefix, flag_name);
}

std::vector<std::string> FlagSet::names() const {
  std::vector<std::string> names;
  for (const auto& flag : flags_) names.push_back(flag->name);
  return names;
}

FlagSet::Flag& FlagSet::add_flag(std::string name, std::string type_name, std::string default_text,
                                 std::string help, Setter set) {
  if (!is_valid_flag_name(name)) throw std::invalid_argument("malformed flag name \"" + name + "\"");
  if (is_reserved_flag_name(name)) throw std::invalid_argument("flag name \"" + name + "\" is reserved");
  if (find(name) != nullptr || find_short(name) != nullptr) {
    throw std::invalid_argument("flag \"" + name + "\" registered twice");
  }
  auto flag = std::make_unique<Flag>();
  flag->name = std::move(name);
  flag->type_name = std::move(type_name);
  flag->default_text = std::move(default_text);
  flag->help = std::move(help);
  flag->set = std::move(set);
  flags_.push_back(std::move(flag));
  return *flags_.back();
}

void FlagSet::add_string(std::string name, std::string* target, std::string help) {
  add_flag(std::move(name), "string", quote(*target), std::move(help),
           [target](std::string_view value) -> std::optional<std::string> {
             *target = std::string(value);
             return std::nullopt;
           });
}

void FlagSet::add_bool(std::string name, bool* target, std::string help) {
  Flag& flag = add_flag(std::move(name), "bool", *target ? "true" : "false", std::move(help),
                        [target](std::string_view value) -> std::optional<std::string> {
                          const auto parsed = parse_go_bool(value);
                          if (!parsed) return "not a boolean (use true or false)";
                          *target = *parsed;
                          return std::nullopt;
                        });
  flag.is_bool = true;
}

void FlagSet::add_int(std::string name, std::int64_t* target, std::string help, IntRange range) {
  add_integer(std::move(name), std::move(help), range, *target,
              [target](std::int64_t value) { *target = value; });
}

void FlagSet::add_integer(std::string name, std::string help, IntRange range, std::int64_t default_value,
                          std::function<void(std::int64_t)> assign) {
  constexpr auto kMin = std::numeric_limits<std::int64_t>::min();
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  const std::function<std::string(std::int64_t)> show = [](std::int64_t v) { return std::to_string(v); };
  std::string default_text = std::to_string(default_value);
  if (const auto bounds = describe_range(range.min, range.max, kMin, kMax, show); !bounds.empty()) {
    default_text += ", range " + bounds;
  }
  add_flag(std::move(name), "int", std::move(default_text), std::move(help),
           [range, show, assign = std::move(assign)](std::string_view value) -> std::optional<std::string> {
             std::int64_t parsed = 0;
             if (auto error = parse_int64(value, parsed)) return error;
             if (auto error = check_range(parsed, range.min, range.max, kMin, kMax, show)) return error;
             assign(parsed);
             return std::nullopt;
           });
}

void FlagSet::add_double(std::string name, double* target, std::string help, DoubleRange range) {
  constexpr auto kMin = std::numeric_limits<double>::lowest();
  constexpr auto kMax = std::numeric_limits<double>::max();
  const std::function<std::string(double)> show = format_double;
  std::string default_text = format_double(*target);
  if (const auto bounds = describe_range(range.min, range.max, kMin, kMax, show); !bounds.empty()) {
    default_text += ", range " + bounds;
  }
  add_flag(std::move(name), "float", std::move(default_text), std::move(help),
           [target, range, show](std::string_view value) -> std::optional<std::string> {
             double parsed = 0;
             if (auto error = parse_double(value, parsed)) return error;
             if (auto error = check_range(parsed, range.min, range.max, kMin, kMax, show)) return error;
             *target = parsed;
             return std::nullopt;
           });
}

namespace {

FlagSet::Setter duration_setter(DurationRange range, std::chrono::nanoseconds granularity,
                                std::function<void(std::chrono::nanoseconds)> assign) {
  using std::chrono::nanoseconds;
  const std::function<std::string(nanoseconds)> show = format_go_duration;
  return [range, granularity, show,
          assign = std::move(assign)](std::string_view value) -> std::optional<std::string> {
    const auto parsed = parse_go_duration(value);
    if (!parsed) return "not a duration (e.g. \"90s\", \"1h30m\", \"500ms\")";
    if (auto error =
            check_range(*parsed, range.min, range.max, nanoseconds::min(), nanoseconds::max(), show)) {
      return error;
    }
    if (parsed->count() % granularity.count() != 0) return "finer than " + format_go_duration(granularity);
    assign(*parsed);
    return std::nullopt;
  };
}

std::string duration_default_text(std::chrono::nanoseconds value, DurationRange range) {
  using std::chrono::nanoseconds;
  const std::function<std::string(nanoseconds)> show = format_go_duration;
  std::string text = format_go_duration(value);
  if (const auto bounds = describe_range(range.min, range.max, nanoseconds::min(), nanoseconds::max(), show);
      !bounds.empty()) {
    text += ", range " + bounds;
  }
  return text;
}

}  // namespace

void FlagSet::add_duration(std::string name, std::chrono::nanoseconds* target, std::string help,
                           DurationRange range) {
  add_flag(std::move(name), "duration", duration_default_text(*target, range), std::move(help),
           duration_setter(range, std::chrono::nanoseconds{1},
                           [target](std::chrono::nanoseconds value) { *target = value; }));
}

void FlagSet::add_duration(std::string name, std::chrono::milliseconds* target, std::string help,
                           DurationRange range) {
  // A milliseconds variable cannot hold every nanosecond count; refuse the values it cannot hold.
  const auto representable_min = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::milliseconds{std::chrono::nanoseconds::min().count() / 1'000'000});
  const auto representable_max = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::milliseconds{std::chrono::nanoseconds::max().count() / 1'000'000});
  const DurationRange shown = range;
  range.min = std::max(range.min, representable_min);
  range.max = std::min(range.max, representable_max);
  add_flag(std::move(name), "duration", duration_default_text(*target, shown), std::move(help),
           duration_setter(range, std::chrono::milliseconds{1}, [target](std::chrono::nanoseconds value) {
             *target = std::chrono::duration_cast<std::chrono::milliseconds>(value);
           }));
}

void FlagSet::add_string_list(std::string name, std::vector<std::string>* target, std::string help) {
  // The first value replaces the default; later ones (repeats of the flag) add to it.
  auto replaced_default = std::make_shared<bool>(false);
  Flag& flag = add_flag(std::move(name), "list", quote(join(*target, ",")), std::move(help),
                        [target, replaced_default](std::string_view value) -> std::optional<std::string> {
                          if (!*replaced_default) {
                            target->clear();
                            *replaced_default = true;
                          }
                          std::size_t start = 0;
                          while (start <= value.size()) {
                            const std::size_t comma = std::min(value.find(',', start), value.size());
                            const std::string_view item = trim(value.substr(start, comma - start));
                            if (!item.empty()) target->emplace_back(item);
                            start = comma + 1;
                          }
                          return std::nullopt;
                        });
  flag.is_list = true;
}

void FlagSet::add_listen_address(std::string name, ListenAddress* target, std::string help) {
  add_flag(std::move(name), "address", quote(format_listen_address(*target)), std::move(help),
           [target](std::string_view value) -> std::optional<std::string> {
             const ParsedAddress parsed = parse_listen_address(value);
             if (!parsed.ok()) return describe_address_error(parsed.error, value);
             *target = parsed.address;
             return std::nullopt;
           });
}

void FlagSet::add_choice(std::string name, std::string* target, std::vector<std::string> choices,
                         std::string help) {
  if (choices.empty()) throw std::invalid_argument("flag \"" + name + "\" has no choices");
  add_flag(std::move(name), join(choices, "|"), quote(*target), std::move(help),
           [target, choices](std::string_view value) -> std::optional<std::string> {
             if (std::find(choices.begin(), choices.end(), value) == choices.end()) {
               if (choices.size() == 1) return "only " + choices.front() + " is supported";
               return "must be one of " + join(choices, ", ");
             }
             *target = std::string(value);
             return std::nullopt;
           });
}

void FlagSet::add_custom(std::string name, std::string type_name, std::string default_text, std::string help,
                         Setter set, bool is_bool) {
  Flag& flag = add_flag(std::move(name), std::move(type_name), std::move(default_text), std::move(help),
                        std::move(set));
  flag.is_bool = is_bool;
}

void FlagSet::add_deprecated(std::string name, bool takes_value, std::string note) {
  Flag& flag = add_flag(std::move(name), takes_value ? "string" : "bool", "", std::move(note),
                        [](std::string_view) -> std::optional<std::string> { return std::nullopt; });
  flag.is_bool = !takes_value;
  flag.deprecated = true;
}

void FlagSet::add_short_name(std::string short_name, std::string_view flag_name) {
  if (!is_valid_flag_name(short_name))
    throw std::invalid_argument("malformed short name \"" + short_name + "\"");
  if (is_reserved_flag_name(short_name)) {
    throw std::invalid_argument("short name \"" + short_name + "\" is reserved");
  }
  if (find(short_name) != nullptr || find_short(short_name) != nullptr) {
    throw std::invalid_argument("short name \"" + short_name + "\" registered twice");
  }
  Flag* flag = find(flag_name);
  if (flag == nullptr) throw std::invalid_argument("no flag \"" + std::string(flag_name) + "\" to shorten");
  if (!flag->short_name.empty()) {
    throw std::invalid_argument("flag \"" + flag->name + "\" has a short name already");
  }
  flag->short_name = std::move(short_name);
}

void FlagSet::add_config_file(std::string default_file_name) {
  if (config_default_file_name_) throw std::invalid_argument("add_config_file() called twice");
  add_flag(std::string(kConfigFlagName), "file", "$HOME/" + default_file_name,
           "YAML file of flag values, keys named like the flags (e.g. \"debug: true\"); read after the "
           "environment",
           [path = config_path_](std::string_view value) -> std::optional<std::string> {
             *path = std::string(value);
             return std::nullopt;
           });
  config_default_file_name_ = std::move(default_file_name);
}

void FlagSet::accept_config_keys(const std::vector<std::string>& keys) {
  for (const std::string& key : keys) accepted_config_keys_.push_back(lower_case(key));
}

FlagSet::Flag* FlagSet::find(std::string_view name) {
  for (auto& flag : flags_) {
    if (flag->name == name) return flag.get();
  }
  return nullptr;
}

const FlagSet::Flag* FlagSet::find(std::string_view name) const {
  return const_cast<FlagSet*>(this)->find(name);
}

FlagSet::Flag* FlagSet::find_short(std::string_view short_name) {
  for (auto& flag : flags_) {
    if (!flag->short_name.empty() && flag->short_name == short_name) return flag.get();
  }
  return nullptr;
}

std::string FlagSet::closest_name(std::string_view name) const {
  std::size_t best_distance = 3;  // suggest only close misspellings
  const Flag* best = nullptr;
  for (const auto& candidate : flags_) {
    const std::size_t distance = edit_distance(name, candidate->name);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate.get();
    }
  }
  return best != nullptr ? best->name : std::string();
}

FlagSource FlagSet::source(std::string_view name) const {
  const Flag* flag = find(name);
  if (flag == nullptr) throw std::out_of_range("no flag \"" + std::string(name) + "\"");
  return flag->source;
}

ParseOutcome FlagSet::usage_error(std::ostream& err, std::string_view message) const {
  err << program_ << ": " << message << '\n' << kHelpHint << '\n';
  ParseOutcome outcome;
  outcome.action = ParseOutcome::Action::kExit;
  outcome.exit_code = kUsageErrorExitCode;
  return outcome;
}

ParseOutcome FlagSet::parse(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
                            const EnvironmentLookup& environment, const ConfigFileReader& read_config) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  return parse(args, out, err, environment, read_config);
}

ParseOutcome FlagSet::parse(std::span<const std::string> args, std::ostream& out, std::ostream& err,
                            const EnvironmentLookup& environment, const ConfigFileReader& read_config) {
  ParseOutcome outcome;
  const auto exit_with = [&](int code) {
    outcome.action = ParseOutcome::Action::kExit;
    outcome.exit_code = code;
    return outcome;
  };
  const auto deprecation_warning = [](const Flag& flag, std::string_view how) {
    std::string warning(how);
    warning += " is deprecated and has no effect";
    if (!flag.help.empty()) warning += ": " + flag.help;
    return warning;
  };

  bool flags_ended = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (flags_ended || arg.size() < 2 || arg.front() != '-') {
      outcome.positionals.push_back(arg);  // "-" alone is a positional too, as in Go
      continue;
    }
    if (arg == "--") {
      flags_ended = true;
      continue;
    }
    const std::string_view body = std::string_view(arg).substr(arg[1] == '-' ? 2 : 1);
    if (body.empty() || body.front() == '-' || body.front() == '=') {
      return usage_error(err, "bad flag syntax: " + quote(arg));
    }
    const std::size_t equals = body.find('=');
    const std::string_view name = body.substr(0, equals);
    // A plain bool rather than optional<string_view>: GCC 12 at -O2 warns falsely about the latter.
    const bool has_inline_value = equals != std::string_view::npos;
    const std::string_view inline_value = has_inline_value ? body.substr(equals + 1) : std::string_view();

    if (name == "h" || name == "help") {
      out << usage();
      return exit_with(0);
    }
    if (name == "version") {
      out << program_ << ' ' << version_ << '\n';
      return exit_with(0);
    }

    Flag* flag = find(name);
    if (flag == nullptr) flag = find_short(name);
    if (flag == nullptr) {
      std::string message = "unknown flag --" + std::string(name);
      if (const std::string closest = closest_name(name); !closest.empty()) {
        message += " (did you mean --" + closest + "?)";
      }
      return usage_error(err, message);
    }

    std::string value;
    if (has_inline_value) {
      value = std::string(inline_value);
    } else if (flag->is_bool) {
      // Go reads "--debug false" as --debug followed by a positional "false", which would turn the
      // switch on; refuse it and show the form that works.
      if (i + 1 < args.size() && parse_go_bool(args[i + 1])) {
        return usage_error(err, "flag --" + flag->name +
                                    " is a boolean and takes no separate value: write --" + flag->name + "=" +
                                    args[i + 1]);
      }
      value = "true";
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return usage_error(err, "flag --" + flag->name + " needs a value");
    }

    if (auto reason = flag->set(value)) {
      return usage_error(err, "invalid value " + quote(value) + " for flag --" + flag->name + ": " + *reason);
    }
    if (flag->deprecated && flag->source != FlagSource::kCommandLine) {
      outcome.warnings.push_back(deprecation_warning(*flag, "flag --" + flag->name));
    }
    flag->source = FlagSource::kCommandLine;
  }

  // The environment fills in what the command line left unset: ours first, then the Go original's.
  for (const auto& flag : flags_) {
    if (flag->source != FlagSource::kDefault) continue;
    for (const std::string& variable :
         {environment_variable(flag->name), legacy_environment_variable(flag->name)}) {
      const std::optional<std::string> value = environment ? environment(variable) : std::nullopt;
      if (!value || value->empty()) continue;
      if (auto reason = flag->set(*value)) {
        return usage_error(err, "invalid value " + quote(*value) + " in environment variable " + variable +
                                    " (flag --" + flag->name + "): " + *reason);
      }
      if (flag->deprecated)
        outcome.warnings.push_back(deprecation_warning(*flag, "environment variable " + variable));
      flag->source = FlagSource::kEnvironment;
      flag->variable = variable;
      break;
    }
  }

  // The config file fills in what is still unset.
  if (config_default_file_name_) {
    if (auto error = apply_config_file(outcome, environment, read_config)) return usage_error(err, *error);
  }
  return outcome;
}

std::optional<std::string> FlagSet::apply_config_file(ParseOutcome& outcome,
                                                      const EnvironmentLookup& environment,
                                                      const ConfigFileReader& read_config) {
  const Flag& config_flag = *find(kConfigFlagName);
  const bool named_explicitly = config_flag.source != FlagSource::kDefault;
  std::string path;
  if (named_explicitly) {
    path = *config_path_;
    if (path.empty()) return std::nullopt;  // "--config=": no file at all
  } else {
    const std::optional<std::string> home = environment ? environment("HOME") : std::nullopt;
    if (!home || home->empty()) return std::nullopt;  // no home, no default file
    path = *home;
    if (path.back() != '/') path.push_back('/');
    path += *config_default_file_name_;
  }
  const std::string how_named = config_flag.source == FlagSource::kCommandLine ? "named by --config"
                                : config_flag.source == FlagSource::kEnvironment
                                    ? "named by environment variable " + config_flag.variable
                                    : "the default config file";
  const auto fail = [](std::string message) { return std::optional<std::string>(std::move(message)); };

  const ConfigFileText file = read_config
                                  ? read_config(path)
                                  : ConfigFileText{ConfigFileText::Status::kMissing, {}, "no file reader"};
  if (file.status == ConfigFileText::Status::kMissing && !named_explicitly) return std::nullopt;
  if (file.status != ConfigFileText::Status::kRead) {
    return fail("cannot read config file " + quote(path) + " (" + how_named + "): " + file.reason);
  }
  // "config file "F", line 3[, column 5]": every message about the file starts so.
  const auto where = [&path](int line, int column = 0) {
    std::string text = "config file " + quote(path);
    if (line > 0) text += ", line " + std::to_string(line);
    if (line > 0 && column > 0) text += ", column " + std::to_string(column);
    return text;
  };
  const ParsedConfigText parsed = parse_config_text(file.text);
  if (!parsed.ok()) return fail(where(parsed.error_line, parsed.error_column) + ": " + parsed.error);

  for (const ConfigValue& value : parsed.values) {
    const std::string key_where = where(value.line);
    const std::string key = lower_case(value.key);
    Flag* flag = nullptr;
    for (auto& candidate : flags_) {
      if (lower_case(candidate->name) == key) flag = candidate.get();
    }
    if (flag == nullptr) {
      if (std::find(accepted_config_keys_.begin(), accepted_config_keys_.end(), key) !=
          accepted_config_keys_.end()) {
        continue;  // a key of another command of this program
      }
      std::string message = key_where + ": unknown key " + quote(value.key);
      if (const std::string closest = closest_name(key); !closest.empty()) {
        message += " (did you mean " + closest + "?)";
      }
      return fail(message);
    }
    if (flag->name == kConfigFlagName) {
      return fail(key_where + ": key " + quote(value.key) +
                  " cannot name another config file (use --config or OVALSTREAM_CONFIG)");
    }
    if (value.kind == ConfigValue::Kind::kSequence && !flag->is_list) {
      return fail(key_where + ": key " + quote(value.key) + " takes one value (" + flag->type_name +
                  "), not a list");
    }
    // An empty value sets nothing; a higher source's value wins.
    if (value.kind == ConfigValue::Kind::kNull || flag->source != FlagSource::kDefault) continue;
    // An empty list ("filter: []") empties a list flag: the setter's first call replaces its default.
    const std::vector<std::string> items = value.items.empty() ? std::vector<std::string>{""} : value.items;
    for (const std::string& item : items) {
      if (auto reason = flag->set(item)) {
        return fail("invalid value " + quote(item) + " in " + key_where + ", key " + quote(value.key) +
                    " (flag --" + flag->name + "): " + *reason);
      }
    }
    if (flag->deprecated) {
      std::string warning = "config file key " + value.key + " is deprecated and has no effect";
      if (!flag->help.empty()) warning += ": " + flag->help;
      outcome.warnings.push_back(std::move(warning));
    }
    flag->source = FlagSource::kConfigFile;
  }
  outcome.config_file = path;
  return std::nullopt;
}

std::string FlagSet::usage() const {
  std::ostringstream text;
  text << program_ << ' ' << version_ << ": " << summary_ << "\n\n";
  text << "Usage:\n  " << program_ << ' ' << synopsis_ << "\n\n";
  // Where else a flag's value can come from, highest first.
  text << "Flags (also read from OVALSTREAM_<FLAG>, then VANTAGE_<FLAG>"
       << (config_default_file_name_ ? ", then the --config file" : "") << "; the command line wins):\n";

  std::vector<const Flag*> current;
  std::vector<const Flag*> deprecated;
  for (const auto& flag : flags_) (flag->deprecated ? deprecated : current).push_back(flag.get());
  const auto by_name = [](const Flag* a, const Flag* b) { return a->name < b->name; };
  std::sort(current.begin(), current.end(), by_name);
  std::sort(deprecated.begin(), deprecated.end(), by_name);

  const auto write_flag = [&text](const Flag& flag) {
    // A boolean shows "[=bool]" because it takes its value only after '='.
    const std::string form = (flag.short_name.empty() ? "" : "-" + flag.short_name + ", ") + "--" +
                             flag.name + (flag.is_bool ? "[=" + flag.type_name + "]" : " " + flag.type_name);
    text << "  " << form;
    constexpr std::size_t kEnvironmentColumn = 36;
    const std::size_t used = 2 + form.size();
    text << std::string(used < kEnvironmentColumn ? kEnvironmentColumn - used : 1, ' ') << "env "
         << environment_variable(flag.name) << '\n';
    text << "      " << flag.help;
    if (!flag.deprecated) text << " (default " << flag.default_text << ")";
    text << '\n';
  };
  for (const Flag* flag : current) write_flag(*flag);
  text << "  -h, --help                        print this help and exit\n";
  text << "  --version                         print the version and exit\n";
  if (!deprecated.empty()) {
    text << "\nDeprecated flags (accepted for compatibility with the Go server, no effect):\n";
    for (const Flag* flag : deprecated) write_flag(*flag);
  }
  return text.str();
}

}  // namespace ovalstream::runtime
