#pragma once
// The replays `recorder serve` runs on request (serve_api.hpp): each reads a recording from the catalog and
// publishes it into JetStream through one shared PublishWorker, paced by a Replayer on the service's
// io_context. A replay under a prefix goes to the replay stream (it must capture the prefixed subjects);
// one on the live subjects goes to the live stream and only with allow_live_replay.
// Bounds: at most max_running replays at once (more: 503), and the statuses of the last max_ended ended
// replays are kept for GET /v1/replays.
// Thread safety: every member may be called from any thread; one mutex guards the table.

#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "ovalstream/nats/connection.hpp"
#include "ovalstream/runtime/log.hpp"
#include "ovalstream/runtime/mutex.hpp"
#include "recording/recording_catalog.hpp"
#include "replay/publish_worker.hpp"
#include "replay/replayer.hpp"
#include "serve/recorder_telemetry.hpp"
#include "serve/serve_api.hpp"

namespace ovalstream::recorder {

struct ReplayManagerOptions {
  std::string live_stream = "VANTAGE";
  std::string replay_stream = "VANTAGE_REPLAYS";
  bool allow_live_replay = false;
  std::size_t max_running = 4;
  std::size_t max_ended = 100;
};

class ReplayManager final : public ReplayControl, public std::enable_shared_from_this<ReplayManager> {
 public:
  // `connection` must outlive the manager; replays run on `executor`.
  ReplayManager(const nats::Connection& connection, boost::asio::any_io_executor executor,
                std::shared_ptr<RecordingCatalog> catalog, std::shared_ptr<RecorderTelemetry> telemetry,
                runtime::Logger logger, ReplayManagerOptions options);

  StartResult start(const ReplayRequest& request) override;
  std::vector<ReplayStatus> list() override;
  std::optional<ReplayStatus> find(const std::string& id) override;
  std::optional<ReplayStatus> stop(const std::string& id) override;

  // Cancels every running replay (shutdown).
  void stop_all();
  std::size_t running() const;

 private:
  class Observer;
  struct Entry {
    ReplayStatus status;
    std::shared_ptr<Replayer> replayer;  // null once ended
  };

  // Checks that `stream` exists and captures `subject`; the refusal otherwise.
  std::size_t running_locked() const REQUIRES(mutex_);
  std::optional<Refusal> check_stream(const std::string& stream, const std::string& subject) const;
  void on_progress(const std::string& id, const ReplayProgress& progress);
  void on_end(const std::string& id, ReplayEnd end, const std::optional<std::string>& error,
              const ReplayProgress& progress);

  const nats::Connection& connection_;
  boost::asio::any_io_executor executor_;
  std::shared_ptr<RecordingCatalog> catalog_;
  std::shared_ptr<RecorderTelemetry> telemetry_;
  runtime::Logger logger_;
  ReplayManagerOptions options_;
  std::shared_ptr<PublishWorker> worker_;

  mutable runtime::Mutex mutex_;
  std::uint64_t next_id_ GUARDED_BY(mutex_) = 1;
  std::map<std::string, Entry> entries_ GUARDED_BY(mutex_);
  std::deque<std::string> ended_order_ GUARDED_BY(mutex_);  // ids of ended replays, oldest first
};

}  // namespace ovalstream::recorder
