// Integration tests of the real aggregator executable under stress and misuse: a client that never reads,
// SIGTERM with open clients, malformed events on the subjects, and many clients on one competition (one
// JetStream consumer per competition, never one per client).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "aggregator/support/aggregator_process.hpp"
#include "aggregator/support/large_payload_nats.hpp"
#include "aggregator/support/publishing.hpp"
#include "aggregator/support/ws_clients.hpp"
#include "ovalstream/nats/jetstream.hpp"
#include "support/event_builder.hpp"
#include "support/nats_server.hpp"
#include "support/skips.hpp"

namespace ovalstream::aggregator::itest {
namespace {

using ovalstream::testing::kDistanceA;
using ovalstream::testing::make_event_json;
using ovalstream::testing::NatsServerProcess;
using Clock = std::chrono::steady_clock;

constexpr const char* kStream = "VANTAGE";

std::string activation(const std::string& competition_id) {
  return make_event_json("CompetitionActivatedEvent", "", 0, "",
                         R"("competition":{"name":"Resilience Cup","discipline":"SpeedSkating.LongTrack"})",
                         competition_id);
}

std::string distance_activation(const std::string& competition_id, const std::string& distance_id) {
  return make_event_json("DistanceActivatedEvent", distance_id, 0, "",
                         R"("distance":{"name":"500m","id":")" + distance_id + R"("})", competition_id);
}

// An unknown distance-level event (passes through, kept in the snapshot) of about `size` bytes.
std::string padded_event(const std::string& competition_id, const std::string& distance_id, std::size_t index,
                         std::size_t size) {
  std::string json = R"({"typeName":"FuturePaddingEvent","competitionId":")" + competition_id +
                     R"(","distanceId":")" + distance_id + R"(","index":)" + std::to_string(index) +
                     R"(,"padding":")";
  json.append(size > json.size() + 2 ? size - json.size() - 2 : 0, 'p');
  return json + "\"}";
}

std::chrono::milliseconds since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

