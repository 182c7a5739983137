#include <utility>  // before Asio (cpprest includes it): Boost 1.74 with C++20 needs it

#include "record/websocket_recorder.hpp"

#include "common/stoppable_sleep.hpp"
#include "ovalstream/core/competition_id.hpp"
#include "ovalstream/core/control_frame.hpp"

// cpprestsdk would define a macro U(), which breaks Boost headers included after it.
#define _TURN_OFF_PLATFORM_STRING
#include <cpprest/ws_client.h>

#include <algorithm>
#include <cctype>
#include <future>
#include <thread>

namespace ovalstream::recorder {

using namespace std::chrono_literals;
namespace ws = web::websockets::client;

struct WebsocketRecorder::Client {
  explicit Client(ws::websocket_client_config config) : client(std::move(config)) {}
  ws::websocket_client client;
};

namespace {

constexpr std::string_view kCompetitionsPath = "/v1/competitions";

// The path and query of a ws:// or wss:// URL ("" when it has none); false when it is neither.
bool split_url(const std::string& url, std::string& path, std::string& query, std::string& why) {
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
  path = slash == std::string::npos ? std::string() : rest.substr(slash);
  query.clear();
  if (const auto mark = path.find('?'); mark != std::string::npos) {
    query = path.substr(mark + 1);
    path.resize(mark);
  }
  return true;
}

bool is_competition_path(const std::string& path) {
  if (path.rfind(std::string(kCompetitionsPath) + "/", 0) != 0) return false;
  const std::string id = path.substr(kCompetitionsPath.size() + 1);
  return !id.empty() && id.find('/') == std::string::npos;
}

}  // namespace

bool valid_competitions_url(const std::string& url, std::string& why) {
  std::string path;
  std::string query;
  if (!split_url(url, path, query, why)) return false;
  if (path != kCompetitionsPath && !is_competition_path(path)) {
    why = "path must be /v1/competitions or /v1/competitions/{id}";
    return false;
  }
  for (std::string_view rest = query; !rest.empty();) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    const std::string_view key = pair.substr(0, pair.find('='));
    if (key == "positions" || key == "since" || key == "epoch") {
      why =
          "the recorder sets ?" + std::string(key) + "= itself (it resumes after a reconnect); leave it out";
      return false;
    }
  }
  return true;
}

std::optional<std::string> url_for_host(const std::string& host, const std::string& competition_id,
                                        std::string& why) {
  std::string scheme = "wss://";
  std::string_view authority = host;
  for (const char* prefix : {"ws://", "wss://"}) {
    if (authority.starts_with(prefix)) {
      scheme = prefix;
      authority.remove_prefix(std::string_view(prefix).size());
    }
  }
  if (!authority.empty() && authority.back() == '/') authority.remove_suffix(1);
  if (authority.empty()) {
    why = "has no host";
    return std::nullopt;
  }
  for (const char c : authority) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f || c == '/' || c == '?' || c == '#' || c == '@' || c == '\\') {
      why = "must be host[:port] (no path, query, credentials or whitespace)";
      return std::nullopt;
    }
  }
  if (authority.find("://") != std::string_view::npos || authority.find(':') == 0) {
    why = "must be host[:port], optionally after ws:// or wss://";
    return std::nullopt;
  }
  std::string url = scheme + std::string(authority) + std::string(kCompetitionsPath);
  if (!competition_id.empty()) {
    if (!core::is_requestable_competition_id(competition_id)) {
      why = "--competition " + competition_id + " cannot be a subject token";
      return std::nullopt;
    }
    // Percent-encoded: an id may hold characters a path may not.
    url += '/';
    static constexpr char kHex[] = "0123456789ABCDEF";
    for (const char c : competition_id) {
      const auto byte = static_cast<unsigned char>(c);
      if (std::isalnum(byte) || c == '-' || c == '_' || c == '~' || c == ':') {
        url += c;
      } else {
        url += '%';
        url += kHex[byte >> 4];
        url += kHex[byte & 0xF];
      }
    }
  }
  return url;
}

std::string connection_url(const std::string& url, const std::optional<ResumePoint>& resume) {
  std::string path;
  std::string query;
  std::string why;
  if (!split_url(url, path, query, why) || !is_competition_path(path)) return url;
  std::string out = url + (query.empty() ? (url.find('?') == std::string::npos ? "?" : "") : "&");
  if (resume) return out + "since=" + std::to_string(resume->position) + "&epoch=" + resume->epoch;
  return out + "positions=1";
}

WebsocketRecorder::WebsocketRecorder(WebsocketRecorderOptions options, RecordingWriter& writer,
                                     runtime::Logger logger, RecordObserver& observer)
    : options_(std::move(options)), writer_(writer), logger_(std::move(logger)), observer_(observer) {}

