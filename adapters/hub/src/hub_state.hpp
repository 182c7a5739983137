#pragma once
// What every session of one Server shares: the options, the router, the observer, the registry of open
// websockets (for open_connections, the liveness sweep and close_all) and the connection limit.
// Thread safety: all members may be called from any thread.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "ovalstream/hub/frame.hpp"
#include "ovalstream/hub/server.hpp"
#include "tracked_connection.hpp"

namespace ovalstream::hub {

class HubState {
 public:
  HubState(ServerOptions options, Router router, std::shared_ptr<HubObserver> observer);

  const ServerOptions& options() const { return options_; }
  // Never null: a no-op observer stands in when the application gave none.
  HubObserver& observer() const { return *observer_; }
  const Router& router() const { return router_; }
  std::uint64_t next_connection_id() { return next_connection_id_.fetch_add(1, std::memory_order_relaxed); }
  // The ping every connection sends, encoded once.
  const Frame& ping_frame() const { return ping_frame_; }

  // Upgrades are refused with 503 "draining" once the server stops accepting.
  bool accepting() const { return accepting_.load(std::memory_order_acquire); }
  void stop_accepting() { accepting_.store(false, std::memory_order_release); }

  // Reserves a websocket slot before the 101 response; false over max_connections. A slot is held from
  // the upgrade decision until the connection is torn down (or the 101 could not be written).
  bool try_reserve_connection();
  void release_connection();

  // The registry of websockets from open until torn down. add() after a successful reserve; remove()
  // also releases the slot. add() refuses (and releases the slot) once take_all() ran: the server is gone.
  bool add(const std::shared_ptr<TrackedConnection>& connection);
  void remove(TrackedConnection& connection);
  std::size_t open_connections() const;
  std::vector<std::shared_ptr<TrackedConnection>> snapshot() const;
  // Empties the registry (server shutdown): the registry and the sessions no longer own each other, so
  // sessions whose handlers never run again are still freed.
  std::vector<std::shared_ptr<TrackedConnection>> take_all();

 private:
  const ServerOptions options_;
  const Router router_;
  const std::shared_ptr<HubObserver> observer_;
  const Frame ping_frame_;
  std::atomic<std::uint64_t> next_connection_id_{1};
  std::atomic<bool> accepting_{true};
  std::atomic<std::size_t> reserved_connections_{0};

  mutable std::mutex registry_mutex_;
  // Unordered, swap-removed by index: O(1) add and remove, 16 bytes per connection, compact to sweep.
  std::vector<std::shared_ptr<TrackedConnection>> connections_;
  bool taken_ = false;  // take_all() ran
};

}  // namespace ovalstream::hub
