#pragma once
// The HTTP API of `recorder serve`:
//   GET    /v1/recordings          every recording: name, size, events, first and last time (JSON)
//   GET    /v1/recordings/{name}   the file itself (application/x-ndjson); name as listed, e.g.
//   2020-01-12/c1.jsonl POST   /v1/replays             {"recording": name, "speed": 10 | "max",
//   "subjectPrefix": "replay1"}
//                                  starts a replay into JetStream under the prefix (201 with its status)
//   GET    /v1/replays             every replay started since the service started, running ones first
//   GET    /v1/replays/{id}        one replay
//   DELETE /v1/replays/{id}        stops a running replay (200 with its final status)
// Errors are JSON {"error": "..."} (text from the request is made valid UTF-8 first) with 400 (bad body,
// name or speed), 403 (live subjects without --allow-live-replay), 404, 405 (with Allow), 413 (body or file
// too large), 503 (replay or download limit reached). Downloads are streamed from the file.
// Thread safety: the router may be called concurrently (hub connection strands); the catalog and the replay
// control synchronize themselves.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ovalstream/core/replay.hpp"
#include "ovalstream/hub/server.hpp"
#include "recording/recording_catalog.hpp"

namespace ovalstream::recorder {

struct ReplayRequest {
  std::string recording;  // a catalog name
  core::ReplaySpeed speed;
  // Absent: the service's default prefix for this replay; "" = the live subjects (needs --allow-live-replay).
  std::optional<std::string> subject_prefix;
};

struct ReplayStatus {
  std::string id;
  std::string recording;
  core::ReplaySpeed speed;
  std::string subject_prefix;
  std::string state;  // "running", "finished", "cancelled", "failed"
  std::uint64_t sent = 0;
  std::uint64_t total = 0;
  std::string error;       // for "failed"
  std::string started_at;  // RFC 3339, UTC
};

// What the API needs from the replays; `serve` implements it with Replayers on JetStream.
class ReplayControl {
 public:
  struct Refusal {
    unsigned http_status = 400;
    std::string message;
  };
  struct StartResult {
    std::optional<ReplayStatus> started;
    Refusal refusal;  // when not started
  };

  virtual ~ReplayControl() = default;
  virtual StartResult start(const ReplayRequest& request) = 0;
  virtual std::vector<ReplayStatus> list() = 0;
  virtual std::optional<ReplayStatus> find(const std::string& id) = 0;
  // Cancels a running replay; its status after the cancel, nullopt for an unknown id.
  virtual std::optional<ReplayStatus> stop(const std::string& id) = 0;
};

// Called as downloads start, end and are refused at the bound (for metrics); each may be empty.
struct DownloadHooks {
  std::function<void()> started;
  std::function<void()> ended;
  std::function<void()> refused;
};

struct ServeApiOptions {
  // Larger recordings are refused by GET /v1/recordings/{name} with 413.
  std::uint64_t max_download_bytes = 256ull << 20;
  // Downloads being written at once at most (each streams the file through a small buffer); more: 503.
  std::size_t max_downloads = 8;
  DownloadHooks download_hooks;
};

// Replay speeds a request may ask for (or "max"): slower ones would hold a replay slot for ever, faster
// ones are "max" in all but name.
inline constexpr double kMinReplaySpeed = 0.01;
inline constexpr double kMaxReplaySpeed = 1000;

// Parses a POST /v1/replays body; the message says what is wrong. Unknown members are refused so that a
// misspelt member does not silently fall back to a default.
std::optional<ReplayRequest> parse_replay_request(std::string_view body, std::string& error_message);

std::string replay_status_json(const ReplayStatus& status);
std::string format_replay_speed(const core::ReplaySpeed& speed);  // "10", "0.5", "max"

hub::Router make_serve_api_router(std::shared_ptr<RecordingCatalog> catalog,
                                  std::shared_ptr<ReplayControl> replays, ServeApiOptions options = {});

}  // namespace ovalstream::recorder
