#include "telemetry.hpp"

#include <algorithm>

#include "event_validator.hpp"
#include "ovalstream/metrics/exposition.hpp"

namespace ovalstream::aggregator {
namespace {

// Statuses the aggregator's routes and the hub answer with, shown from the start.
constexpr unsigned kHttpStatuses[] = {200, 400, 401, 403, 404, 405, 413, 426, 431, 500, 503};

prometheus::Histogram::BucketBoundaries exponential(double start, double factor, int count) {
  prometheus::Histogram::BucketBoundaries buckets;
  double bound = start;
  for (int i = 0; i < count; ++i, bound *= factor) buckets.push_back(bound);
  return buckets;
}

}  // namespace

Telemetry::Telemetry(std::string version, runtime::Logger logger)
    : logger_(std::move(logger)),
      registry_(std::make_shared<prometheus::Registry>()),
      connections_open_(prometheus::BuildGauge()
                            .Name("ovalstream_websocket_connections_open")
                            .Help("Open websocket connections per endpoint")
                            .Register(*registry_)),
      connections_accepted_(prometheus::BuildCounter()
                                .Name("ovalstream_websocket_connections_accepted_total")
                                .Help("Websocket connections accepted per endpoint")
                                .Register(*registry_)),
      connections_rejected_(prometheus::BuildCounter()
                                .Name("ovalstream_websocket_connections_rejected_total")
                                .Help("Websocket upgrades refused, per reason")
                                .Register(*registry_)),
      frames_sent_(prometheus::BuildCounter()
                       .Name("ovalstream_websocket_frames_sent_total")
                       .Help("Websocket frames written to clients")
                       .Register(*registry_)
                       .Add({})),
      bytes_sent_(prometheus::BuildCounter()
                      .Name("ovalstream_websocket_sent_bytes_total")
                      .Help("Bytes of websocket frames written to clients")
                      .Register(*registry_)
                      .Add({})),
      slow_consumer_closes_(prometheus::BuildCounter()
                                .Name("ovalstream_websocket_slow_consumer_closes_total")
                                .Help("Connections closed with 1008 because their queue exceeded its bound")
                                .Register(*registry_)
                                .Add({})),
      pongs_coalesced_(prometheus::BuildCounter()
                           .Name("ovalstream_websocket_pongs_coalesced_total")
                           .Help("Pings answered by replacing a pong still queued (one pending pong per "
                                 "connection)")
                           .Register(*registry_)
                           .Add({})),
      reads_paused_(prometheus::BuildCounter()
                        .Name("ovalstream_websocket_reads_paused_total")
                        .Help("Times a connection stopped reading its client because its queue was over half "
                              "of --client-queue-bytes")
                        .Register(*registry_)
                        .Add({})),
      client_frames_discarded_(prometheus::BuildCounter()
                                   .Name("ovalstream_websocket_client_frames_discarded_total")
                                   .Help("Data frames (text, binary, continuation) received from clients, "
                                         "read and discarded: their heartbeats")
                                   .Register(*registry_)
                                   .Add({})),
      client_frame_limit_closes_(
          prometheus::BuildCounter()
              .Name("ovalstream_websocket_client_frame_limit_closes_total")
              .Help("Connections closed for their clients' data frames, per reason (message_size: 1009, a "
                    "message over --max-client-message-bytes; frame_rate: 1008, over --client-frame-rate)")
              .Register(*registry_)),
      http_connections_dropped_(
          prometheus::BuildCounter()
              .Name("ovalstream_http_connections_dropped_total")
              .Help("HTTP connections refused at accept (connection bounds, descriptor reserve) or cut for "
                    "lack of progress, per reason")
              .Register(*registry_)),
      events_received_(
          prometheus::BuildCounter()
              .Name("ovalstream_events_received_total")
              .Help("Valid events received from JetStream, per type (unknown types as \"unknown\")")
              .Register(*registry_)),
      events_rejected_(prometheus::BuildCounter()
                           .Name("ovalstream_events_rejected_total")
                           .Help("Events rejected at ingest and skipped, per reason")
                           .Register(*registry_)),
      duplicates_skipped_(prometheus::BuildCounter()
                              .Name("ovalstream_events_duplicate_total")
                              .Help("Events at or before a position already applied (redelivered), skipped")
                              .Register(*registry_)
                              .Add({})),
      competitions_held_(prometheus::BuildGauge()
                             .Name("ovalstream_competitions_held")
                             .Help("Competitions whose live state is held (all read by the one JetStream "
                                   "consumer)")
                             .Register(*registry_)
                             .Add({})),
      resumes_(prometheus::BuildCounter()
                   .Name("ovalstream_resumes_total")
                   .Help("Clients that asked to resume (?since=), per outcome: exact (only what they "
                         "missed) or snapshot (not covered: a reset frame and the full snapshot)")
                   .Register(*registry_)),
      resumes_exact_(resumes_.Add({{"outcome", "exact"}})),
      resumes_snapshot_(resumes_.Add({{"outcome", "snapshot"}})),
      resume_bytes_(prometheus::BuildCounter()
                        .Name("ovalstream_resume_sent_bytes_total")
                        .Help("Event bytes sent to clients that resumed exactly")
                        .Register(*registry_)
                        .Add({})),
      competitions_dropped_(prometheus::BuildCounter()
                                .Name("ovalstream_competitions_dropped_total")
                                .Help("Competitions whose state was dropped, per reason (idle: no event for "
                                      "--idle-drop; limit: --max-competitions reached)")
                                .Register(*registry_)),
      consumer_pending_(prometheus::BuildGauge()
                            .Name("ovalstream_consumer_pending_messages")
                            .Help("Messages of the stream not yet delivered to the aggregator's consumer, as "
                                  "of the last one delivered (its lag)")
                            .Register(*registry_)
                            .Add({})),
      last_event_timestamp_(prometheus::BuildGauge()
                                .Name("ovalstream_last_event_timestamp_seconds")
                                .Help("When JetStream stored the last event the consumer delivered (Unix "
                                      "seconds)")
                                .Register(*registry_)
                                .Add({})),
      snapshot_bytes_(prometheus::BuildHistogram()
                          .Name("ovalstream_snapshot_bytes")
                          .Help("Bytes of event payload in the snapshot a new client receives")
                          .Register(*registry_)
                          .Add({}, exponential(1024, 4, 10))),
      publish_to_write_seconds_(
          prometheus::BuildHistogram()
              .Name("ovalstream_publish_to_write_seconds")
              .Help("From JetStream storing an event to its frame being written to a client")
              .Register(*registry_)
              .Add({}, exponential(0.0001, 2.5, 12))),
      feed_backpressure_waits_(
          prometheus::BuildCounter()
              .Name("ovalstream_feed_backpressure_waits_total")
              .Help("Times a consumer held back its next event because a competition's "
                    "feed had its limit of events queued, per outcome (drained, timeout)")
              .Register(*registry_)),
      websocket_closes_(prometheus::BuildCounter()
                            .Name("ovalstream_websocket_closes_total")
                            .Help("Websocket connections closed, per reason (client_close, client_gone, "
                                  "ping_timeout, slow_consumer, message_size, frame_rate, protocol_error, "
                                  "server, shutdown)")
                            .Register(*registry_)),
      http_responses_(prometheus::BuildCounter()
                          .Name("ovalstream_http_responses_total")
                          .Help("Plain HTTP responses (not websocket upgrades) on the client-facing "
                                "listener, per status code")
                          .Register(*registry_)),
      snapshot_sent_bytes_(prometheus::BuildCounter()
                               .Name("ovalstream_snapshot_sent_bytes_total")
                               .Help("Bytes of event payload sent to new clients in their snapshots")
                               .Register(*registry_)
                               .Add({})),
      last_event_applied_timestamp_(
          prometheus::BuildGauge()
              .Name("ovalstream_last_event_applied_timestamp_seconds")
              .Help("When JetStream stored the last valid event handed to a competition held (Unix seconds; "
                    "0 before the first)")
              .Register(*registry_)
              .Add({})),
      draining_(prometheus::BuildGauge()
                    .Name("ovalstream_draining")
                    .Help("1 from the shutdown signal on: upgrades refused, connections being closed")
                    .Register(*registry_)
                    .Add({})),
      max_connections_(prometheus::BuildGauge()
                           .Name("ovalstream_websocket_max_connections")
                           .Help("Websocket connections allowed (--max-connections; 0 = no limit)")
                           .Register(*registry_)
                           .Add({})),
      queue_limit_bytes_(prometheus::BuildGauge()
                             .Name("ovalstream_websocket_queue_limit_bytes")
                             .Help("Memory one connection may have queued before it is closed as a slow "
                                   "consumer (--client-queue-bytes)")
                             .Register(*registry_)
                             .Add({})),
      auth_metrics_(std::make_shared<auth::AuthMetrics>(*registry_)),
      nats_(*registry_) {
  prometheus::BuildGauge()
      .Name("ovalstream_build_info")
      .Help("Build information")
      .Register(*registry_)
      .Add({{"version", std::move(version)}, {"component", "aggregator"}})
      .Set(1);
  for (int i = 0; i < core::kEventTypeCount; ++i) {
    const auto type = static_cast<core::EventType>(i);
    const std::string name =
        type == core::EventType::kUnknown ? "unknown" : std::string(core::event_type_name(type));
    received_by_type_[i] = &events_received_.Add({{"type", name}});
  }
  // Both reasons from the start, so a rate over them can be alerted on before the first close.
  for (const char* reason : {"message_size", "frame_rate"})
    client_frame_limit_closes_.Add({{"reason", reason}});
  for (const char* endpoint : {"competitions", "competition"}) {
    open_by_endpoint_[endpoint] = &connections_open_.Add({{"endpoint", endpoint}});
    labelled(connections_accepted_, "endpoint", endpoint);
  }
  // Every other labelled counter too, with every value it can take.
  for (const char* reason : hub::kUpgradeRejectionReasons) labelled(connections_rejected_, "reason", reason);
  for (const char* reason : hub::kHttpDropReasons) labelled(http_connections_dropped_, "reason", reason);
  for (const char* reason : hub::kWebSocketCloseReasons) labelled(websocket_closes_, "reason", reason);
  for (const std::string& reason : rejection_reasons()) labelled(events_rejected_, "reason", reason);
  for (const char* reason : {"idle", "limit"}) labelled(competitions_dropped_, "reason", reason);
  for (const char* outcome : {"drained", "timeout"}) labelled(feed_backpressure_waits_, "outcome", outcome);
  for (const unsigned status : kHttpStatuses) labelled(http_responses_, "code", std::to_string(status));
  add_scrape_gauges();
}

void Telemetry::add_scrape_gauges() {
  using Samples = metrics::ScrapeGauges::Samples;
  scrape_gauges_.add("ovalstream_ready",
                     "1 while /readyz answers 200 (NATS connected, stream found, caught up, "
                     "not draining)",
                     [this] {
                       const Sources sources = this->sources();
                       return sources.ready && sources.ready() ? 1.0 : 0.0;
                     });
  scrape_gauges_.add("ovalstream_websocket_queued_bytes",
                     "Memory queued to websocket clients, not yet taken by them, over every connection",
                     [this] {
                       const Sources sources = this->sources();
                       return sources.queued_bytes ? static_cast<double>(sources.queued_bytes().total) : 0.0;
                     });
  scrape_gauges_.add("ovalstream_websocket_queued_max_bytes",
                     "Memory queued to the one websocket client with the most (compare "
                     "ovalstream_websocket_queue_limit_bytes)",
                     [this] {
                       const Sources sources = this->sources();
                       return sources.queued_bytes ? static_cast<double>(sources.queued_bytes().largest)
                                                   : 0.0;
                     });
  scrape_gauges_.add("ovalstream_feed_inbox_limit_events",
                     "Events a competition's feed queues before the consumer waits for it",
                     [] { return static_cast<double>(CompetitionFeed::kInboxLimit); });
  scrape_gauges_.add("ovalstream_feed_inbox_max_events",
                     "Events waiting in the fullest competition feed's inbox (compare "
                     "ovalstream_feed_inbox_limit_events)",
                     [this] {
                       const Sources sources = this->sources();
                       std::size_t deepest = 0;
                       if (sources.competitions) {
                         for (const auto& held : sources.competitions())
                           deepest = std::max(deepest, held.inbox_events);
                       }
                       return static_cast<double>(deepest);
                     });
  scrape_gauges_.add(
      "ovalstream_competition_clients",
      "Websocket clients per competition held (series go with the competition; at most "
      "--max-competitions)",
      std::function<Samples()>([this] {
        Samples samples;
        const Sources sources = this->sources();
        if (!sources.competitions) return samples;
        for (const auto& held : sources.competitions()) {
          samples.push_back({{{"competition", held.competition_id}}, static_cast<double>(held.clients)});
        }
        return samples;
      }));
  scrape_gauges_.add("ovalstream_competition_last_event_timestamp_seconds",
                     "When JetStream stored the last event of each competition held (Unix seconds)",
                     std::function<Samples()>([this] {
                       Samples samples;
                       const Sources sources = this->sources();
                       if (!sources.competitions) return samples;
                       for (const auto& held : sources.competitions()) {
                         samples.push_back({{{"competition", held.competition_id}},
                                            static_cast<double>(held.last_event_ns) / 1e9});
                       }
                       return samples;
                     }));
}

void Telemetry::attach(Sources sources) {
  runtime::MutexLock lock(sources_mutex_);
  sources_ = std::move(sources);
}

Telemetry::Sources Telemetry::sources() const {
  runtime::MutexLock lock(sources_mutex_);
  return sources_;
}

std::string Telemetry::scrape() const {
  return metrics::expose({registry_.get(), &process_, &scrape_gauges_});
}

void Telemetry::set_limits(std::size_t max_connections, std::size_t client_queue_bytes) {
  max_connections_.Set(static_cast<double>(max_connections));
  queue_limit_bytes_.Set(static_cast<double>(client_queue_bytes));
}

void Telemetry::set_draining(bool draining) {
  draining_.Set(draining ? 1 : 0);
}

void Telemetry::set_nats_connected(bool connected) {
  nats_.set_connected(connected);
}

void Telemetry::nats_async_error() {
  nats_.async_error();
}

void Telemetry::websocket_closed(const std::string& reason) {
  labelled(websocket_closes_, "reason", reason).Increment();
}

void Telemetry::http_response(unsigned status) {
  labelled(http_responses_, "code", std::to_string(status)).Increment();
}

void Telemetry::event_applied(const FeedMessage& message) {
  last_event_applied_timestamp_.Set(static_cast<double>(message.timestamp_ns) / 1e9);
}

prometheus::Counter& Telemetry::labelled(prometheus::Family<prometheus::Counter>& family,
                                         const std::string& key, const std::string& value) {
  runtime::MutexLock lock(labels_mutex_);
  const std::string cache_key = std::to_string(reinterpret_cast<std::uintptr_t>(&family)) + '\0' + value;
  auto& counter = counters_by_label_[cache_key];
  if (!counter) counter = &family.Add({{key, value}});
  return *counter;
}

void Telemetry::connection_opened(const std::string& endpoint) {
  labelled(connections_accepted_, "endpoint", endpoint).Increment();
  runtime::MutexLock lock(labels_mutex_);
  auto& gauge = open_by_endpoint_[endpoint];
  if (!gauge) gauge = &connections_open_.Add({{"endpoint", endpoint}});
  gauge->Increment();
}

void Telemetry::connection_closed(const std::string& endpoint) {
  runtime::MutexLock lock(labels_mutex_);
  auto& gauge = open_by_endpoint_[endpoint];
  if (!gauge) gauge = &connections_open_.Add({{"endpoint", endpoint}});
  gauge->Decrement();
}

void Telemetry::connection_rejected(const std::string& reason) {
  labelled(connections_rejected_, "reason", reason).Increment();
}

void Telemetry::frames_written(std::uint64_t frames, std::uint64_t bytes) {
  frames_sent_.Increment(static_cast<double>(frames));
  bytes_sent_.Increment(static_cast<double>(bytes));
}

void Telemetry::publish_to_write(std::chrono::nanoseconds latency) {
  publish_to_write_seconds_.Observe(std::chrono::duration<double>(latency).count());
}

void Telemetry::slow_consumer_closed() {
  slow_consumer_closes_.Increment();
  logger_.log_every("slow_consumer", std::chrono::seconds(10), runtime::LogLevel::kWarn,
                    "closed a slow consumer (1008): its queue exceeded --client-queue-bytes", {});
}

void Telemetry::pong_coalesced() {
  pongs_coalesced_.Increment();
}

void Telemetry::reads_paused() {
  reads_paused_.Increment();
}

void Telemetry::client_frame_discarded() {
  client_frames_discarded_.Increment();
}

void Telemetry::client_frame_limit_closed(const std::string& reason) {
  labelled(client_frame_limit_closes_, "reason", reason).Increment();
}

void Telemetry::http_connection_dropped(const std::string& reason) {
  labelled(http_connections_dropped_, "reason", reason).Increment();
}

void Telemetry::event_received(const core::Event& event) {
  received_by_type_[static_cast<std::size_t>(event.header.type)]->Increment();
}

void Telemetry::event_rejected(const FeedMessage& message, const std::string& reason,
                               const std::string& detail) {
  labelled(events_rejected_, "reason", reason).Increment();
  // At most one line per reason every 10 s (with the count suppressed in between): anyone able to publish
  // could otherwise fill the log, and the metric counts every one.
  logger_.log_every("event_rejected:" + reason, kRejectedEventLogInterval, runtime::LogLevel::kWarn,
                    "rejected an event, skipped it",
                    {{"subject", message.subject},
                     {"sequence", static_cast<std::int64_t>(message.stream_sequence)},
                     {"reason", reason},
                     {"detail", detail}});
}

void Telemetry::message_consumed(const FeedMessage& message) {
  consumer_pending_.Set(static_cast<double>(message.pending));
  last_event_timestamp_.Set(static_cast<double>(message.timestamp_ns) / 1e9);
}

void Telemetry::competitions_held(std::size_t count) {
  competitions_held_.Set(static_cast<double>(count));
}

void Telemetry::competition_held(const std::string& competition_id, std::uint64_t from_sequence) {
  logger_.info("holding competition", {{"competitionId", competition_id},
                                       {"fromSequence", static_cast<std::int64_t>(from_sequence)}});
}

void Telemetry::competition_dropped(const std::string& competition_id, const std::string& reason) {
  labelled(competitions_dropped_, "reason", reason).Increment();
  if (reason == "limit") {
    logger_.log_every("dropped-limit", std::chrono::seconds(10), runtime::LogLevel::kWarn,
                      "dropped the least recently active competition: --max-competitions reached",
                      {{"competitionId", competition_id}});
  } else {
    logger_.info("dropped idle competition", {{"competitionId", competition_id}, {"reason", reason}});
  }
}

void Telemetry::caught_up(std::uint64_t sequence) {
  logger_.info("caught up with the stream; ready", {{"sequence", sequence}});
}

void Telemetry::feed_backpressure(const std::string& competition_id, bool drained) {
  labelled(feed_backpressure_waits_, "outcome", drained ? "drained" : "timeout").Increment();
  if (!drained) {
    logger_.log_every("backpressure:" + competition_id, std::chrono::seconds(10), runtime::LogLevel::kWarn,
                      "a competition's feed stayed full for the whole wait; delivering anyway",
                      {{"competitionId", competition_id},
                       {"waitMs", static_cast<std::int64_t>(kFeedBackpressureWait.count())}});
  }
}

void Telemetry::snapshot_sent(std::size_t, std::size_t bytes) {
  snapshot_bytes_.Observe(static_cast<double>(bytes));
  snapshot_sent_bytes_.Increment(static_cast<double>(bytes));
}

void Telemetry::resume_served(bool exact, std::size_t bytes) {
  (exact ? resumes_exact_ : resumes_snapshot_).Increment();
  if (exact) resume_bytes_.Increment(static_cast<double>(bytes));
}

void Telemetry::duplicate_skipped() {
  duplicates_skipped_.Increment();
}

}  // namespace ovalstream::aggregator
