#pragma once
// The flags that bound what a websocket client may send as data frames (heartbeats, which the hub reads and
// discards): the aggregator's, declared here beside the edge flags so every websocket server that wants
// them spells and documents them the same way.

#include <cstdint>

#include "ovalstream/hub/server.hpp"
#include "ovalstream/runtime/flags.hpp"

namespace ovalstream::hub {

struct ClientFrameSettings {
  std::uint64_t max_message_bytes = 64 * 1024;
  std::uint32_t frame_rate = 10;  // data frames per second, on average over 10 s; 0 = no limit

  // Copies the settings into the options of a websocket server.
  void apply_to(ServerOptions& options) const;
};

// --max-client-message-bytes, --client-frame-rate.
void add_client_frame_flags(runtime::FlagSet& flags, ClientFrameSettings* settings);

}  // namespace ovalstream::hub
