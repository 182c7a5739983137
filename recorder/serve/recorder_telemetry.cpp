#include "serve/recorder_telemetry.hpp"

#include <chrono>

#include "ovalstream/metrics/exposition.hpp"

namespace ovalstream::recorder {
namespace {

// Statuses the recorder's API and the hub answer with, shown from the start.
constexpr unsigned kHttpStatuses[] = {200, 201, 400, 401, 403, 404, 405, 413, 415, 431, 500, 503};

prometheus::Counter& counter(prometheus::Registry& registry, const std::string& name,
                             const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(registry).Add({});
}

prometheus::Gauge& gauge(prometheus::Registry& registry, const std::string& name, const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(registry).Add({});
}

}  // namespace

RecorderTelemetry::RecorderTelemetry(std::string version)
    : registry_(std::make_shared<prometheus::Registry>()),
      events_recorded_(counter(*registry_, "ovalstream_recorder_events_recorded_total",
                               "Events written to recording files")),
      bytes_written_(counter(*registry_, "ovalstream_recorder_bytes_written_total",
                             "Bytes written to recording files, newlines included")),
      duplicates_skipped_(counter(*registry_, "ovalstream_recorder_events_duplicate_total",
                                  "Redelivered messages already written, acknowledged without writing")),
      events_rejected_(counter(*registry_, "ovalstream_recorder_events_rejected_total",
                               "Messages that cannot be recorded (not a JSON object, no competition)")),
      write_errors_(counter(*registry_, "ovalstream_recorder_write_errors_total",
                            "Failed writes; the message stays unacknowledged and is written again")),
      consumer_pending_(gauge(*registry_, "ovalstream_recorder_consumer_pending_messages",
                              "Messages of the recorded subjects in JetStream not yet fetched (lag)")),
      last_write_timestamp_(gauge(*registry_, "ovalstream_recorder_last_write_timestamp_seconds",
                                  "Unix time of the last line written")),
      replays_active_(gauge(*registry_, "ovalstream_recorder_replays_active", "Replays running")),
      replay_events_published_(counter(*registry_, "ovalstream_recorder_replay_events_published_total",
                                       "Events published by replays")),
      replays_ended_(prometheus::BuildCounter()
                         .Name("ovalstream_recorder_replays_total")
                         .Help("Replays ended, per outcome (finished, cancelled, failed)")
                         .Register(*registry_)),
      replay_progress_(prometheus::BuildGauge()
                           .Name("ovalstream_recorder_replay_progress_ratio")
                           .Help("Share of the current pass sent, per running replay")
                           .Register(*registry_)),
      open_files_closed_at_bound_(counter(*registry_, "ovalstream_recorder_open_files_bound_closes_total",
                                          "Times the writer reached --max-open-files and closed its files")),
      downloads_active_(gauge(*registry_, "ovalstream_recorder_downloads_active",
                              "Downloads of recordings being written to clients")),
      downloads_refused_(counter(*registry_, "ovalstream_recorder_downloads_refused_total",
                                 "Downloads refused with 503 because --max-downloads were in progress")),
      http_connections_dropped_(
          prometheus::BuildCounter()
              .Name("ovalstream_http_connections_dropped_total")
              .Help("HTTP connections refused at accept (connection bounds, descriptor reserve) or cut for "
                    "lack of progress, per reason")
              .Register(*registry_)),
      http_responses_(prometheus::BuildCounter()
                          .Name("ovalstream_http_responses_total")
                          .Help("Plain HTTP responses of the API listener, per status code")
                          .Register(*registry_)),
      auth_metrics_(
          std::make_shared<auth::AuthMetrics>(*registry_, std::vector<std::string>{"content_type"})),
      nats_(*registry_) {
  prometheus::BuildGauge()
      .Name("ovalstream_build_info")
      .Help("Build information")
      .Register(*registry_)
      .Add({{"version", std::move(version)}, {"component", "recorder"}})
      .Set(1);
  for (const ReplayEnd end : {ReplayEnd::kFinished, ReplayEnd::kCancelled, ReplayEnd::kFailed}) {
    replays_ended_.Add({{"outcome", std::string(replay_end_name(end))}});
  }
  for (const char* reason : hub::kHttpDropReasons) {
    dropped_by_reason_[reason] = &http_connections_dropped_.Add({{"reason", reason}});
  }
  for (const unsigned status : kHttpStatuses) {
    responses_by_status_[status] = &http_responses_.Add({{"code", std::to_string(status)}});
  }
  scrape_gauges_.add("ovalstream_ready", "1 while /readyz answers 200 (NATS connected, recording)", [this] {
    std::function<bool()> ready;
    {
      runtime::MutexLock lock(state_mutex_);
      ready = ready_;
    }
    return ready && ready() ? 1.0 : 0.0;
  });
}

std::string RecorderTelemetry::scrape() const {
  return metrics::expose({registry_.get(), &process_, &scrape_gauges_});
}

void RecorderTelemetry::attach_readiness(std::function<bool()> ready) {
  runtime::MutexLock lock(state_mutex_);
  ready_ = std::move(ready);
}

void RecorderTelemetry::nats_async_error() {
  nats_.async_error();
}

void RecorderTelemetry::http_response(unsigned status) {
  runtime::MutexLock lock(state_mutex_);
  auto& counter = responses_by_status_[status];
  if (!counter) counter = &http_responses_.Add({{"code", std::to_string(status)}});
  counter->Increment();
}

void RecorderTelemetry::on_open_files_closed_at_bound() {
  open_files_closed_at_bound_.Increment();
}

void RecorderTelemetry::http_connection_dropped(const std::string& reason) {
  runtime::MutexLock lock(state_mutex_);
  auto& counter = dropped_by_reason_[reason];
  if (!counter) counter = &http_connections_dropped_.Add({{"reason", reason}});
  counter->Increment();
}

void RecorderTelemetry::download_started() {
  downloads_active_.Increment();
}

void RecorderTelemetry::download_ended() {
  downloads_active_.Decrement();
}

void RecorderTelemetry::download_refused() {
  downloads_refused_.Increment();
}

void RecorderTelemetry::set_nats_connected(bool connected) {
  nats_.set_connected(connected);
}

void RecorderTelemetry::on_recorded(std::size_t bytes) {
  events_recorded_.Increment();
  bytes_written_.Increment(static_cast<double>(bytes));
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  last_write_timestamp_.Set(std::chrono::duration<double>(now).count());
}

void RecorderTelemetry::on_duplicate_skipped() {
  duplicates_skipped_.Increment();
}

void RecorderTelemetry::on_rejected() {
  events_rejected_.Increment();
}

void RecorderTelemetry::on_write_error(const std::error_code&) {
  write_errors_.Increment();
}

void RecorderTelemetry::on_consumer_pending(std::uint64_t pending) {
  consumer_pending_.Set(static_cast<double>(pending));
}

void RecorderTelemetry::replay_started(const std::string& replay_id) {
  runtime::MutexLock lock(replays_mutex_);
  if (progress_by_replay_.contains(replay_id)) return;
  progress_by_replay_[replay_id] = &replay_progress_.Add({{"replay", replay_id}});
  sent_by_replay_[replay_id] = 0;
  replays_active_.Increment();
}

void RecorderTelemetry::replay_progressed(const std::string& replay_id, const ReplayProgress& progress) {
  runtime::MutexLock lock(replays_mutex_);
  const auto gauge = progress_by_replay_.find(replay_id);
  if (gauge == progress_by_replay_.end()) return;
  if (progress.total > 0) {
    gauge->second->Set(static_cast<double>(progress.sent) / static_cast<double>(progress.total));
  }
  std::uint64_t& counted = sent_by_replay_[replay_id];
  if (progress.sent_overall > counted) {
    replay_events_published_.Increment(static_cast<double>(progress.sent_overall - counted));
    counted = progress.sent_overall;
  }
}

void RecorderTelemetry::replay_ended(const std::string& replay_id, ReplayEnd end) {
  runtime::MutexLock lock(replays_mutex_);
  const auto gauge = progress_by_replay_.find(replay_id);
  if (gauge == progress_by_replay_.end()) return;
  // The per-replay series goes with the replay, so ids do not pile up in the scrape.
  replay_progress_.Remove(gauge->second);
  progress_by_replay_.erase(gauge);
  sent_by_replay_.erase(replay_id);
  replays_active_.Decrement();
  replays_ended_.Add({{"outcome", std::string(replay_end_name(end))}}).Increment();
}

}  // namespace ovalstream::recorder