// Issue test 4: a client that completes the handshake and never reads is closed as a slow consumer (1008,
// or the socket is reset) once its queue exceeds --client-queue-bytes, while a reading client receives
// everything.
TEST(AggregatorIntegration, SlowConsumerIsClosedWhileOthersReceiveEverything) {
  SKIP_WITHOUT_NATS();
  NatsServerProcess nats;
  Publisher publisher(nats.url());
  ASSERT_TRUE(nats::create_stream(publisher.connection(), kStream, {"competition.>"}).ok());
  const std::string id = "slow-consumer-cup";
  std::vector<Published> published;
  published.push_back(publisher.publish_json(activation(id)));
  published.push_back(publisher.publish_json(distance_activation(id, kDistanceA)));
  AggregatorProcess aggregator(nats.url(), {"--client-queue-bytes", "65536"});
  const std::string path = "/v1/competitions/" + id;
  ASSERT_TRUE(
      wait_until([&] { return http_get(aggregator.metrics_port(), "/readyz").status == 200; }, 15s, 50ms));

  RawWsClient never_reads(aggregator.hub_port(), /*receive_buffer_bytes=*/4096);
  ASSERT_TRUE(never_reads.handshake(path));
  WsClient reader(aggregator.websocket_url(path));
  ASSERT_TRUE(reader.connect());
  ASSERT_TRUE(reader.wait_for_count(2, 10s));

  // 4 KiB events until the aggregator gives up on the client that never reads (bounded: 48 MiB). After each
  // batch of 32 KiB (half the queue bound) the test waits until the reading client has everything, so its
  // queue never comes near the bound; the queue of the client that never reads only grows.
  constexpr std::size_t kEventBytes = 4 * 1024;
  constexpr std::size_t kBatch = 8;
  constexpr std::size_t kMaxEvents = 12000;
  const auto slow_closes = [&] {
    return aggregator.metric("ovalstream_websocket_slow_consumer_closes_total").value_or(0);
  };
  const auto reader_has_everything = [&](std::chrono::milliseconds timeout) {
    return reader.wait_for_last(std::string(published.back().event.raw()), timeout);
  };
  std::size_t sent = 0;
  while (sent < kMaxEvents && slow_closes() < 1) {
    for (std::size_t i = 0; i < kBatch; ++i, ++sent) {
      published.push_back(publisher.publish_json(padded_event(id, kDistanceA, sent, kEventBytes)));
    }
    ASSERT_TRUE(reader_has_everything(10s))
        << "the reading client got " << reader.message_count() << " of " << published.size()
        << (reader.closed() ? ", closed with " + std::to_string(reader.close_code()) : std::string(", open"));
  }
  ASSERT_GE(slow_closes(), 1.0) << "no slow-consumer close after " << sent << " events of " << kEventBytes
                                << " bytes";
  // A few more after the close: the reader keeps receiving.
  for (std::size_t i = 0; i < kBatch; ++i, ++sent) {
    published.push_back(publisher.publish_json(padded_event(id, kDistanceA, sent, kEventBytes)));
  }
  ASSERT_TRUE(reader_has_everything(20s))
      << "the reading client got " << reader.message_count() << " of " << published.size()
      << (reader.closed() ? ", closed with " + std::to_string(reader.close_code()) : std::string(", open"));
  EXPECT_TRUE(same_frames(bytes_of(published, 0, published.size()), reader.messages()));
  EXPECT_FALSE(reader.closed());

  // The client that never read is gone: its close frame cannot even reach it, so the aggregator tears the
  // connection down after its close timeout (5 s). Only then does the test read what reached its socket:
  // whatever was in flight, then the 1008 close frame, or EOF/reset.
  EXPECT_TRUE(wait_until(
      [&] {
        return aggregator.metric("ovalstream_websocket_connections_open{endpoint=\"competition\"}") == 1.0;
      },
      10s, 50ms))
      << "the slow consumer's connection is still open";
  std::size_t data_frames = 0;
  const auto close = never_reads.read_until_close(10s, &data_frames);
  if (close) {
    EXPECT_EQ(close->close_code(), 1008) << "close reason: " << close->payload.substr(2);
  } else {
    EXPECT_TRUE(never_reads.eof() || never_reads.reset())
        << "neither a close frame nor EOF/reset within 10 s";
  }
  EXPECT_LT(data_frames, published.size()) << "the slow client was not cut off";
  EXPECT_EQ(slow_closes(), 1.0) << "only the client that never read is a slow consumer";
  EXPECT_TRUE(aggregator.wait_for_log("slow consumer", 5s));
  EXPECT_FALSE(reader.closed());
}

