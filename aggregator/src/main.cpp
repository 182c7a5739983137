// aggregator [start] [flags]: follows competitions on JetStream and serves their live state over websockets.
// main only wires: parse the configuration, build the service, run it.
#include <exception>
#include <iostream>

#include "aggregator_service.hpp"
#include "config.hpp"
#include "ovalstream/runtime/descriptors.hpp"

int main(int argc, char** argv) {
  using namespace ovalstream;
  const aggregator::ConfigOutcome outcome = aggregator::parse_config(argc, argv, std::cout, std::cerr);
  if (!outcome.config) return outcome.exit_code;
  runtime::LoggerOptions log_options;
  log_options.level = outcome.config->debug ? runtime::LogLevel::kDebug : runtime::LogLevel::kInfo;
  runtime::Logger logger("aggregator", log_options);
  if (!outcome.config_file.empty()) logger.info("read the config file", {{"file", outcome.config_file}});
  for (const std::string& warning : outcome.warnings) logger.warn(warning);
  runtime::log_descriptor_limit(logger, runtime::raise_descriptor_limit());
  try {
    aggregator::AggregatorService service(*outcome.config, logger);
    return service.run();
  } catch (const std::exception& error) {
    logger.error("cannot start", {{"error", error.what()}});
    return 1;
  }
}
