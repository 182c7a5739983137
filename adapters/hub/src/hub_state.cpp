#include "hub_state.hpp"

#include <utility>

namespace ovalstream::hub {

namespace {

class NullObserver final : public HubObserver {
 public:
  void connection_opened(const std::string&) override {}
  void connection_closed(const std::string&) override {}
  void connection_rejected(const std::string&) override {}
  void frames_written(std::uint64_t, std::uint64_t) override {}
  void publish_to_write(std::chrono::nanoseconds) override {}
  void slow_consumer_closed() override {}
};

}  // namespace

HubState::HubState(ServerOptions options, Router router, std::shared_ptr<HubObserver> observer)
    : options_(std::move(options)),
      router_(std::move(router)),
      observer_(observer ? std::move(observer) : std::make_shared<NullObserver>()),
      ping_frame_(make_frame(Opcode::kPing, std::make_shared<const std::string>())) {}

std::string_view HubState::try_acquire_http_slot(const std::string& address) {
  const HttpLimits& limits = options_.http;
  runtime::MutexLock lock(http_mutex_);
  if (limits.max_connections != 0 && http_connections_ >= limits.max_connections) return "http_connections";
  std::size_t& per_address = http_by_address_[address];
  if (limits.max_connections_per_address != 0 && per_address >= limits.max_connections_per_address) {
    return "http_connections_per_address";
  }
  ++per_address;
  ++http_connections_;
  return {};
}

void HubState::release_http_slot(const std::string& address) {
  runtime::MutexLock lock(http_mutex_);
  const auto it = http_by_address_.find(address);
  if (it == http_by_address_.end()) return;
  --http_connections_;
  if (--it->second == 0) http_by_address_.erase(it);
}

std::size_t HubState::http_connections() const {
  runtime::MutexLock lock(http_mutex_);
  return http_connections_;
}

bool HubState::try_reserve_connection() {
  const std::size_t limit = options_.max_connections;
  if (limit == 0) {
    reserved_connections_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  std::size_t reserved = reserved_connections_.load(std::memory_order_relaxed);
  do {
    if (reserved >= limit) return false;
  } while (!reserved_connections_.compare_exchange_weak(reserved, reserved + 1, std::memory_order_relaxed));
  return true;
}

void HubState::release_connection() {
  reserved_connections_.fetch_sub(1, std::memory_order_relaxed);
}

bool HubState::add(const std::shared_ptr<TrackedConnection>& connection) {
  {
    runtime::MutexLock lock(registry_mutex_);
    if (!taken_) {
      connection->registry_index = connections_.size();
      connections_.push_back(connection);
      return true;
    }
  }
  release_connection();
  return false;
}

void HubState::remove(TrackedConnection& connection) {
  std::shared_ptr<TrackedConnection> removed;  // destroyed after the lock is released
  {
    runtime::MutexLock lock(registry_mutex_);
    const std::size_t index = connection.registry_index;
    if (index >= connections_.size() || connections_[index].get() != &connection) return;
    removed = std::move(connections_[index]);
    if (index + 1 != connections_.size()) {
      connections_[index] = std::move(connections_.back());
      connections_[index]->registry_index = index;
    }
    connections_.pop_back();
    connection.registry_index = TrackedConnection::kNotRegistered;
  }
  release_connection();
}

std::vector<std::shared_ptr<TrackedConnection>> HubState::take_all() {
  std::vector<std::shared_ptr<TrackedConnection>> taken;
  {
    runtime::MutexLock lock(registry_mutex_);
    taken_ = true;
    taken.swap(connections_);
    for (const auto& connection : taken) connection->registry_index = TrackedConnection::kNotRegistered;
  }
  for (std::size_t i = 0; i < taken.size(); ++i) release_connection();
  return taken;
}

std::size_t HubState::open_connections() const {
  runtime::MutexLock lock(registry_mutex_);
  return connections_.size();
}

std::vector<std::shared_ptr<TrackedConnection>> HubState::snapshot() const {
  runtime::MutexLock lock(registry_mutex_);
  return connections_;
}

}  // namespace ovalstream::hub