// Issue test 6: SIGTERM: /readyz turns 503 at once, upgrades are refused, an open client still receives
// events during --drain-delay, then gets 1001, and the process exits 0 in time.
TEST(AggregatorIntegration, SigtermDrainsOpenClientsAndExitsCleanly) {
  SKIP_WITHOUT_NATS();
  NatsServerProcess nats;
  Publisher publisher(nats.url());
  ASSERT_TRUE(nats::create_stream(publisher.connection(), kStream, {"competition.>"}).ok());
  const std::string id = "drain-cup";
  std::vector<Published> published;
  published.push_back(publisher.publish_json(activation(id)));
  published.push_back(publisher.publish_json(distance_activation(id, kDistanceA)));
  constexpr auto kDrainDelay = 1500ms;
  constexpr auto kDrainSpread = 1000ms;
  AggregatorProcess aggregator(nats.url(), {"--drain-delay", "1500ms", "--drain-seconds", "1"});
  ASSERT_TRUE(
      wait_until([&] { return http_get(aggregator.metrics_port(), "/readyz").status == 200; }, 15s, 50ms));
  const std::string path = "/v1/competitions/" + id;
  WsClient client(aggregator.websocket_url(path));
  ASSERT_TRUE(client.connect());
  WsClient list_client(aggregator.websocket_url("/v1/competitions"));
  ASSERT_TRUE(list_client.connect());
  ASSERT_TRUE(client.wait_for_count(2, 10s));
  ASSERT_TRUE(list_client.wait_for_count(1, 10s));

  const auto signalled = Clock::now();
  aggregator.send_signal(SIGTERM);
  HttpReply ready;
  ASSERT_TRUE(wait_until(
      [&] {
        ready = http_get(aggregator.metrics_port(), "/readyz");
        return ready.status == 503;
      },
      500ms, 5ms))
      << "/readyz still " << ready.status << " after SIGTERM";
  EXPECT_NE(ready.body.find("draining"), std::string::npos) << ready.body;
  EXPECT_EQ(upgrade_request(aggregator.hub_port(), path).status, 503) << "a new upgrade while draining";
  EXPECT_EQ(http_get(aggregator.metrics_port(), "/healthz").status, 200) << "alive while draining";

  // Still served during the delay.
  published.push_back(publisher.publish_json(sentinel_json(id, kDistanceA, "during-drain")));
  const std::string during(published.back().event.raw());
  ASSERT_TRUE(client.wait_for_last(during, kDrainDelay)) << "no event during the drain delay";
  const auto received_at = since(signalled);
  EXPECT_LT(received_at, kDrainDelay) << "the event arrived after the drain delay";
  EXPECT_FALSE(client.closed());

  ASSERT_TRUE(client.wait_closed(kDrainDelay + kDrainSpread + 3s)) << "no close after the drain";
  const auto closed_at = since(signalled);
  EXPECT_EQ(client.close_code(), 1001);
  EXPECT_GE(closed_at, kDrainDelay - 100ms) << "closed before the drain delay passed";
  EXPECT_EQ(client.messages_before_close(), 3u);
  EXPECT_TRUE(same_frames(bytes_of(published, 0, published.size()), client.messages()));
  ASSERT_TRUE(list_client.wait_closed(kDrainSpread + 3s));
  EXPECT_EQ(list_client.close_code(), 1001);

  const auto exit_code = aggregator.wait_exit(kDrainDelay + kDrainSpread + 5s - since(signalled));
  ASSERT_TRUE(exit_code.has_value()) << "still running " << since(signalled).count() << " ms after SIGTERM";
  EXPECT_EQ(*exit_code, 0);
  EXPECT_LE(since(signalled), kDrainDelay + kDrainSpread + 3s);
  EXPECT_FALSE(aggregator.log_lines_with("draining").empty());
  EXPECT_FALSE(aggregator.log_lines_with("drained; exiting").empty());
}

