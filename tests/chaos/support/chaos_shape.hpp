#pragma once
// Chaos-test support: the production shape of docs/scaling.md on loopback, and the checks every scenario
// ends with (issue 18). The shape: a three-node JetStream cluster with the stream at 3 replicas, two
// aggregators connected to different servers (every server's URL given, theirs first), one `recorder serve`,
// a publisher replaying a simulated competition at speed (ChaosPublisher: it retries, each event is stored
// once), and websocket viewers on both aggregators that join and leave throughout (ChaosClient).
// The checks, against the truth (every event the stream acknowledged, per stream generation):
//   - every client ends with the true view (the reducer's view of every published event);
//   - every connection (segment) got exactly what the protocol promises from where it started: the
//     snapshot at its live position then the frames after it, or after a resume only what followed its
//     position; a prefix of that, so nothing repeated, out of order or missing within a segment;
//   - the recorder's files hold every event exactly once, in stream order.
// Timings: deterministic by default; with OVALSTREAM_CHAOS_SEED=<n> (scripts/soak) drawn from that seed,
// which every test prints.
// Thread safety: one test thread drives a ChaosShape.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "aggregator/support/aggregator_process.hpp"
#include "aggregator/support/publishing.hpp"
#include "chaos/support/chaos_client.hpp"
#include "chaos/support/chaos_publisher.hpp"
#include "recorder/support/recorder_process.hpp"
#include "support/nats_cluster.hpp"

namespace ovalstream::chaos {

using namespace std::chrono_literals;

// The scenario's timings: the given default, or with OVALSTREAM_CHAOS_SEED set, a value drawn uniformly
// from the given range.
class ChaosTimings {
 public:
  ChaosTimings();
  bool randomized() const { return randomized_; }
  std::uint64_t seed() const { return seed_; }
  double pick(double fixed, double low, double high);
  std::chrono::milliseconds pick(std::chrono::milliseconds fixed, std::chrono::milliseconds low,
                                 std::chrono::milliseconds high);
  bool coin(bool fixed);

 private:
  bool randomized_ = false;
  std::uint64_t seed_ = 0;
  std::mt19937_64 random_;
};

struct ShapeOptions {
  // The competition: `recorder simulate` with these flags (one competition, one activation).
  std::vector<std::string> simulate_flags = {"--distance", "1000", "--heats", "3"};
  // Its events are published evenly over this long.
  std::chrono::milliseconds publish_for = 14s;
  std::size_t clients_per_aggregator = 3;
  // Clients give a connection up after this long without a frame or pong.
  std::chrono::milliseconds dead_after = 3s;
};

class ChaosShape {
 public:
  static constexpr const char* kStream = "VANTAGE";

  // Starts the cluster, the stream, the recorder and both aggregators (on different servers); fails the
  // test (ADD_FAILURE) and leaves ok() false when something does not come up.
  ChaosShape(ShapeOptions options, ChaosTimings& timings);
  ~ChaosShape();
  ChaosShape(const ChaosShape&) = delete;
  ChaosShape& operator=(const ChaosShape&) = delete;

  bool ok() const { return ok_; }
  testing::NatsCluster& cluster() { return *cluster_; }
  const std::vector<core::Event>& events() const { return events_; }
  const std::string& competition_id() const { return competition_id_; }

  // Publishes events[0, count) (all by default) over `publish_for` (scaled to the count), and starts the
  // clients on the first call. A second call starts a new stream generation (scenario 7: the stream was
  // recreated), after the previous run ended.
  void publish(std::size_t count = SIZE_MAX, const std::string& id_prefix = "gen1");
  // Waits for the current publishing run to end; ADD_FAILURE when it did not or failed. Its events become
  // a generation of the truth.
  bool finish_publishing();
  // Sleeps until `fraction` of publish_for after the current run started.
  void sleep_until(double fraction);

  // The aggregators (0 and 1).
  aggregator::itest::AggregatorProcess* aggregator(std::size_t index) { return aggregators_.at(index).get(); }
  void kill_aggregator(std::size_t index);
  void restart_aggregator(std::size_t index);
  void pause_aggregator(std::size_t index);
  void resume_aggregator(std::size_t index);
  // The node the aggregator's NATS connection goes to.
  std::optional<int> server_of_aggregator(std::size_t index);
  void kill_recorder();
  void restart_recorder();
  // Waits until the recorder's files hold `count` events.
  bool wait_recorded(std::size_t count, std::chrono::milliseconds timeout);

  // Ends the run and checks everything (see above): waits for the publisher, stops the churn, waits for
  // every client to settle at the last position, then compares.
  void finish_and_check();
  // How many connections of all clients ended for a reason starting with `reason` ("no pong", "eof",
  // "reset", "closed 1001", "left", ...), so a scenario can show that its fault reached the clients.
  std::size_t connections_ended(const std::string& reason) const;
  // How many reset frames the clients received.
  std::size_t resets_received() const;

 private:
  bool start_recorder();
  bool start_aggregator(std::size_t index);
  std::vector<std::string> recorded_events() const;
  void check_segment(const ChaosClient& client, std::size_t index, const Segment& segment);

  ShapeOptions options_;
  ChaosTimings& timings_;
  bool ok_ = false;
  std::string directory_;
  std::string recordings_;
  std::vector<core::Event> events_;
  std::string competition_id_;
  std::unique_ptr<testing::NatsCluster> cluster_;
  std::unique_ptr<recorder::itest::RecorderProcess> recorder_;
  std::vector<std::unique_ptr<aggregator::itest::AggregatorProcess>> aggregators_;
  std::vector<std::string> aggregator_urls_;
  AggregatorDirectory directory_of_aggregators_{2};
  std::unique_ptr<ChaosPublisher> publisher_;
  std::chrono::steady_clock::time_point run_started_;
  std::chrono::milliseconds run_length_{0};
  bool publishing_ = false;
  std::vector<std::vector<Published>> generations_;
  std::vector<std::unique_ptr<ChaosClient>> clients_;
};

}  // namespace ovalstream::chaos
