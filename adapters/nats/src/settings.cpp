#include "ovalstream/nats/settings.hpp"

#include <chrono>
#include <stdexcept>
#include <string_view>

namespace ovalstream::nats {

std::string redact_url_credentials(std::string_view urls) {
  std::string redacted;
  redacted.reserve(urls.size());
  while (true) {
    const std::size_t comma = urls.find(',');
    std::string_view url = urls.substr(0, comma);
    const std::size_t scheme_end = url.find("://");
    const std::size_t authority = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
    const std::size_t authority_end = std::min(url.find('/', authority), url.size());
    const std::size_t at = url.substr(0, authority_end).rfind('@');
    if (at != std::string_view::npos && at >= authority) {
      redacted.append(url.substr(0, authority)).append("REDACTED").append(url.substr(at));
    } else {
      redacted.append(url);
    }
    if (comma == std::string_view::npos) break;
    redacted.push_back(',');
    urls.remove_prefix(comma + 1);
  }
  return redacted;
}

void add_nats_flags(runtime::FlagSet& flags, NatsSettings* settings) {
  flags.add_string("nats-url", &settings->url, "NATS server URL(s), comma-separated");
  flags.add_string("nats-username", &settings->username, "NATS user name");
  flags.add_string("nats-password", &settings->password, "NATS password");
  flags.add_bool("nats-tls", &settings->tls, "connect to NATS with TLS");
  flags.add_string("nats-creds", &settings->credentials_file, "NATS credentials file (JWT and NKey seed)");
  flags.add_string("stream", &settings->stream, "JetStream stream holding competition.>");
  flags.add_bool("create-stream", &settings->create_stream,
                 "create the stream if it is missing (development; production streams are provisioned)");
  flags.add_choice("driver", &settings->driver, {"nats"}, "message broker driver, as in the Go original");
  flags.add_deprecated("nats-cluster-id", true, "NATS Streaming is replaced by JetStream");
  flags.add_deprecated("nats-client-id", true, "NATS Streaming is replaced by JetStream");
}

ConnectionOptions connection_options(const NatsSettings& settings, std::string client_name) {
  ConnectionOptions options;
  options.url = settings.url;
  options.username = settings.username;
  options.password = settings.password;
  options.tls = settings.tls;
  options.credentials_file = settings.credentials_file;
  options.name = std::move(client_name);
  return options;
}

std::unique_ptr<Connection> connect_logged(const NatsSettings& settings, std::string client_name,
                                           const runtime::Logger& logger,
                                           std::function<void(bool connected)> on_change,
                                           std::function<void()> on_error) {
  ConnectionOptions options = connection_options(settings, std::move(client_name));
  options.on_connection_change = [logger, url = redact_url_credentials(settings.url),
                                  on_change](bool connected) {
    if (connected) {
      logger.info("nats reconnected", {{"url", url}});
    } else {
      logger.warn("nats disconnected; reconnecting", {{"url", url}});
    }
    if (on_change) on_change(connected);
  };
  options.on_error = [logger, on_error](const Status& status) {
    if (on_error) on_error();
    logger.log_every("nats-error", std::chrono::seconds(10), runtime::LogLevel::kWarn, "nats error",
                     {{"status", status.message}});
  };
  auto connection = Connection::connect(options);
  if (!connection)
    throw std::runtime_error("cannot use NATS at " + redact_url_credentials(settings.url) + ": " +
                             connection.status().message);
  logger.info(connection.value()->connected() ? "nats connected"
                                              : "nats not reachable yet; retrying in the background",
              {{"url", redact_url_credentials(settings.url)}});
  return std::move(connection).value();
}

}  // namespace ovalstream::nats
