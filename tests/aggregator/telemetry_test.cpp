// The aggregator's Telemetry as a scrape shows it: labelled counters at 0 from the start, NATS reconnects
// counted only after a loss, and the gauges read from the service when scraped (series per competition go
// with the competition).
#include "telemetry.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace ovalstream::aggregator {
namespace {

class TelemetryTest : public ::testing::Test {
 protected:
  bool has_line(const std::string& line) const {
    const std::string text = "\n" + telemetry.scrape();
    return text.find("\n" + line + "\n") != std::string::npos;
  }

  std::ostringstream log;
  Telemetry telemetry{"1.2.3", runtime::Logger("test", log)};
};

TEST_F(TelemetryTest, LabelledCountersStartAtZeroForEveryKnownValue) {
  for (const char* line : {
           "ovalstream_build_info{component=\"aggregator\",version=\"1.2.3\"} 1",
           "ovalstream_events_rejected_total{reason=\"schema\"} 0",
           "ovalstream_events_rejected_total{reason=\"too_large\"} 0",
           "ovalstream_websocket_connections_rejected_total{reason=\"draining\"} 0",
           "ovalstream_websocket_closes_total{reason=\"ping_timeout\"} 0",
           "ovalstream_feed_backpressure_waits_total{outcome=\"timeout\"} 0",
           "ovalstream_competitions_dropped_total{reason=\"limit\"} 0",
           "ovalstream_http_connections_dropped_total{reason=\"write_stalled\"} 0",
           "ovalstream_http_responses_total{code=\"404\"} 0",
       }) {
    EXPECT_TRUE(has_line(line)) << line << "\n" << telemetry.scrape();
  }
  telemetry.websocket_closed("ping_timeout");
  telemetry.http_response(404);
  telemetry.http_response(418);  // one the routes do not send: still counted
  EXPECT_TRUE(has_line("ovalstream_websocket_closes_total{reason=\"ping_timeout\"} 1"));
  EXPECT_TRUE(has_line("ovalstream_http_responses_total{code=\"404\"} 1"));
  EXPECT_TRUE(has_line("ovalstream_http_responses_total{code=\"418\"} 1"));
}

TEST_F(TelemetryTest, ReconnectsCountOnlyAConnectionRegainedAfterALoss) {
  telemetry.set_nats_connected(false);  // not reachable at start
  telemetry.set_nats_connected(true);   // the first connection: no reconnect
  EXPECT_TRUE(has_line("ovalstream_nats_reconnects_total 0"));
  telemetry.set_nats_connected(false);
  telemetry.set_nats_connected(true);
  telemetry.set_nats_connected(false);
  telemetry.set_nats_connected(true);
  EXPECT_TRUE(has_line("ovalstream_nats_reconnects_total 2"));
  telemetry.nats_async_error();
  EXPECT_TRUE(has_line("ovalstream_nats_async_errors_total 1"));
}

TEST_F(TelemetryTest, ScrapeTimeGaugesReadTheSourcesAndSeriesGoWithTheirCompetition) {
  EXPECT_TRUE(has_line("ovalstream_ready 0"));  // nothing attached yet
  EXPECT_TRUE(has_line("# TYPE ovalstream_competition_clients gauge"));
  std::vector<CompetitionRegistry::HeldCompetition> held{{"a", 1'500'000'000'000'000'000, 3, 10},
                                                         {"b", 1'600'000'000'000'000'000, 0, 4000}};
  Telemetry::Sources sources;
  sources.competitions = [&] { return held; };
  sources.queued_bytes = [] { return hub::QueuedBytes{5000, 4096}; };
  sources.ready = [] { return true; };
  telemetry.attach(sources);
  telemetry.set_limits(100, 1 << 20);
  telemetry.set_draining(true);
  for (const char* line : {
           "ovalstream_ready 1",
           "ovalstream_competition_clients{competition=\"a\"} 3",
           "ovalstream_competition_clients{competition=\"b\"} 0",
           "ovalstream_competition_last_event_timestamp_seconds{competition=\"a\"} 1500000000",
           "ovalstream_feed_inbox_max_events 4000",
           "ovalstream_feed_inbox_limit_events 4096",
           "ovalstream_websocket_queued_bytes 5000",
           "ovalstream_websocket_queued_max_bytes 4096",
           "ovalstream_websocket_queue_limit_bytes 1048576",
           "ovalstream_websocket_max_connections 100",
           "ovalstream_draining 1",
       }) {
    EXPECT_TRUE(has_line(line)) << line << "\n" << telemetry.scrape();
  }
  held.erase(held.begin());
  const std::string text = telemetry.scrape();
  EXPECT_EQ(text.find("competition=\"a\""), std::string::npos) << text;
  EXPECT_TRUE(has_line("ovalstream_competition_clients{competition=\"b\"} 0"));
}

TEST_F(TelemetryTest, AppliedEventsAndSnapshotsAreCounted) {
  EXPECT_TRUE(has_line("ovalstream_last_event_applied_timestamp_seconds 0"));
  FeedMessage message;
  message.timestamp_ns = 1'700'000'000'500'000'000;
  telemetry.event_applied(message);
  EXPECT_TRUE(has_line("ovalstream_last_event_applied_timestamp_seconds 1700000000.5"));
  telemetry.snapshot_sent(3, 1000);
  telemetry.snapshot_sent(3, 24);
  EXPECT_TRUE(has_line("ovalstream_snapshot_sent_bytes_total 1024"));
  EXPECT_NE(telemetry.scrape().find("\nprocess_open_fds "), std::string::npos);
}

}  // namespace
}  // namespace ovalstream::aggregator
