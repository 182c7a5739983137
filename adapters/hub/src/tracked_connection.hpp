#pragma once
// A websocket connection as the hub itself sees it: a Connection plus the hooks the hub-wide machinery
// (the liveness sweep, close_all, server shutdown) needs. Implemented by WebSocketSession<Stream>.

#include <cstddef>
#include <cstdint>
#include <limits>

#include "ovalstream/hub/connection.hpp"

namespace ovalstream::hub {

class TrackedConnection : public Connection {
 public:
  static constexpr std::size_t kNotRegistered = std::numeric_limits<std::size_t>::max();

  // Called by the liveness sweep, from its strand and without the hub's registry lock: pings when due
  // (written at once when nothing is pending), closes a silent peer, and tears down a connection whose
  // close did not finish in time. Thread-safe; never blocks.
  virtual void check_liveness(std::int64_t steady_now_ns) = 0;
  // Tears the connection down at once, without a close frame (server shutdown). Thread-safe.
  virtual void abort() = 0;
  // True once the socket is closed and on_close has been called (or is being called).
  virtual bool is_torn_down() const = 0;
  // The memory queued now (what client_queue_bytes bounds). Thread-safe.
  virtual std::size_t queued_bytes() const = 0;

  // Position in HubState's registry; read and written only by HubState under its mutex.
  std::size_t registry_index = kNotRegistered;
};

}  // namespace ovalstream::hub
