#include "ovalstream/hub/edge_flags.hpp"

namespace ovalstream::hub {

void EdgeSettings::apply_to(ServerOptions& options) const {
  options.http = http;
  options.header_timeout = header_timeout;
  options.write_stall_timeout = write_stall_timeout;
}

void add_edge_flags(runtime::FlagSet& flags, EdgeSettings* settings) {
  flags.add_int("max-http-connections", &settings->http.max_connections,
                "plain HTTP connections (requests, websocket handshakes) open at once at most; more get 503 "
                "(0 = no limit)",
                {.min = 0, .max = 1'000'000});
  flags.add_int(
      "max-http-connections-per-address", &settings->http.max_connections_per_address,
      "plain HTTP connections open at once from one client IP address at most; more get 503 (0 = no "
      "limit; behind an ingress every client has the ingress's address)",
      {.min = 0, .max = 1'000'000});
  flags.add_int("descriptor-reserve", &settings->http.descriptor_reserve,
                "new client connections are closed at once while fewer descriptors than this are free below "
                "RLIMIT_NOFILE, so metrics, health and NATS always have some",
                {.min = 0, .max = 1'000'000});
  flags.add_duration("header-timeout", &settings->header_timeout,
                     "time a client has to send a request's header (and an idle kept-alive connection waits)",
                     {.min = std::chrono::milliseconds(100), .max = std::chrono::minutes(10)});
  flags.add_duration(
      "write-stall-timeout", &settings->write_stall_timeout,
      "a response the client takes no byte of for this long is cut off (no bound on total time)",
      {.min = std::chrono::milliseconds(100), .max = std::chrono::hours(1)});
}

}  // namespace ovalstream::hub
