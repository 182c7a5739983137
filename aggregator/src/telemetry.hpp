#pragma once
// The aggregator's metrics (Prometheus text, names per Prometheus conventions) and the log lines that go
// with them. It observes the hub, the ingest and the feeds.
// Every labelled counter shows each of its known label values at 0 from the start, so an alert on its rate
// or increase sees the first episode. The scrape adds the process metrics (metrics::ProcessCollector) and
// gauges read from the running service when scraped (Sources: competitions held, queued bytes, readiness).
// Thread safety: every member may be called from any thread (prometheus-cpp metrics are thread-safe; the
// logger serializes lines; the sources are guarded by a mutex and must themselves be thread-safe).

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "competition_registry.hpp"
#include "ovalstream/auth/auth_metrics.hpp"
#include "ovalstream/core/event.hpp"
#include "ovalstream/hub/server.hpp"
#include "ovalstream/metrics/nats_connection_metrics.hpp"
#include "ovalstream/metrics/process_collector.hpp"
#include "ovalstream/metrics/scrape_gauges.hpp"
#include "ovalstream/runtime/log.hpp"
#include "ovalstream/runtime/mutex.hpp"

namespace ovalstream::aggregator {

// Rejected events are logged at most once per reason in this interval; the metric counts every one.
inline constexpr std::chrono::seconds kRejectedEventLogInterval{10};

class Telemetry final : public hub::HubObserver, public IngestObserver, public FeedObserver {
 public:
  Telemetry(std::string version, runtime::Logger logger);

  // Prometheus text exposition of every metric.
  std::string scrape() const;

  // What the scrape reads from the running service; each may be empty (its gauges then read 0 or have no
  // series). Called on the scraping thread: each must be thread-safe.
  struct Sources {
    std::function<std::vector<CompetitionRegistry::HeldCompetition>()> competitions;
    std::function<hub::QueuedBytes()> queued_bytes;
    std::function<bool()> ready;  // /readyz would answer 200
  };
  void attach(Sources sources);
  // The configured bounds (--max-connections, 0 = none; --client-queue-bytes), as gauges.
  void set_limits(std::size_t max_connections, std::size_t client_queue_bytes);
  void set_draining(bool draining);

  void set_nats_connected(bool connected);
  void nats_async_error();
  // Access control's refusals and key reloads (ovalstream_auth_*).
  std::shared_ptr<auth::AuthObserver> auth_observer() const { return auth_metrics_; }

  // hub::HubObserver
  void connection_opened(const std::string& endpoint) override;
  void connection_closed(const std::string& endpoint) override;
  void connection_rejected(const std::string& reason) override;
  void frames_written(std::uint64_t frames, std::uint64_t bytes) override;
  void publish_to_write(std::chrono::nanoseconds latency) override;
  void slow_consumer_closed() override;
  void pong_coalesced() override;
  void reads_paused() override;
  void client_frame_discarded() override;
  void client_frame_limit_closed(const std::string& reason) override;
  void http_connection_dropped(const std::string& reason) override;
  void websocket_closed(const std::string& reason) override;
  void http_response(unsigned status) override;

  // IngestObserver
  void event_received(const core::Event& event) override;
  void event_rejected(const FeedMessage& message, const std::string& reason,
                      const std::string& detail) override;
  void message_consumed(const FeedMessage& message) override;
  void event_applied(const FeedMessage& message) override;
  void competitions_held(std::size_t count) override;
  void competition_held(const std::string& competition_id, std::uint64_t from_sequence) override;
  void competition_dropped(const std::string& competition_id, const std::string& reason) override;
  void caught_up(std::uint64_t sequence) override;
  void feed_backpressure(const std::string& competition_id, bool drained) override;

  // FeedObserver
  void snapshot_sent(std::size_t events, std::size_t bytes) override;
  void duplicate_skipped() override;
  void resume_served(bool exact, std::size_t bytes) override;

 private:
  prometheus::Counter& labelled(prometheus::Family<prometheus::Counter>& family, const std::string& key,
                                const std::string& value);
  // Registers the gauges computed at scrape time from sources_.
  void add_scrape_gauges();
  Sources sources() const;

  runtime::Logger logger_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Gauge>& connections_open_;
  prometheus::Family<prometheus::Counter>& connections_accepted_;
  prometheus::Family<prometheus::Counter>& connections_rejected_;
  prometheus::Counter& frames_sent_;
  prometheus::Counter& bytes_sent_;
  prometheus::Counter& slow_consumer_closes_;
  prometheus::Counter& pongs_coalesced_;
  prometheus::Counter& reads_paused_;
  prometheus::Counter& client_frames_discarded_;
  prometheus::Family<prometheus::Counter>& client_frame_limit_closes_;
  prometheus::Family<prometheus::Counter>& http_connections_dropped_;
  prometheus::Family<prometheus::Counter>& events_received_;
  prometheus::Family<prometheus::Counter>& events_rejected_;
  prometheus::Counter& duplicates_skipped_;
  prometheus::Gauge& competitions_held_;
  prometheus::Family<prometheus::Counter>& resumes_;
  prometheus::Counter& resumes_exact_;
  prometheus::Counter& resumes_snapshot_;
  prometheus::Counter& resume_bytes_;
  prometheus::Family<prometheus::Counter>& competitions_dropped_;
  prometheus::Gauge& consumer_pending_;
  prometheus::Gauge& last_event_timestamp_;
  prometheus::Histogram& snapshot_bytes_;
  prometheus::Histogram& publish_to_write_seconds_;
  prometheus::Family<prometheus::Counter>& feed_backpressure_waits_;
  prometheus::Family<prometheus::Counter>& websocket_closes_;
  prometheus::Family<prometheus::Counter>& http_responses_;
  prometheus::Counter& snapshot_sent_bytes_;
  prometheus::Gauge& last_event_applied_timestamp_;
  prometheus::Gauge& draining_;
  prometheus::Gauge& max_connections_;
  prometheus::Gauge& queue_limit_bytes_;
  std::shared_ptr<auth::AuthMetrics> auth_metrics_;
  metrics::NatsConnectionMetrics nats_;
  metrics::ProcessCollector process_;
  metrics::ScrapeGauges scrape_gauges_;

  mutable runtime::Mutex sources_mutex_;
  Sources sources_ GUARDED_BY(sources_mutex_);

  std::array<prometheus::Counter*, core::kEventTypeCount> received_by_type_{};
  mutable runtime::Mutex labels_mutex_;
  std::map<std::string, prometheus::Counter*> counters_by_label_ GUARDED_BY(labels_mutex_);
  std::map<std::string, prometheus::Gauge*> open_by_endpoint_ GUARDED_BY(labels_mutex_);
};

}  // namespace ovalstream::aggregator
