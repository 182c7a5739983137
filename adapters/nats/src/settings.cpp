#include "ovalstream/nats/settings.hpp"

#include <algorithm>
#include <cctype>
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
  flags.add_bool("nats-tls", &settings->tls,
                 "connect to NATS with TLS (also on with a tls:// URL, --nats-ca or --nats-cert)");
  flags.add_string("nats-ca", &settings->ca_file,
                   "CA certificates (PEM) that sign the NATS server's certificate, instead of the system's; "
                   "turns TLS on");
  flags.add_string("nats-cert", &settings->cert_file,
                   "client certificate chain (PEM) for a NATS server that verifies clients; with --nats-key");
  flags.add_string("nats-key", &settings->key_file, "private key (PEM) of --nats-cert");
  flags.add_string("nats-creds", &settings->credentials_file, "NATS credentials file (JWT and NKey seed)");
  flags.add_string("stream", &settings->stream, "JetStream stream holding competition.>");
  flags.add_bool("create-stream", &settings->create_stream,
                 "create the stream if it is missing (development; production streams are provisioned)");
  flags.add_choice("driver", &settings->driver, {"nats"}, "message broker driver, as in the Go original");
  flags.add_deprecated("nats-cluster-id", true, "NATS Streaming is replaced by JetStream");
  flags.add_deprecated("nats-client-id", true, "NATS Streaming is replaced by JetStream");
}

std::optional<std::string> check_nats_settings(const NatsSettings& settings) {
  if (settings.cert_file.empty() != settings.key_file.empty()) {
    return std::string(settings.cert_file.empty() ? "--nats-key needs --nats-cert"
                                                  : "--nats-cert needs --nats-key") +
           " (a client certificate and its private key go together)";
  }
  return std::nullopt;
}

namespace {

// `text` as one shell word: as is when it holds only characters no shell treats specially, else in single
// quotes.
std::string shell_word(std::string_view text) {
  const bool plain = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("-_./:,=@+%").find(c) != std::string_view::npos;
  });
  if (plain) return std::string(text);
  std::string quoted = "'";
  for (const char c : text) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted.push_back(c);
    }
  }
  quoted.push_back('\'');
  return quoted;
}

}  // namespace

std::string stream_add_command(const NatsSettings& settings, const std::vector<std::string>& subjects) {
  std::string command = "nats --server " + shell_word(redact_url_credentials(settings.url));
  if (!settings.ca_file.empty()) command += " --tlsca " + shell_word(settings.ca_file);
  command += " stream add " + shell_word(settings.stream);
  std::string joined;
  for (const std::string& subject : subjects) joined += (joined.empty() ? "" : ",") + subject;
  command += " --subjects " + shell_word(joined);
  // docs/deploy.md, "NATS with JetStream": keep the two the same.
  command +=
      " --storage file --replicas 3 --retention limits --max-age 72h --max-bytes 20GiB --discard old "
      "--dupe-window 2m "
      "--defaults";
  return command;
}

ConnectionOptions connection_options(const NatsSettings& settings, std::string client_name) {
  ConnectionOptions options;
  options.url = settings.url;
  options.username = settings.username;
  options.password = settings.password;
  options.tls = settings.tls;
  options.ca_file = settings.ca_file;
  options.cert_file = settings.cert_file;
  options.key_file = settings.key_file;
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
  options.on_error = [logger, on_error](const Error& status) {
    if (on_error) on_error();
    logger.log_every("nats-error", std::chrono::seconds(10), runtime::LogLevel::kWarn, "nats error",
                     {{"status", status.message}});
  };
  auto connection = Connection::connect(options);
  if (!connection)
    throw std::runtime_error("cannot use NATS at " + redact_url_credentials(settings.url) + ": " +
                             connection.error().message);
  logger.info(connection.value()->connected() ? "nats connected"
                                              : "nats not reachable yet; retrying in the background",
              {{"url", redact_url_credentials(settings.url)}, {"tls", tls_enabled(options)}});
  return std::move(connection).value();
}

}  // namespace ovalstream::nats
