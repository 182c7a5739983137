// The liveness sweep visits connections without holding the hub's registry: a ping is now written at once
// (a system call per connection), so a sweep of thousands must not keep connections from opening or closing.
#include <utility>  // before Asio

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <thread>

#include "hub_state.hpp"
#include "liveness_sweep.hpp"

namespace ovalstream::hub {
namespace {

using namespace std::chrono_literals;

// A connection that, when the sweep visits it, asks the hub for its registry from another thread and
// waits (bounded) for the answer: the answer comes only if the sweep does not hold the registry.
class RegistryProbe final : public TrackedConnection {
 public:
  explicit RegistryProbe(std::shared_ptr<HubState> hub) : hub_(std::move(hub)) {}

  void check_liveness(std::int64_t) override {
    if (visited_.load()) return;
    auto answered = std::make_shared<std::promise<void>>();
    std::future<void> answer = answered->get_future();
    // Detached: if the registry is held, the thread finishes once the sweep releases it.
    std::thread([hub = hub_, answered] {
      hub->open_connections();
      answered->set_value();
    }).detach();
    registry_free_ = answer.wait_for(2s) == std::future_status::ready;
    visited_ = true;
  }
  void abort() override {}
  bool is_torn_down() const override { return false; }
  std::size_t queued_bytes() const override { return 0; }
  bool send(std::span<const Frame>) override { return true; }
  void close(std::uint16_t, std::string_view) override {}
  bool is_open() const override { return true; }
  std::uint64_t id() const override { return 1; }

  bool visited() const { return visited_.load(); }
  bool registry_free() const { return registry_free_.load(); }

 private:
  std::shared_ptr<HubState> hub_;
  std::atomic<bool> visited_{false};
  std::atomic<bool> registry_free_{false};
};

TEST(LivenessSweep, VisitsConnectionsWithoutHoldingTheHubsRegistry) {
  ServerOptions options;
  options.ping_interval = 40ms;  // a 10 ms tick
  options.pong_timeout = 60s;
  auto hub = std::make_shared<HubState>(options, Router{}, nullptr);
  auto probe = std::make_shared<RegistryProbe>(hub);
  ASSERT_TRUE(hub->try_reserve_connection());
  ASSERT_TRUE(hub->add(probe));

  boost::asio::io_context io;
  auto sweep = std::make_shared<LivenessSweep>(io, hub);
  sweep->start();
  std::thread runner([&] { io.run_for(10s); });
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!probe->visited() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
  sweep->stop();
  runner.join();

  ASSERT_TRUE(probe->visited()) << "the sweep never visited the connection";
  EXPECT_TRUE(probe->registry_free()) << "the sweep held the hub's registry while it visited a connection";
  hub->remove(*probe);
}

}  // namespace
}  // namespace ovalstream::hub
