#pragma once
// What every session of one Server shares: the options, the router, the observer, the registry of open
// websockets (for open_connections, the liveness sweep and close_all) and the connection limit.
// Thread safety: all members may be called from any thread.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ovalstream/hub/frame.hpp"
#include "ovalstream/hub/server.hpp"
#include "ovalstream/runtime/mutex.hpp"
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

  // A slot for one plain HTTP connection (options().http), held from accept until the connection closes
  // or becomes a websocket. The refusal reason ("http_connections", "http_connections_per_address") when
  // a bound is reached, "" when the slot was taken.
  [[nodiscard]] std::string_view try_acquire_http_slot(const std::string& address);
  void release_http_slot(const std::string& address);
  std::size_t http_connections() const;

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

  mutable runtime::Mutex http_mutex_;
  std::size_t http_connections_ GUARDED_BY(http_mutex_) = 0;
  std::unordered_map<std::string, std::size_t> http_by_address_ GUARDED_BY(http_mutex_);  // no zero entries

  // Also guards TrackedConnection::registry_index of the registered connections.
  mutable runtime::Mutex registry_mutex_;
  // Unordered, swap-removed by index: O(1) add and remove, 16 bytes per connection, compact to sweep.
  std::vector<std::shared_ptr<TrackedConnection>> connections_ GUARDED_BY(registry_mutex_);
  bool taken_ GUARDED_BY(registry_mutex_) = false;  // take_all() ran
};

// One taken HTTP slot (HubState::try_acquire_http_slot), released by the destructor or release().
class HttpSlot {
 public:
  HttpSlot() = default;
  HttpSlot(std::shared_ptr<HubState> hub, std::string address)
      : hub_(std::move(hub)), address_(std::move(address)) {}
  HttpSlot(HttpSlot&& other) noexcept : hub_(std::move(other.hub_)), address_(std::move(other.address_)) {}
  HttpSlot& operator=(HttpSlot&& other) noexcept {
    if (this != &other) {
      release();
      hub_ = std::move(other.hub_);
      address_ = std::move(other.address_);
    }
    return *this;
  }
  HttpSlot(const HttpSlot&) = delete;
  HttpSlot& operator=(const HttpSlot&) = delete;
  ~HttpSlot() { release(); }

  void release() {
    if (hub_) hub_->release_http_slot(address_);
    hub_.reset();
  }

 private:
  std::shared_ptr<HubState> hub_;
  std::string address_;
};

}  // namespace ovalstream::hub
