#include "ovalstream/nats/settings.hpp"

namespace ovalstream::nats {

void add_nats_flags(runtime::FlagSet& flags, NatsSettings* settings) {
  flags.add_string("nats-url", &settings->url, "NATS server URL(s), comma-separated");
  flags.add_string("nats-username", &settings->username, "NATS user name");
  flags.add_string("nats-password", &settings->password, "NATS password");
  flags.add_bool("nats-tls", &settings->tls, "connect to NATS with TLS");
  flags.add_string("nats-creds", &settings->credentials_file, "NATS credentials file (JWT and NKey seed)");
  flags.add_string("stream", &settings->stream, "JetStream stream holding competition.>");
  flags.add_bool("create-stream", &settings->create_stream,
                 "create the stream if it is missing (development; production streams are provisioned)");
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

}  // namespace ovalstream::nats
