#pragma once
// The NATS flags every executable shares (the Go original's names), so the aggregator and the recorder
// read the same command lines and OVALSTREAM_* variables the same way.
// Thread safety: plain values; add_nats_flags() follows runtime::FlagSet's rules (main thread, before run).

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ovalstream/nats/connection.hpp"
#include "ovalstream/runtime/flags.hpp"
#include "ovalstream/runtime/log.hpp"

namespace ovalstream::nats {

struct NatsSettings {
  std::string url = "nats://127.0.0.1:4222";
  std::string username;
  std::string password;
  bool tls = false;
  // --nats-ca, --nats-cert, --nats-key (PEM files); a CA or a client certificate turns TLS on.
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string credentials_file;
  std::string stream = "VANTAGE";
  bool create_stream = false;
  // The Go original's --driver; nats was its only working driver, and it is the only value accepted.
  std::string driver = "nats";
};

// Registers --nats-url, --nats-username, --nats-password, --nats-tls, --nats-ca, --nats-cert, --nats-key,
// --nats-creds, --stream, --create-stream and --driver (nats only) bound to `settings`, and the original's
// NATS Streaming flags as deprecated no-ops.
void add_nats_flags(runtime::FlagSet& flags, NatsSettings* settings);

// The usage error of settings that go together wrongly (--nats-cert without --nats-key, or the reverse);
// nullopt when they are fine. Files are not read here: Connection::connect() reports an unreadable one.
std::optional<std::string> check_nats_settings(const NatsSettings& settings);

// The `nats` CLI command that creates `settings.stream` capturing `subjects` as docs/deploy.md provisions
// it (file storage, 3 replicas, limits), with the server URL (credentials redacted) and the CA file when
// given; for the line a service logs when the stream is missing.
std::string stream_add_command(const NatsSettings& settings, const std::vector<std::string>& subjects);

// Connection options for these settings; `client_name` is what the server's monitoring shows.
ConnectionOptions connection_options(const NatsSettings& settings, std::string client_name);

// `urls` (comma-separated NATS URLs) with the user information of each (user:password@, token@) replaced by
// "REDACTED@", for logs and error messages.
std::string redact_url_credentials(std::string_view urls);

// Connects as a service does at startup: logs the outcome, every later loss and recovery of the connection,
// and asynchronous errors (at most one line per 10 s); `on_change` (may be empty) is told of each loss and
// recovery too, and `on_error` (may be empty) of each asynchronous error, on nats.c's callback thread. Throws
// std::runtime_error for settings that cannot work (a bad URL, unreadable credentials or TLS files, a failed
// TLS handshake): a startup mistake.
std::unique_ptr<Connection> connect_logged(const NatsSettings& settings, std::string client_name,
                                           const runtime::Logger& logger,
                                           std::function<void(bool connected)> on_change = {},
                                           std::function<void()> on_error = {});

}  // namespace ovalstream::nats
