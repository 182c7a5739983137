#pragma once
// Test support for the hub: an in-process Server on 127.0.0.1:0 with its own io_context threads, an
// observer that records what the hub reports, and bounded waiting.

#include <utility>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ovalstream/hub/server.hpp"

namespace ovalstream::hub::testing {

using namespace std::chrono_literals;

// Polls `condition` every few milliseconds until it holds or `timeout` passes; returns its last value.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

class RecordingObserver final : public HubObserver {
 public:
  void connection_opened(const std::string& endpoint) override;
  void connection_closed(const std::string& endpoint) override;
  void connection_rejected(const std::string& reason) override;
  void frames_written(std::uint64_t frames, std::uint64_t bytes) override;
  void publish_to_write(std::chrono::nanoseconds latency) override;
  void slow_consumer_closed() override;
  void pong_coalesced() override { ++pongs_coalesced; }
  void reads_paused() override { ++read_pauses; }
  void client_frame_discarded() override { ++client_frames_discarded; }
  void client_frame_limit_closed(const std::string& reason) override;
  void websocket_closed(const std::string& reason) override;
  void http_response(unsigned status) override;

  std::atomic<std::uint64_t> pongs_coalesced{0};
  std::atomic<std::uint64_t> read_pauses{0};
  std::atomic<std::uint64_t> client_frames_discarded{0};
  std::atomic<std::uint64_t> opened{0};
  std::atomic<std::uint64_t> closed{0};
  std::atomic<std::uint64_t> writes{0};
  std::atomic<std::uint64_t> frames{0};
  std::atomic<std::uint64_t> bytes{0};
  std::atomic<std::uint64_t> latencies{0};
  std::atomic<std::uint64_t> slow_consumers{0};

  std::uint64_t rejected(const std::string& reason) const;
  std::uint64_t opened_on(const std::string& endpoint) const;
  std::uint64_t closed_on(const std::string& endpoint) const;
  std::uint64_t limit_closes(const std::string& reason) const;
  // websocket_closed() by reason, and http_response() by status.
  std::map<std::string, std::uint64_t> close_reasons() const;
  std::uint64_t responses(unsigned status) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::uint64_t> rejected_;
  std::map<std::string, std::uint64_t> opened_on_;
  std::map<std::string, std::uint64_t> closed_on_;
  std::map<std::string, std::uint64_t> limit_closes_;
  std::map<std::string, std::uint64_t> close_reasons_;
  std::map<unsigned, std::uint64_t> responses_;
};

// The connections a websocket route opened and that are not closed yet, for the test to send to.
class ConnectionLog {
 public:
  WebSocketHandlers handlers(std::string endpoint = "test");
  std::vector<std::shared_ptr<Connection>> open() const;
  // Waits until at least `count` connections are open; returns them in opening order.
  std::vector<std::shared_ptr<Connection>> wait_for(std::size_t count,
                                                    std::chrono::milliseconds timeout) const;
  std::size_t closed_count() const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<Connection>> opened_;
  std::size_t closed_ = 0;
};

// Default test options: loopback, any port, timings far from the test's own.
ServerOptions test_options();

class TestServer {
 public:
  TestServer(ServerOptions options, Router router, int threads = 2);
  ~TestServer();

  Server& server() { return *server_; }
  std::uint16_t port() const { return port_; }
  RecordingObserver& observer() { return *observer_; }
  boost::asio::io_context& io() { return io_; }

 private:
  boost::asio::io_context io_;
  std::shared_ptr<RecordingObserver> observer_ = std::make_shared<RecordingObserver>();
  std::unique_ptr<Server> server_;
  std::uint16_t port_ = 0;
  std::vector<std::thread> threads_;
};

// A router with one websocket endpoint at /ws (handlers from `log`) and 404 for everything else.
Router websocket_router(ConnectionLog& log);

// A shared payload made of `size` bytes of printable, sequence-tagged text.
Payload text_payload(std::size_t size, std::uint64_t sequence);

}  // namespace ovalstream::hub::testing
