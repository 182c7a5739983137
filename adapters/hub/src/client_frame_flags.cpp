#include "ovalstream/hub/client_frame_flags.hpp"

namespace ovalstream::hub {

void ClientFrameSettings::apply_to(ServerOptions& options) const {
  options.max_client_message_bytes = max_message_bytes;
  options.client_frame_rate = frame_rate;
}

void add_client_frame_flags(runtime::FlagSet& flags, ClientFrameSettings* settings) {
  // Discarded messages are never buffered, so the bound is about wasted bandwidth, not memory: from 1 KiB
  // (a heartbeat with room to spare) to 16 MiB.
  flags.add_int("max-client-message-bytes", &settings->max_message_bytes,
                "payload bytes a websocket client's message (text or binary, all its fragments) may have; "
                "clients' messages are read and discarded (heartbeats); a larger one closes 1009",
                {.min = 1024, .max = 16 << 20});
  flags.add_int("client-frame-rate", &settings->frame_rate,
                "data frames per second a websocket client may send, on average over 10 s (bursts up to 10 s "
                "worth); more closes 1008; pings and pongs do not count (0 = no limit)",
                {.min = 0, .max = 10'000});
}

}  // namespace ovalstream::hub
