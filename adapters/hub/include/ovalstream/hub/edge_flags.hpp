#pragma once
// The flags that bound what clients can hold at the edge (plain HTTP connections, their timeouts), shared
// by the aggregator and `recorder serve` so both spell and document them the same way.

#include "ovalstream/hub/server.hpp"
#include "ovalstream/runtime/flags.hpp"

namespace ovalstream::hub {

struct EdgeSettings {
  HttpLimits http{.descriptor_reserve = 64};
  std::chrono::milliseconds header_timeout{5'000};
  std::chrono::milliseconds write_stall_timeout{10'000};

  // Copies the settings into the options of a client-facing server.
  void apply_to(ServerOptions& options) const;
};

// --max-http-connections, --max-http-connections-per-address, --descriptor-reserve, --header-timeout,
// --write-stall-timeout.
void add_edge_flags(runtime::FlagSet& flags, EdgeSettings* settings);

}  // namespace ovalstream::hub