// Issue test 9: malformed, oversized, wrongly typed, misrouted events are counted by reason and skipped;
// unknown types pass through; the service keeps serving and later valid events arrive.
TEST(AggregatorIntegration, RejectsMalformedEventsAndKeepsServing) {
  SKIP_WITHOUT_NATS();
  // max_payload above the aggregator's 1 MiB bound (the nats-server default is exactly 1 MiB, so nothing
  // larger could be published to it).
  LargePayloadNatsServer nats(4 << 20);
  Publisher publisher(nats.url());
  ASSERT_TRUE(nats::create_stream(publisher.connection(), kStream, {"competition.>"}).ok());
  const std::string id = "malformed-cup";
  const std::string did = kDistanceA;
  std::vector<Published> valid;
  valid.push_back(publisher.publish_json(activation(id)));
  valid.push_back(publisher.publish_json(distance_activation(id, did)));
  AggregatorProcess aggregator(nats.url());
  ASSERT_TRUE(
      wait_until([&] { return http_get(aggregator.metrics_port(), "/readyz").status == 200; }, 15s, 50ms));
  const std::string path = "/v1/competitions/" + id;
  WsClient client(aggregator.websocket_url(path));
  ASSERT_TRUE(client.connect());
  ASSERT_TRUE(client.wait_for_count(2, 10s));

  const std::string competition_subject = "competition." + id;
  const std::string distance_subject = competition_subject + ".distances." + did;
  const std::string heat_subject = distance_subject + ".heats.1.1";
  struct Bad {
    std::string subject;
    std::string bytes;
    std::string reason;
  };
  std::string huge = padded_event(id, did, 0, (1u << 20) + 1024);
  ASSERT_GT(huge.size(), std::size_t{1} << 20);
  const std::vector<Bad> bad = {
      {distance_subject, "this is not json", "not_json"},
      {"competition.activations", R"({"typeName":"CompetitionActivatedEvent",)", "not_json"},
      {distance_subject, huge, "too_large"},
      {competition_subject, "[1,2,3]", "not_object"},
      {distance_subject, R"({"competitionId":")" + id + R"(","distanceId":")" + did + R"("})",
       "missing_type_name"},
      {distance_subject, R"({"typeName":7,"competitionId":")" + id + R"("})", "type_name_not_string"},
      {competition_subject, R"({"typeName":"FutureEvent","competitionId":5})", "bad_competition_id"},
      {distance_subject, R"({"typeName":"FutureEvent","competitionId":")" + id + R"(","distanceId":42})",
       "bad_distance_id"},
      {heat_subject,
       R"({"typeName":"HeatStartedEvent","competitionId":")" + id + R"(","distanceId":")" + did +
           R"(","heat":"1-1"})",
       "bad_heat"},
      {heat_subject,
       R"({"typeName":"RacePassingAddedEvent","competitionId":")" + id + R"(","distanceId":")" + did +
           R"(","heat":{"round":1,"number":1},"raceId":7,"passing":{}})",
       "bad_race_id"},
      {heat_subject,
       R"({"typeName":"RacePassingAddedEvent","competitionId":")" + id + R"(","distanceId":")" + did +
           R"(","heat":{"round":1,"number":1},"raceId":"r1"})",
       "schema"},
      // Valid events on the wrong subject: another distance's, another competition's.
      {competition_subject + ".distances.other-distance",
       R"({"typeName":"FutureEvent","competitionId":")" + id + R"(","distanceId":")" + did + R"("})",
       "subject_mismatch"},
      {distance_subject,
       R"({"typeName":"FutureEvent","competitionId":"another-cup","distanceId":")" + did + R"("})",
       "subject_mismatch"},
  };
  // Each bad event is followed by a valid one of an unknown type: it passes through, in order.
  for (std::size_t i = 0; i < bad.size(); ++i) {
    publisher.publish_raw(bad[i].subject, bad[i].bytes);
    valid.push_back(publisher.publish_json(R"({"typeName":"FutureEvent","competitionId":")" + id +
                                           R"(","distanceId":")" + did + R"(","after":)" + std::to_string(i) +
                                           "}"));
    ASSERT_TRUE(client.wait_for_last(std::string(valid.back().event.raw()), 10s))
        << "the valid event after the " << bad[i].reason << " one did not arrive";
  }
  // An unknown competition-level type passes through too (it arrives through the other consumer).
  valid.push_back(
      publisher.publish_json(R"({"typeName":"FutureCompetitionEvent","competitionId":")" + id + R"("})"));
  ASSERT_TRUE(client.wait_for_last(std::string(valid.back().event.raw()), 10s));
  valid.push_back(publisher.publish_json(sentinel_json(id, did, "end")));
  ASSERT_TRUE(client.wait_for_last(std::string(valid.back().event.raw()), 10s));

  EXPECT_TRUE(same_frames(bytes_of(valid, 0, valid.size()), client.messages())) << "exactly the valid events";
  const core::CompetitionState truth = state_after(id, valid, valid.size());
  EXPECT_TRUE(same_live_view(truth, fold_frames(id, client.messages())));
  EXPECT_EQ(http_get(aggregator.hub_port(), path).body, truth.state_view_json());

  const std::string scrape = aggregator.scrape();
  std::map<std::string, int> expected_counts;
  for (const Bad& item : bad) ++expected_counts[item.reason];
  for (const auto& [reason, count] : expected_counts) {
    const auto value = metric_value(scrape, "ovalstream_events_rejected_total{reason=\"" + reason + "\"}");
    EXPECT_TRUE(value.has_value()) << reason;
    EXPECT_GE(value.value_or(0), count) << reason;
  }
  EXPECT_GE(metric_value(scrape, "ovalstream_events_received_total{type=\"unknown\"}").value_or(0),
            static_cast<double>(bad.size() + 2));
  // Logged rate-limited per reason: one line for each reason here, however many events had it.
  EXPECT_EQ(aggregator.log_lines_with("rejected an event").size(), expected_counts.size());
  EXPECT_EQ(http_get(aggregator.metrics_port(), "/healthz").status, 200);
  EXPECT_EQ(http_get(aggregator.metrics_port(), "/readyz").status, 200);
  EXPECT_TRUE(aggregator.running());
  EXPECT_FALSE(client.closed());
}