WebsocketRecorder::~WebsocketRecorder() = default;

void WebsocketRecorder::stop() noexcept {
  stop_.store(true);
  std::shared_ptr<Client> client;
  {
    runtime::MutexLock lock(client_mutex_);
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
    const auto appended = writer_.append(RecordEntry{0, {}, frame, received});
    if (appended.ok()) return true;
    logger_.log_every("write", 10s, runtime::LogLevel::kError,
                      "cannot write the recording; retrying this frame, then reconnecting",
                      {{"error", appended.error().message()}, {"retry_in_ms", backoff.count()}});
    if (!pause(backoff)) return false;
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

bool WebsocketRecorder::record_connection(std::size_t& frames, bool& write_failed) {
  auto client = std::make_shared<Client>(ws::websocket_client_config{});
  {
    runtime::MutexLock lock(client_mutex_);
    client_ = client;
  }
  auto forget = [&] {
    runtime::MutexLock lock(client_mutex_);
    client_.reset();
  };
  if (stopping()) {
    forget();
    return false;
  }
  const std::string url = connection_url(options_.url, resume_);
  // Connect, bounded by connect_timeout (cpprest's task has no timed wait).
  auto connected = std::make_shared<std::promise<std::string>>();
  auto result = connected->get_future();
  try {
    client->client.connect(web::uri(url)).then([connected](pplx::task<void> task) {
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
  logger_.info("connected", {{"url", url}});
  auto close_client = [&] {
    try {
      client->client.close().wait();
    } catch (...) {  // already closed or failed
    }
  };
  // A resumed connection first sends again what was written after the resume point: skip that many.
  const bool resuming = resume_.has_value();
  const core::Position resumed_from = resuming ? resume_->position : 0;
  std::size_t to_skip = resuming ? resume_->written_after : 0;
  try {
    while (!stopping()) {
      ws::websocket_incoming_message message = client->client.receive().get();
      if (message.message_type() == ws::websocket_message_type::close) break;
      if (message.message_type() != ws::websocket_message_type::text_message) continue;
      const std::string frame = message.extract_string().get();
      ++frames;
      if (const auto control = core::parse_control_frame(frame)) {
        if (control->kind == core::ControlFrame::Kind::kReset) {
          logger_.warn(
              "the aggregator cannot resume (another epoch, or too long ago): recording its snapshot "
              "again",
              {{"url", options_.url}});
          resume_.reset();
          to_skip = 0;
          continue;
        }
        if (to_skip > 0) {
          logger_.warn("the resumed connection sent fewer events than were written before the loss",
                       {{"url", options_.url}, {"missing", to_skip}});
          to_skip = 0;
        }
        if (control->kind == core::ControlFrame::Kind::kLive) {
          if (resuming && resume_ && resume_->epoch == control->epoch) {
            logger_.info(
                "resumed: recorded only what was missed",
                {{"url", options_.url}, {"after_position", resumed_from}, {"position", control->position}});
          }
          resume_ = ResumePoint{control->position, control->epoch, 0};
        } else if (resume_) {
          resume_->position = control->position;
          resume_->written_after = 0;
        }
        continue;
      }
      if (to_skip > 0) {
        --to_skip;
        continue;
      }
      const core::RecordTime received = local_record_time_now();
      if (writer_.append(RecordEntry{0, {}, frame, received}).ok()) {
        if (resume_) ++resume_->written_after;
        continue;
      }
      // Stop reading (cpprest would queue every frame unread), write this frame once the disk works, then
      // reconnect: the resume (or the snapshot) brings back what was missed meanwhile.
      write_failed = true;
      close_client();
      if (write_frame(frame, received) && resume_) ++resume_->written_after;
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
    if (write_failed) logger_.info("writing works again; reconnecting", {{"url", options_.url}});
    if (connections == 0) {
      logger_.warn("not connected; retrying", {{"url", options_.url}, {"retry_in_ms", backoff.count()}});
    } else if (resume_) {
      logger_.warn(
          "disconnected; reconnecting to resume after the last position",
          {{"url", options_.url}, {"position", resume_->position}, {"retry_in_ms", backoff.count()}});
    } else {
      logger_.warn(
          "disconnected; reconnecting (this aggregator sends the snapshot again, so the recording "
          "repeats its events)",
          {{"url", options_.url}, {"retry_in_ms", backoff.count()}});
    }
    if (!pause(backoff)) break;
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
  logger_.info("recording stopped", {{"url", options_.url}});
  return 0;
}

}  // namespace ovalstream::recorder
