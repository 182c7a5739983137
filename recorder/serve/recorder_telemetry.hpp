#pragma once
// The recorder service's metrics (Prometheus text; names shared with the Grafana dashboard and the alert
// rules in deploy/): what was recorded and written, write errors, consumer lag, and the replays it runs.
// Labelled counters show each known label value at 0 from the start; the scrape adds the process metrics
// (metrics::ProcessCollector) and ovalstream_ready (read from the service when scraped).
// Thread safety: every member may be called from any thread (prometheus-cpp metrics are thread-safe; the
// per-replay gauges and the readiness source are guarded by mutexes).

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "ovalstream/auth/auth_metrics.hpp"
#include "ovalstream/hub/server.hpp"
#include "ovalstream/metrics/nats_connection_metrics.hpp"
#include "ovalstream/metrics/process_collector.hpp"
#include "ovalstream/metrics/scrape_gauges.hpp"
#include "ovalstream/runtime/mutex.hpp"
#include "recording/record_observer.hpp"
#include "replay/replayer.hpp"

namespace ovalstream::recorder {

class RecorderTelemetry final : public RecordObserver, public hub::HubObserver {
 public:
  explicit RecorderTelemetry(std::string version);

  // Prometheus text exposition of every metric.
  std::string scrape() const;

  void set_nats_connected(bool connected);
  void nats_async_error();
  // Whether /readyz would answer 200, read when scraped (on the scraping thread: must be thread-safe).
  void attach_readiness(std::function<bool()> ready);
  // The API's access control: refusals (with "content_type" for a 415) and key reloads (ovalstream_auth_*).
  std::shared_ptr<auth::AuthObserver> auth_observer() const { return auth_metrics_; }

  // RecordObserver
  void on_recorded(std::size_t bytes) override;
  void on_duplicate_skipped() override;
  void on_rejected() override;
  void on_write_error(const std::error_code& error) override;
  void on_consumer_pending(std::uint64_t pending) override;
  void on_open_files_closed_at_bound() override;

  // hub::HubObserver (the API's server: plain HTTP only, so the websocket members do nothing)
  void connection_opened(const std::string&) override {}
  void connection_closed(const std::string&) override {}
  void connection_rejected(const std::string&) override {}
  void frames_written(std::uint64_t, std::uint64_t) override {}
  void publish_to_write(std::chrono::nanoseconds) override {}
  void slow_consumer_closed() override {}
  void http_connection_dropped(const std::string& reason) override;
  void http_response(unsigned status) override;

  // Downloads (GET /v1/recordings/{name}) being written, and those refused at --max-downloads.
  void download_started();
  void download_ended();
  void download_refused();

  // Replays started by `serve`, by id.
  void replay_started(const std::string& replay_id);
  void replay_progressed(const std::string& replay_id, const ReplayProgress& progress);
  void replay_ended(const std::string& replay_id, ReplayEnd end);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Counter& events_recorded_;
  prometheus::Counter& bytes_written_;
  prometheus::Counter& duplicates_skipped_;
  prometheus::Counter& events_rejected_;
  prometheus::Counter& write_errors_;
  prometheus::Gauge& consumer_pending_;
  prometheus::Gauge& last_write_timestamp_;
  prometheus::Gauge& replays_active_;
  prometheus::Counter& replay_events_published_;
  prometheus::Family<prometheus::Counter>& replays_ended_;
  prometheus::Family<prometheus::Gauge>& replay_progress_;
  prometheus::Counter& open_files_closed_at_bound_;
  prometheus::Gauge& downloads_active_;
  prometheus::Counter& downloads_refused_;
  prometheus::Family<prometheus::Counter>& http_connections_dropped_;
  prometheus::Family<prometheus::Counter>& http_responses_;
  std::shared_ptr<auth::AuthMetrics> auth_metrics_;
  metrics::NatsConnectionMetrics nats_;
  metrics::ProcessCollector process_;
  metrics::ScrapeGauges scrape_gauges_;

  runtime::Mutex state_mutex_;
  std::function<bool()> ready_ GUARDED_BY(state_mutex_);
  // Label value -> counter, filled in the constructor and for statuses first seen later.
  std::map<std::string, prometheus::Counter*> dropped_by_reason_ GUARDED_BY(state_mutex_);
  std::map<unsigned, prometheus::Counter*> responses_by_status_ GUARDED_BY(state_mutex_);

  runtime::Mutex replays_mutex_;
  std::map<std::string, prometheus::Gauge*> progress_by_replay_ GUARDED_BY(replays_mutex_);
  std::map<std::string, std::uint64_t> sent_by_replay_ GUARDED_BY(replays_mutex_);
};

}  // namespace ovalstream::recorder
