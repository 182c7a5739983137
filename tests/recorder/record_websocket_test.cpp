// `recorder record --from-url` against the real aggregator: the competition's snapshot at connect, then
// every live event, each frame one line.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "aggregator/support/aggregator_process.hpp"
#include "aggregator/support/publishing.hpp"
#include "aggregator/support/ws_clients.hpp"
#include "ovalstream/core/record_codec.hpp"
#include "ovalstream/nats/jetstream.hpp"
#include "recorder/support/recorder_process.hpp"
#include "support/nats_server.hpp"
#include "support/recording.hpp"
#include "support/skips.hpp"

namespace ovalstream::recorder::itest {
namespace {

using namespace aggregator::itest;
using ovalstream::testing::NatsServerProcess;

TEST(RecordFromUrl, RecordsTheSnapshotThenTheLiveEvents) {
  auto events = load_recording_events();
  SKIP_WITHOUT_NATS_AND_RECORDING(events);
  NatsServerProcess nats;
  Publisher publisher(nats.url());
  ASSERT_TRUE(nats::create_stream(publisher.connection(), "VANTAGE", {"competition.>"}).ok());
  AggregatorProcess aggregator(nats.url());
  const std::string competition_id = events->front().header.competition_id;
  const std::string path = "/v1/competitions/" + competition_id;

  // A from-start client tells when the aggregator has applied what was published (the cut).
  WsClient from_start(aggregator.websocket_url(path));
  ASSERT_TRUE(from_start.connect());
  std::vector<Published> published;
  const std::size_t cut = std::min<std::size_t>(200, events->size() / 2);
  published.push_back(publisher.publish((*events)[0]));
  ASSERT_TRUE(from_start.wait_for_count(1, 20s));
  for (std::size_t i = 1; i < cut; ++i) published.push_back(publisher.publish((*events)[i]));
  ASSERT_TRUE(from_start.wait_for_count(cut, 20s));

  TempDir dir;
  const std::string file = dir.path() + "/from-url.jsonl";
  RecorderProcess recorder({"record", "--file", file, "--from-url", aggregator.websocket_url(path)});
  const std::vector<std::string> snapshot = snapshot_bytes(state_after(competition_id, published, cut));
  ASSERT_TRUE(wait_until([&] { return recorded_events(file).size() >= snapshot.size(); }, 20s))
      << recorder.log_tail();
  for (std::size_t i = cut; i < 300 && i < events->size(); ++i)
    published.push_back(publisher.publish((*events)[i]));
  const Published sentinel = publisher.publish_json(sentinel_json(competition_id, "end-distance", "end"));
  published.push_back(sentinel);
  const std::string end(sentinel.event.raw());
  ASSERT_TRUE(wait_until(
      [&] {
        const auto lines = recorded_events(file);
        return !lines.empty() && lines.back() == end;
      },
      30s))
      << recorder.log_tail();
  recorder.send_signal(SIGTERM);
  ASSERT_EQ(recorder.wait_exit(20s), 0) << recorder.log_tail();

  std::vector<std::string> expected = snapshot;
  const std::vector<std::string> after = bytes_of(published, cut, published.size());
  expected.insert(expected.end(), after.begin(), after.end());
  EXPECT_TRUE(same_frames(expected, recorded_events(file)));
}

// The aggregator killed (kill -9) while the recorder records, events published while it is down, another
// aggregator started on the same port: the recorder resumes after its last position (same stream, same
// epoch), so the file holds the snapshot once and every later event once. Without resume it would hold the
// snapshot twice.
TEST(RecordFromUrl, ResumesOnAnotherAggregatorWithoutRecordingTheSnapshotAgain) {
  auto events = load_recording_events();
  SKIP_WITHOUT_NATS_AND_RECORDING(events);
  ASSERT_GE(events->size(), 320u);
  NatsServerProcess nats;
  Publisher publisher(nats.url());
  ASSERT_TRUE(nats::create_stream(publisher.connection(), "VANTAGE", {"competition.>"}).ok());
  auto first = std::make_unique<AggregatorProcess>(nats.url());
  const std::uint16_t port = first->hub_port();
  const std::string competition_id = events->front().header.competition_id;
  const std::string path = "/v1/competitions/" + competition_id;

  WsClient from_start(first->websocket_url(path));
  ASSERT_TRUE(from_start.connect());
  std::vector<Published> published;
  const std::size_t cut = 200;
  published.push_back(publisher.publish((*events)[0]));
  ASSERT_TRUE(from_start.wait_for_count(1, 20s));
  for (std::size_t i = 1; i < cut; ++i) published.push_back(publisher.publish((*events)[i]));
  ASSERT_TRUE(from_start.wait_for_count(cut, 20s));

  TempDir dir;
  const std::string file = dir.path() + "/from-url.jsonl";
  RecorderProcess recorder({"record", "--file", file, "--from-url", first->websocket_url(path)});
  const std::vector<std::string> snapshot = snapshot_bytes(state_after(competition_id, published, cut));
  ASSERT_TRUE(wait_until([&] { return recorded_events(file).size() >= snapshot.size(); }, 20s))
      << recorder.log_tail();
  // Live events recorded (each batch ends with a position frame), then the aggregator dies.
  for (std::size_t i = cut; i < cut + 20; ++i) published.push_back(publisher.publish((*events)[i]));
  ASSERT_TRUE(wait_until([&] { return recorded_events(file).size() >= snapshot.size() + 20; }, 20s))
      << recorder.log_tail();
  first->kill9();
  ASSERT_TRUE(recorder.wait_for_log("disconnected; reconnecting to resume", 20s)) << recorder.log_tail();
  for (std::size_t i = cut + 20; i < cut + 120; ++i) published.push_back(publisher.publish((*events)[i]));

  AggregatorProcess second(nats.url(), {"--hub-address", "127.0.0.1:" + std::to_string(port)});
  ASSERT_TRUE(recorder.wait_for_log("resumed: recorded only what was missed", 30s)) << recorder.log_tail();
  for (std::size_t i = cut + 120; i < 320; ++i) published.push_back(publisher.publish((*events)[i]));
  const Published sentinel = publisher.publish_json(sentinel_json(competition_id, "end-distance", "end"));
  published.push_back(sentinel);
  const std::string end(sentinel.event.raw());
  ASSERT_TRUE(wait_until(
      [&] {
        const auto lines = recorded_events(file);
        return !lines.empty() && lines.back() == end;
      },
      30s))
      << recorder.log_tail();
  recorder.send_signal(SIGTERM);
  ASSERT_EQ(recorder.wait_exit(20s), 0) << recorder.log_tail();
  EXPECT_TRUE(recorder.log_lines_with("recording its snapshot again").empty()) << recorder.log_tail();

  std::vector<std::string> expected = snapshot;
  const std::vector<std::string> after = bytes_of(published, cut, published.size());
  expected.insert(expected.end(), after.begin(), after.end());
  EXPECT_TRUE(same_frames(expected, recorded_events(file)));
}

TEST(RecordFromUrl, KeepsRetryingWhileTheAggregatorIsDownAndStopsOnSigterm) {
  TempDir dir;
  // A loopback port nothing listens on (the kernel refuses the connection at once).
  RecorderProcess recorder(
      {"record", "--file", dir.path() + "/x.jsonl", "--from-url", "ws://127.0.0.1:1/v1/competitions"});
  ASSERT_TRUE(recorder.wait_for_log("not connected; retrying", 20s)) << recorder.log_tail();
  recorder.send_signal(SIGTERM);
  EXPECT_EQ(recorder.wait_exit(20s), 0) << recorder.log_tail();
}

}  // namespace
}  // namespace ovalstream::recorder::itest
