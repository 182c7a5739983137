#include "hub/support/hub_harness.hpp"

#include <boost/asio/executor_work_guard.hpp>

namespace ovalstream::hub::testing {

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return condition();
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

void RecordingObserver::connection_opened(const std::string& endpoint) {
  ++opened;
  std::lock_guard lock(mutex_);
  ++opened_on_[endpoint];
}

void RecordingObserver::connection_closed(const std::string& endpoint) {
  ++closed;
  std::lock_guard lock(mutex_);
  ++closed_on_[endpoint];
}

void RecordingObserver::connection_rejected(const std::string& reason) {
  std::lock_guard lock(mutex_);
  ++rejected_[reason];
}

void RecordingObserver::frames_written(std::uint64_t frame_count, std::uint64_t byte_count) {
  ++writes;
  frames += frame_count;
  bytes += byte_count;
}

void RecordingObserver::publish_to_write(std::chrono::nanoseconds) {
  ++latencies;
}

void RecordingObserver::slow_consumer_closed() {
  ++slow_consumers;
}

void RecordingObserver::client_frame_limit_closed(const std::string& reason) {
  std::lock_guard lock(mutex_);
  ++limit_closes_[reason];
}

void RecordingObserver::websocket_closed(const std::string& reason) {
  std::lock_guard lock(mutex_);
  ++close_reasons_[reason];
}

void RecordingObserver::http_response(unsigned status) {
  std::lock_guard lock(mutex_);
  ++responses_[status];
}

std::map<std::string, std::uint64_t> RecordingObserver::close_reasons() const {
  std::lock_guard lock(mutex_);
  return close_reasons_;
}

std::uint64_t RecordingObserver::responses(unsigned status) const {
  std::lock_guard lock(mutex_);
  auto it = responses_.find(status);
  return it == responses_.end() ? 0 : it->second;
}

std::uint64_t RecordingObserver::limit_closes(const std::string& reason) const {
  std::lock_guard lock(mutex_);
  auto it = limit_closes_.find(reason);
  return it == limit_closes_.end() ? 0 : it->second;
}

std::uint64_t RecordingObserver::rejected(const std::string& reason) const {
  std::lock_guard lock(mutex_);
  auto it = rejected_.find(reason);
  return it == rejected_.end() ? 0 : it->second;
}

std::uint64_t RecordingObserver::opened_on(const std::string& endpoint) const {
  std::lock_guard lock(mutex_);
  auto it = opened_on_.find(endpoint);
  return it == opened_on_.end() ? 0 : it->second;
}

std::uint64_t RecordingObserver::closed_on(const std::string& endpoint) const {
  std::lock_guard lock(mutex_);
  auto it = closed_on_.find(endpoint);
  return it == closed_on_.end() ? 0 : it->second;
}

WebSocketHandlers ConnectionLog::handlers(std::string endpoint) {
  WebSocketHandlers handlers;
  handlers.endpoint = std::move(endpoint);
  handlers.on_open = [this](const std::shared_ptr<Connection>& connection) {
    std::lock_guard lock(mutex_);
    opened_.push_back(connection);
  };
  handlers.on_close = [this](const std::shared_ptr<Connection>& connection) {
    // Like an application, let go of the connection here: sessions must not outlive the io_context.
    std::lock_guard lock(mutex_);
    std::erase(opened_, connection);
    ++closed_;
  };
  return handlers;
}

std::vector<std::shared_ptr<Connection>> ConnectionLog::open() const {
  std::lock_guard lock(mutex_);
  return opened_;
}

std::vector<std::shared_ptr<Connection>> ConnectionLog::wait_for(std::size_t count,
                                                                 std::chrono::milliseconds timeout) const {
  wait_until(
      [&] {
        std::lock_guard lock(mutex_);
        return opened_.size() >= count;
      },
      timeout);
  return open();
}

std::size_t ConnectionLog::closed_count() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

ServerOptions test_options() {
  ServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.ping_interval = 60s;
  options.pong_timeout = 120s;
  options.request_timeout = 5s;
  return options;
}

TestServer::TestServer(ServerOptions options, Router router, int threads) {
  server_ = std::make_unique<Server>(io_, std::move(options), std::move(router), observer_);
  port_ = server_->port();
  server_->start();
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this] {
      auto work = boost::asio::make_work_guard(io_);
      io_.run();
    });
  }
}

TestServer::~TestServer() {
  // Destroying the Server tears the open connections down on the running threads; wait for every
  // teardown to have started (connection_closed comes first in it), then stop: the threads finish the
  // handler they are in, so every on_close has returned when they are joined.
  server_.reset();
  wait_until([this] { return observer_->closed.load() >= observer_->opened.load(); }, 5s);
  io_.stop();
  for (auto& thread : threads_) thread.join();
}

Router websocket_router(ConnectionLog& log) {
  return [&log](const Request& request) -> Route {
    if (request.path == "/ws") return log.handlers("test");
    return HttpResponse{404, "text/plain; charset=utf-8", "not found\n", {}};
  };
}

Payload text_payload(std::size_t size, std::uint64_t sequence) {
  std::string text = "{\"seq\":" + std::to_string(sequence) + ",\"pad\":\"";
  while (text.size() + 2 < size) text.push_back(static_cast<char>('a' + (text.size() % 26)));
  text += "\"}";
  text.resize(size, ' ');  // sizes under the tag's length are cut, still valid UTF-8
  return std::make_shared<const std::string>(std::move(text));
}

}  // namespace ovalstream::hub::testing
