// The config file shared by the recorder's commands (commands.hpp).
#include "commands/commands.hpp"
#include "ovalstream/runtime/flags.hpp"
#include "ovalstream/runtime/log.hpp"

namespace ovalstream::recorder {

void add_recorder_config_file(runtime::FlagSet& flags) {
  flags.add_config_file(".eventrecorder.yaml");
  for (const auto& names_of : {record_flag_names, replay_flag_names, serve_flag_names, simulate_flag_names}) {
    flags.accept_config_keys(names_of());
  }
}

runtime::Logger command_logger(const runtime::ParseOutcome& parsed, bool debug, std::ostream& out) {
  runtime::LoggerOptions options;
  options.level = debug ? runtime::LogLevel::kDebug : runtime::LogLevel::kInfo;
  runtime::Logger logger("recorder", out, options);
  if (!parsed.config_file.empty()) logger.info("read the config file", {{"file", parsed.config_file}});
  for (const std::string& warning : parsed.warnings) logger.warn(warning);
  return logger;
}

}  // namespace ovalstream::recorder