// 50 websocket clients of one competition and a second competition: the aggregator still reads the stream
// with its one JetStream consumer (never one per client or per competition).
TEST(AggregatorIntegration, OneConsumerPerAggregatorWhateverTheClientsAndCompetitions) {
  SKIP_WITHOUT_NATS();
  NatsServerProcess nats;
  Publisher publisher(nats.url());
  ASSERT_TRUE(nats::create_stream(publisher.connection(), kStream, {"competition.>"}).ok());
  const std::string id = "crowded-cup";
  std::vector<Published> published;
  published.push_back(publisher.publish_json(activation(id)));
  published.push_back(publisher.publish_json(distance_activation(id, kDistanceA)));
  AggregatorProcess aggregator(nats.url());
  const auto consumers = [&] {
    auto count = nats::consumer_count(publisher.connection(), kStream);
    return count ? count.value() : std::int64_t{-1};
  };
  ASSERT_TRUE(wait_until([&] { return consumers() == 1; }, 15s, 50ms)) << "consumers: " << consumers();
  const std::string path = "/v1/competitions/" + id;
  ASSERT_TRUE(wait_until([&] { return http_get(aggregator.hub_port(), path).body != "null"; }, 10s));
  const std::vector<std::string> snapshot = snapshot_bytes(state_after(id, published, published.size()));

  constexpr int kClients = 50;
  std::vector<std::unique_ptr<RawWsClient>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<RawWsClient>(aggregator.hub_port()));
    ASSERT_TRUE(clients.back()->handshake(path)) << "client " << i;
  }
  for (int i = 0; i < kClients; ++i) {
    EXPECT_TRUE(same_frames(snapshot, clients[i]->read_texts(snapshot.size(), 10s))) << "client " << i;
  }
  EXPECT_EQ(consumers(), 1);
  EXPECT_EQ(aggregator.metric("ovalstream_websocket_connections_open{endpoint=\"competition\"}"), kClients);

  const std::size_t before = published.size();
  for (int i = 0; i < 5; ++i)
    published.push_back(publisher.publish_json(sentinel_json(id, kDistanceA, std::to_string(i))));
  const std::vector<std::string> live = bytes_of(published, before, published.size());
  for (int i = 0; i < kClients; ++i) {
    EXPECT_TRUE(same_frames(live, clients[i]->read_texts(live.size(), 10s))) << "client " << i;
  }
  EXPECT_EQ(consumers(), 1);
  EXPECT_EQ(aggregator.metric("ovalstream_competitions_held"), 1.0);

  // A second competition adds no consumer.
  publisher.publish_json(activation("second-cup"));
  EXPECT_TRUE(wait_until([&] { return aggregator.metric("ovalstream_competitions_held") == 2.0; }, 5s));
  EXPECT_EQ(consumers(), 1);
}

}  // namespace
}  // namespace ovalstream::aggregator::itest

namespace ovalstream::aggregator::itest {
namespace {

// Regression (found by the benchmarks): the stream watcher compared the stream's last sequence with the
// highest sequence applied *after* the lookup returned, so events applied meanwhile looked like the stream
// going backwards, and every client was rebuilt and resent its snapshot. Under a steady publish rate the
// watcher (once a second) must never see a purge that did not happen.
TEST(AggregatorIntegration, SteadyPublishingIsNeverMistakenForAPurge) {
  SKIP_WITHOUT_NATS();
  NatsServerProcess nats;
  Publisher publisher(nats.url());
  ASSERT_TRUE(nats::create_stream(publisher.connection(), kStream, {"competition.>"}).ok());
  const std::string id = "steady-cup";
  publisher.publish_json(activation(id));
  publisher.publish_json(distance_activation(id, kDistanceA));
  AggregatorProcess aggregator(nats.url());
  WsClient client(aggregator.websocket_url("/v1/competitions/" + id));
  ASSERT_TRUE(client.connect());

  const auto start = Clock::now();
  std::size_t index = 0;
  while (since(start) < 6s && index < 200'000)
    publisher.publish_json(padded_event(id, kDistanceA, index++, 200));
  ASSERT_TRUE(client.wait_for_count(index + 2, 30s)) << client.message_count() << " of " << index + 2;
  EXPECT_TRUE(aggregator.log_lines_with("recreated or purged").empty()) << aggregator.log_tail();
  EXPECT_EQ(client.message_count(), index + 2) << "no snapshot was resent";
}

}  // namespace
}  // namespace ovalstream::aggregator::itest
