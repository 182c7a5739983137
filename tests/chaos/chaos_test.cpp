// Issue 18: faults injected into the production shape while a competition runs (docs/scaling.md). Each
// scenario builds the shape (chaos/support/chaos_shape.hpp: a three-node JetStream cluster with the stream
// at 3 replicas, two aggregators on different servers, `recorder serve`, a publisher, viewers joining and
// leaving on both aggregators), injects its fault mid-competition, and ends with the same checks: every
// client ends with the true view, every connection got what the protocol promises with nothing repeated or
// out of order, the recorder's files hold every event exactly once.
// Label `chaos`; timings deterministic unless OVALSTREAM_CHAOS_SEED is set (scripts/soak draws them).
#include <gtest/gtest.h>

#include <iostream>
#include <thread>

#include "chaos/support/chaos_shape.hpp"
#include "support/nats_server.hpp"
#include "support/skips.hpp"

namespace ovalstream::chaos {
namespace {

// 1. kill -9 the stream's leader mid-heat, restart it later.
TEST(Chaos, KillTheStreamLeaderMidHeat) {
  SKIP_WITHOUT_NATS();
  ChaosTimings timings;
  ChaosShape shape({}, timings);
  ASSERT_TRUE(shape.ok());
  const double kill_at = timings.pick(0.3, 0.1, 0.6);
  const double restart_at = kill_at + timings.pick(0.3, 0.05, 0.35);
  shape.publish();
  shape.sleep_until(kill_at);
  const auto leader = shape.cluster().stream_leader(ChaosShape::kStream, 10s);
  ASSERT_TRUE(leader.has_value());
  std::cout << "kill -9 of the stream leader n" << *leader << std::endl;
  shape.cluster().kill9(*leader);
  shape.sleep_until(restart_at);
  shape.cluster().restart(*leader);
  shape.finish_and_check();
  EXPECT_TRUE(shape.cluster().wait_stream_healthy(ChaosShape::kStream, 30s));
}

// 2. kill -9 the server an aggregator is connected to (restarted later).
TEST(Chaos, KillTheServerOfAnAggregator) {
  SKIP_WITHOUT_NATS();
  ChaosTimings timings;
  ChaosShape shape({}, timings);
  ASSERT_TRUE(shape.ok());
  const std::size_t victim = timings.coin(false) ? 1 : 0;
  const double kill_at = timings.pick(0.3, 0.1, 0.6);
  const double restart_at = kill_at + timings.pick(0.3, 0.05, 0.35);
  shape.publish();
  shape.sleep_until(kill_at);
  const auto server = shape.server_of_aggregator(victim);
  ASSERT_TRUE(server.has_value());
  std::cout << "kill -9 of server n" << *server << ", aggregator " << victim << "'s" << std::endl;
  shape.cluster().kill9(*server);
  shape.sleep_until(restart_at);
  shape.cluster().restart(*server);
  shape.finish_and_check();
  EXPECT_NE(shape.server_of_aggregator(victim), std::nullopt) << "the aggregator did not reconnect";
}

// 3. SIGSTOP an aggregator for 20 s (its clients' pings time out and they move), then SIGCONT.
TEST(Chaos, PauseAnAggregatorFor20Seconds) {
  SKIP_WITHOUT_NATS();
  ChaosTimings timings;
  ShapeOptions options;
  options.publish_for = 32s;
  ChaosShape shape(options, timings);
  ASSERT_TRUE(shape.ok());
  const auto pause = timings.pick(20s, 4s, 22s);
  const double pause_at = timings.pick(0.15, 0.05, 0.25);
  shape.publish();
  shape.sleep_until(pause_at);
  std::cout << "SIGSTOP of aggregator 0 for " << pause.count() << " ms" << std::endl;
  shape.pause_aggregator(0);
  std::this_thread::sleep_for(pause);
  shape.resume_aggregator(0);
  shape.finish_and_check();
  EXPECT_GE(shape.connections_ended("no pong"), 1u) << "no client noticed the paused aggregator";
}

// 4. kill -9 an aggregator; its clients reconnect to the other one (it is started again later).
TEST(Chaos, KillAnAggregator) {
  SKIP_WITHOUT_NATS();
  ChaosTimings timings;
  ChaosShape shape({}, timings);
  ASSERT_TRUE(shape.ok());
  const double kill_at = timings.pick(0.35, 0.1, 0.6);
  const double restart_at = kill_at + timings.pick(0.35, 0.05, 0.35);
  shape.publish();
  shape.sleep_until(kill_at);
  std::cout << "kill -9 of aggregator 0" << std::endl;
  shape.kill_aggregator(0);
  shape.sleep_until(restart_at);
  shape.restart_aggregator(0);
  shape.finish_and_check();
  EXPECT_GE(shape.connections_ended("eof") + shape.connections_ended("reset"), 1u)
      << "no client lost its connection to the killed aggregator";
}

// 5. kill -9 the recorder twice during the competition.
TEST(Chaos, KillTheRecorderTwice) {
  SKIP_WITHOUT_NATS();
  ChaosTimings timings;
  ChaosShape shape({}, timings);
  ASSERT_TRUE(shape.ok());
  const double first = timings.pick(0.25, 0.05, 0.4);
  const double second = timings.pick(0.6, 0.45, 0.8);
  shape.publish();
  for (const double at : {first, second}) {
    shape.sleep_until(at);
    std::cout << "kill -9 of the recorder" << std::endl;
    shape.kill_recorder();
    shape.sleep_until(at + timings.pick(0.1, 0.01, 0.15));
    shape.restart_recorder();
  }
  shape.finish_and_check();
}

// 6. A rolling restart of all three servers, one at a time (each back and current before the next).
TEST(Chaos, RollingRestartOfTheServers) {
  SKIP_WITHOUT_NATS();
  ChaosTimings timings;
  ShapeOptions options;
  options.publish_for = 20s;
  ChaosShape shape(options, timings);
  ASSERT_TRUE(shape.ok());
  shape.publish();
  shape.sleep_until(timings.pick(0.15, 0.05, 0.3));
  for (int node = 0; node < shape.cluster().size(); ++node) {
    std::cout << "restarting server n" << node << std::endl;
    shape.cluster().stop(node);
    std::this_thread::sleep_for(timings.pick(500ms, 0ms, 2000ms));
    shape.cluster().restart(node);
    EXPECT_TRUE(shape.cluster().wait_stream_healthy(ChaosShape::kStream, 60s))
        << "the stream did not recover after restarting n" << node;
  }
  shape.finish_and_check();
}

// 7. The stream deleted and created again under running aggregators; the publisher starts the competition
// over on the new stream.
TEST(Chaos, StreamRecreatedUnderRunningAggregators) {
  SKIP_WITHOUT_NATS();
  ChaosTimings timings;
  ChaosShape shape({}, timings);
  ASSERT_TRUE(shape.ok());
  const auto first_part =
      static_cast<std::size_t>(static_cast<double>(shape.events().size()) * timings.pick(0.4, 0.1, 0.8));
  shape.publish(first_part, "gen1");
  ASSERT_TRUE(shape.finish_publishing());
  // Everything of the first stream is in the recording before it goes (the recorder cannot read a deleted
  // stream's events).
  ASSERT_TRUE(shape.wait_recorded(first_part, 60s));
  std::cout << "deleting and creating the stream again" << std::endl;
  std::string error;
  ASSERT_TRUE(shape.cluster().delete_stream(ChaosShape::kStream, 30s, &error)) << error;
  ASSERT_TRUE(shape.cluster().create_stream(ChaosShape::kStream, {"competition.>"}, 3, 30s, &error)) << error;
  ASSERT_TRUE(shape.cluster().wait_stream_healthy(ChaosShape::kStream, 30s));
  shape.publish(SIZE_MAX, "gen2");
  shape.finish_and_check();
  EXPECT_GE(shape.resets_received(), 1u) << "no connected client was told to reset its view";
}

}  // namespace
}  // namespace ovalstream::chaos
