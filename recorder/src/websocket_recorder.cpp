#include <utility>  // before Asio (cpprest includes it): Boost 1.74 with C++20 needs it

#include "websocket_recorder.hpp"

#include "stoppable_sleep.hpp"

// cpprestsdk would define a macro U(), which breaks Boost headers included after it.
#define _TURN_OFF_PLATFORM_STRING
#include <cpprest/ws_client.h>

#include <algorithm>
#include <future>
#include <thread>

namespace ovalstream::recorder {

using namespace std::chrono_literals;
namespace ws = web::websockets::client;

struct WebsocketRecorder::Client {
  explicit Client(ws::websocket_client_config config) : client(std::move(config)) {}
  ws::websocket_client client;
};

bool valid_competitions_url(const std::string& url, std::string& why) {
  std::string rest;
  if (url.rfind("ws://", 0) == 0) {
    rest = url.substr(5);
  } else if (url.rfind("wss://", 0) == 0) {
    rest = url.substr(6);
  } else {
    why = "must start with ws:// or wss://";
    return false;
  }
  const auto slash = rest.find('/');
  if (slash == 0 || rest.empty()) {
    why = "has no host";
    return false;
  }
  std::string path = slash == std::string::npos ? std::string() : rest.substr(slash);
  if (const auto query = path.find('?'); query != std::string::npos) path.resize(query);
  constexpr std::string_view kPrefix = "/v1/competitions";
  if (path == kPrefix) return true;
  if (path.rfind(std::string(kPrefix) + "/", 0) == 0) {
    const std::string id = path.substr(kPrefix.size() + 1);
    if (!id.empty() && id.find('/') == std::string::npos) return true;
  }
  why = "path must be /v1/competitions or /v1/competitions/{id}";
  return false;
}

WebsocketRecorder::WebsocketRecorder(WebsocketRecorderOptions options, RecordingWriter& writer,
                                     runtime::Logger logger, RecordObserver& observer)
    : options_(std::move(options)), writer_(writer), logger_(std::move(logger)), observer_(observer) {}

WebsocketRecorder::~WebsocketRecorder() = default;

void WebsocketRecorder::stop() noexcept {
  stop_.store(true);
  std::shared_ptr<Client> client;
  {
    std::lock_guard lock(client_mutex_);
    client = client_;
  }
  if (client) {
    try {
      client->client.close().then([](pplx::task<void> closed) {
        try {
          closed.get();
        } catch (...) {  // closing a connection that failed already
        }
      });
    } catch (...) {
    }
  }
}

bool WebsocketRecorder::pause(std::chrono::milliseconds duration) {
  return sleep_unless_stopped(stop_, duration);
}

bool WebsocketRecorder::write_frame(const std::string& frame, const core::RecordTime& received) {
  std::chrono::milliseconds backoff = options_.initial_backoff;
  for (;;) {
    AppendOutcome outcome = AppendOutcome::kRejected;
    const std::error_code error = writer_.append(RecordEntry{0, {}, frame, received}, outcome);
    if (!error) return true;
    logger_.log_every("write", 10s, runtime::LogLevel::kError,
                      "cannot write the recording; retrying this frame, then reconnecting",
                      {{"error", error.message()}, {"retry_in_ms", backoff.count()}});
    if (!pause(backoff)) return false;
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

bool WebsocketRecorder::record_connection(std::size_t& frames, bool& write_failed) {
  auto client = std::make_shared<Client>(ws::websocket_client_config{});
  {
    std::lock_guard lock(client_mutex_);
    client_ = client;
  }
  auto forget = [&] {
    std::lock_guard lock(client_mutex_);
    client_.reset();
  };
  if (stopping()) {
    forget();
    return false;
  }
  // Connect, bounded by connect_timeout (cpprest's task has no timed wait).
  auto connected = std::make_shared<std::promise<std::string>>();
  auto result = connected->get_future();
  try {
    client->client.connect(web::uri(options_.url)).then([connected](pplx::task<void> task) {
      try {
        task.get();
        connected->set_value("");
      } catch (const std::exception& error) {
        connected->set_value(error.what()[0] != '\0' ? error.what() : "connection failed");
      }
    });
  } catch (const std::exception& error) {
    logger_.log_every("connect", 10s, runtime::LogLevel::kWarn, "cannot connect",
                      {{"url", options_.url}, {"error", error.what()}});
    forget();
    return false;
  }
  if (result.wait_for(options_.connect_timeout) != std::future_status::ready) {
    logger_.log_every("connect", 10s, runtime::LogLevel::kWarn, "connect timed out", {{"url", options_.url}});
    try {
      client->client.close().wait();
    } catch (...) {
    }
    forget();
    return false;
  }
  if (const std::string failure = result.get(); !failure.empty()) {
    logger_.log_every("connect", 10s, runtime::LogLevel::kWarn, "cannot connect",
                      {{"url", options_.url}, {"error", failure}});
    forget();
    return false;
  }
  logger_.info("connected", {{"url", options_.url}});
  auto close_client = [&] {
    try {
      client->client.close().wait();
    } catch (...) {  // already closed or failed
    }
  };
  try {
    while (!stopping()) {
      ws::websocket_incoming_message message = client->client.receive().get();
      if (message.message_type() == ws::websocket_message_type::close) break;
      if (message.message_type() != ws::websocket_message_type::text_message) continue;
      const std::string frame = message.extract_string().get();
      ++frames;
      const core::RecordTime received = local_record_time_now();
      AppendOutcome outcome = AppendOutcome::kRejected;
      const std::error_code error = writer_.append(RecordEntry{0, {}, frame, received}, outcome);
      if (!error) continue;
      // Stop reading (cpprest would queue every frame unread), write this frame once the disk works, then
      // reconnect: the snapshot brings back what was missed meanwhile.
      write_failed = true;
      close_client();
      write_frame(frame, received);
      break;
    }
  } catch (const std::exception& error) {
    if (!stopping()) logger_.warn("connection lost", {{"url", options_.url}, {"error", error.what()}});
  }
  close_client();
  forget();
  return true;
}

int WebsocketRecorder::run() {
  std::chrono::milliseconds backoff = options_.initial_backoff;
  std::size_t connections = 0;
  while (!stopping()) {
    std::size_t frames = 0;
    bool write_failed = false;
    const bool connected = record_connection(frames, write_failed);
    if (stopping()) break;
    if (connected) ++connections;
    if (frames > 0) backoff = options_.initial_backoff;
    if (write_failed)
      logger_.info("writing works again; reconnecting to record the snapshot", {{"url", options_.url}});
    logger_.warn(connections > 0
                     ? "disconnected; reconnecting (the aggregator sends the snapshot again, so the "
                       "recording repeats its events)"
                     : "not connected; retrying",
                 {{"url", options_.url}, {"retry_in_ms", backoff.count()}});
    if (!pause(backoff)) break;
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
  logger_.info("recording stopped", {{"url", options_.url}});
  return 0;
}

}  // namespace ovalstream::recorder
