// Integration test of the real aggregator with clients that send data frames: a browser app's JSON
// heartbeats are read and discarded (as by the original server), counted, and never cost the client its
// stream; a client over --client-frame-rate is closed 1008; bad values of the flags are usage errors.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "aggregator/support/aggregator_process.hpp"
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

const std::string kHeartbeat = R"({"type":"ping"})";

std::string activation(const std::string& competition_id) {
  return make_event_json("CompetitionActivatedEvent", "", 0, "",
                         R"("competition":{"name":"Cup","discipline":"SpeedSkating.LongTrack"})",
                         competition_id);
}

std::string distance_activation(const std::string& competition_id) {
  return make_event_json("DistanceActivatedEvent", kDistanceA, 0, "",
                         R"("distance":{"name":"500m","id":")" + std::string(kDistanceA) + R"("})",
                         competition_id);
}

std::uint64_t counter(const AggregatorProcess& aggregator, const std::string& series) {
  return static_cast<std::uint64_t>(aggregator.metric(series).value_or(-1));
}

TEST(AggregatorIntegration, HeartbeatsAreDiscardedAndCountedAndABurstOverTheRateIsClosed1008) {
  SKIP_WITHOUT_NATS();
  NatsServerProcess nats;
  Publisher publisher(nats.url());
  ASSERT_TRUE(nats::create_stream(publisher.connection(), "VANTAGE", {"competition.>"}).ok());
  const std::string competition = "heartbeat-cup";
  const Published activated = publisher.publish_json(activation(competition));

  // 2 frames/s over 10 s: a bucket of 20.
  AggregatorProcess aggregator(nats.url(), {"--client-frame-rate", "2"});
  EXPECT_EQ(counter(aggregator, "ovalstream_websocket_client_frames_discarded_total"), 0u);
  EXPECT_EQ(
      counter(aggregator, R"(ovalstream_websocket_client_frame_limit_closes_total{reason="frame_rate"})"),
      0u);

  // A browser-like client (cpprest's websocketpp): heartbeats every 200 ms for 2 s, an event published
  // meanwhile reaches it after its snapshot.
  WsClient viewer(aggregator.websocket_url("/v1/competitions/" + competition));
  ASSERT_TRUE(viewer.connect());
  ASSERT_TRUE(viewer.wait_for_count(1, 10s)) << "the snapshot";
  constexpr int kBeats = 10;
  std::string live;
  for (int beat = 0; beat < kBeats; ++beat) {
    ASSERT_TRUE(viewer.send_text(kHeartbeat)) << "beat " << beat;
    if (beat == kBeats / 2)
      live = std::string(publisher.publish_json(distance_activation(competition)).event.raw());
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_TRUE(viewer.wait_for_count(2, 10s));
  EXPECT_EQ(viewer.messages(), (std::vector<std::string>{std::string(activated.event.raw()), live}));
  EXPECT_FALSE(viewer.closed()) << "closed " << viewer.close_code();
  EXPECT_TRUE(wait_until(
      [&] { return counter(aggregator, "ovalstream_websocket_client_frames_discarded_total") == kBeats; },
      5s))
      << aggregator.scrape();

  // A burst past the bucket: closed 1008, counted; the viewer stays.
  WsClient flooder(aggregator.websocket_url("/v1/competitions/" + competition));
  ASSERT_TRUE(flooder.connect());
  for (int i = 0; i < 40 && !flooder.closed(); ++i) flooder.send_text(kHeartbeat, 1s);
  ASSERT_TRUE(flooder.wait_closed(5s));
  EXPECT_EQ(flooder.close_code(), 1008);
  EXPECT_EQ(
      counter(aggregator, R"(ovalstream_websocket_client_frame_limit_closes_total{reason="frame_rate"})"),
      1u);
  EXPECT_FALSE(viewer.closed());
  EXPECT_TRUE(viewer.send_text(kHeartbeat));
}

TEST(AggregatorIntegration, ClientFrameFlagsAreKnownAndOutOfRangeValuesAreUsageErrors) {
  // Known (an unknown flag is a usage error even with --help), at both ends of their ranges.
  EXPECT_EQ(run_program({AggregatorProcess::executable(), "--client-frame-rate", "0",
                         "--max-client-message-bytes", "1024", "--help"},
                        20s),
            0);
  EXPECT_EQ(run_program({AggregatorProcess::executable(), "--client-frame-rate", "10000",
                         "--max-client-message-bytes", "16777216", "--help"},
                        20s),
            0);
  for (const std::vector<std::string>& flag : std::vector<std::vector<std::string>>{
           {"--client-frame-rate", "-1"},
           {"--client-frame-rate", "10001"},
           {"--max-client-message-bytes", "100"},
           {"--max-client-message-bytes", "1GiB"},
       }) {
    EXPECT_EQ(
        run_program({AggregatorProcess::executable(), flag[0], flag[1], "--nats-url", "nats://127.0.0.1:1"},
                    20s),
        2)
        << flag[0] << " " << flag[1];
  }
}

}  // namespace
}  // namespace ovalstream::aggregator::itest
