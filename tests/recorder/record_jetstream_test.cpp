// `recorder record` from JetStream, the real executable against a real nats-server: the real recording's
// round trip, kill -9 during recording (every event exactly once), a write error (no acknowledgement until
// the disk works again), a clean stop (everything written is acknowledged).
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "aggregator/support/aggregator_process.hpp"
#include "aggregator/support/publishing.hpp"
#include "aggregator/support/ws_clients.hpp"
#include "ovalstream/core/record_codec.hpp"
#include "ovalstream/nats/durable_consumer.hpp"
#include "ovalstream/nats/jetstream.hpp"
#include "recorder/support/recorder_process.hpp"
#include "support/nats_server.hpp"
#include "support/recording.hpp"
#include "support/skips.hpp"

namespace ovalstream::recorder::itest {
namespace {

using aggregator::itest::Published;
using aggregator::itest::Publisher;
using aggregator::itest::TempDir;
using aggregator::itest::wait_until;
using ovalstream::testing::NatsServerProcess;

constexpr const char* kStream = "VANTAGE";

std::size_t line_count(const std::string& path) {
  return recorded_events(path).size();
}

class RecordJetStream : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_WITHOUT_NATS();
    nats_ = std::make_unique<NatsServerProcess>();
    publisher_ = std::make_unique<Publisher>(nats_->url());
    auto created = nats::create_stream(publisher_->connection(), kStream, {"competition.>"});
    ASSERT_TRUE(created.ok()) << created.error().message;
  }

  std::vector<std::string> record_args(const std::string& file, std::vector<std::string> more = {}) {
    std::vector<std::string> args = {"record",     "--file",   file,   "--nats-url",
                                     nats_->url(), "--stream", kStream};
    args.insert(args.end(), more.begin(), more.end());
    return args;
  }

  // The server's view of a durable (opened on its own connection, never fetched from).
  nats::DurableConsumerState durable_state(const std::string& durable, const std::string& filter) {
    nats::DurableConsumerOptions options;
    options.stream = kStream;
    options.durable = durable;
    options.filter_subject = filter;
    auto consumer = nats::DurableConsumer::open(publisher_->connection(), options);
    EXPECT_TRUE(consumer.ok()) << consumer.error().message;
    if (!consumer.ok()) return {};
    auto state = consumer.value()->state();
    EXPECT_TRUE(state.ok()) << state.error().message;
    return state.ok() ? state.value() : nats::DurableConsumerState{};
  }

  std::unique_ptr<NatsServerProcess> nats_;
  std::unique_ptr<Publisher> publisher_;
  TempDir dir_;
};

// Issue test: the real recording published on its subjects and recorded, event bytes equal line by line
// (ignoring "_time"). The activations recorder gets the activations; the competition recorder gets every
// event of the competition in stream order, its activations on competition.activations included (without
// them a replay of the file never activates the competition).
TEST_F(RecordJetStream, RoundTripOfTheRealRecording) {
  auto events = aggregator::itest::load_recording_events();
  SKIP_WITHOUT_RECORDING(events);
  const std::string competition_id = events->front().header.competition_id;
  std::vector<std::string> activations, competition;
  for (const auto& event : *events) {
    const Published published = publisher_->publish(event);
    if (published.subject == "competition.activations") activations.emplace_back(event.raw());
    competition.emplace_back(event.raw());
  }
  // Another competition's activation: not in the competition's file.
  publisher_->publish_raw("competition.activations",
                          R"({"typeName":"CompetitionActivatedEvent","competitionId":"someone-else"})");
  activations.emplace_back(R"({"typeName":"CompetitionActivatedEvent","competitionId":"someone-else"})");
  ASSERT_FALSE(activations.empty());

  const std::string competition_file = dir_.path() + "/competition.jsonl";
  const std::string activations_file = dir_.path() + "/activations.jsonl";
  RecorderProcess competition_recorder(record_args(competition_file, {"--competition", competition_id}));
  RecorderProcess activations_recorder(record_args(activations_file));
  ASSERT_TRUE(wait_until([&] { return line_count(competition_file) >= competition.size(); }, 60s))
      << line_count(competition_file) << " of " << competition.size();
  ASSERT_TRUE(wait_until([&] { return line_count(activations_file) >= activations.size(); }, 30s));

  // A clean stop acknowledges everything written: a restart finds the consumer exactly at the recording's
  // position (bound, not repositioned) and writes nothing more.
  competition_recorder.send_signal(SIGTERM);
  ASSERT_EQ(competition_recorder.wait_exit(20s), 0);
  activations_recorder.send_signal(SIGINT);
  ASSERT_EQ(activations_recorder.wait_exit(20s), 0);

  EXPECT_EQ(recorded_events(competition_file), competition);
  EXPECT_EQ(recorded_events(activations_file), activations);
  // Every line has a readable "_time" (checked by recorded_events) in the original's layout: "_time" first.
  std::ifstream in(competition_file);
  std::string first_line;
  std::getline(in, first_line);
  EXPECT_EQ(first_line.rfind("{\"_time\":\"", 0), 0u) << first_line;

  RecorderProcess restarted(record_args(competition_file, {"--competition", competition_id}));
  ASSERT_TRUE(restarted.wait_for_log("durable consumer bound", 20s)) << restarted.log_tail();
  std::this_thread::sleep_for(1500ms);  // a duplicate would be written within this (fetch timeout 1 s)
  EXPECT_EQ(line_count(competition_file), competition.size());
  restarted.send_signal(SIGTERM);
  EXPECT_EQ(restarted.wait_exit(20s), 0);
}

// Issue test: kill -9 during recording, restart; the file holds every event exactly once, in stream order.
// Issue test (drop-in): the real recording replayed into JetStream, recorded with --competition, that
// recording replayed into a fresh JetStream: a client of an aggregator on the second ends with the view of
// a client that saw every event of the original (the activations came along, so the competition shows).
TEST_F(RecordJetStream, ARecordingOfACompetitionReplaysToTheSameView) {
  const std::string real =
      ovalstream::testing::shared_data_dir() + "/" + ovalstream::testing::kRealRecordingName;
  auto events = aggregator::itest::load_recording_events();
  SKIP_WITHOUT_RECORDING(events);
  const std::string competition_id = events->front().header.competition_id;
  const RecorderRun first_replay =
      run_recorder({"replay", "--file", real, "--speed", "max", "--nats-url", nats_->url()}, 60s);
  ASSERT_EQ(first_replay.exit_code, 0) << first_replay.output;

  const std::string file = dir_.path() + "/competition.jsonl";
  RecorderProcess recorder(record_args(file, {"--competition", competition_id}));
  ASSERT_TRUE(wait_until([&] { return line_count(file) >= events->size(); }, 60s))
      << line_count(file) << " of " << events->size();
  recorder.send_signal(SIGTERM);
  ASSERT_EQ(recorder.wait_exit(20s), 0) << recorder.log_tail();

  NatsServerProcess fresh;
  Publisher fresh_publisher(fresh.url());
  ASSERT_TRUE(nats::create_stream(fresh_publisher.connection(), kStream, {"competition.>"}).ok());
  const RecorderRun second_replay =
      run_recorder({"replay", "--file", file, "--speed", "max", "--nats-url", fresh.url()}, 60s);
  ASSERT_EQ(second_replay.exit_code, 0) << second_replay.output;

  aggregator::itest::AggregatorProcess aggregator(fresh.url());
  std::vector<std::string> every_event;
  for (const auto& event : *events) every_event.emplace_back(event.raw());
  const core::CompetitionState truth = aggregator::itest::fold_frames(competition_id, every_event);
  const std::size_t snapshot_size = aggregator::itest::snapshot_bytes(truth).size();
  ASSERT_TRUE(wait_until(
      [&] { return aggregator::itest::http_get(aggregator.metrics_port(), "/readyz").status == 200; }, 30s));
  aggregator::itest::WsClient client(aggregator.websocket_url("/v1/competitions/" + competition_id));
  ASSERT_TRUE(client.connect());
  ASSERT_TRUE(client.wait_for_count(snapshot_size, 30s)) << client.message_count() << " of " << snapshot_size;
  EXPECT_EQ(client.message_count(), snapshot_size);
  EXPECT_TRUE(aggregator::itest::same_live_view(
      truth, aggregator::itest::fold_frames(competition_id, client.messages())));
}

TEST_F(RecordJetStream, Kill9DuringRecordingThenRestartHoldsEveryEventOnce) {
  const std::string file = dir_.path() + "/killed.jsonl";
  const std::vector<std::string> args =
      record_args(file, {"--competition", "k1", "--durable", "killed", "--batch", "4"});
  std::vector<std::string> expected;
  auto recorder = std::make_unique<RecorderProcess>(args);
  constexpr int kRounds = 4, kPerRound = 300;
  int mid_stream_kills = 0;  // kills with events published and not yet recorded
  for (int round = 0; round < kRounds; ++round) {
    for (int i = 0; i < kPerRound; ++i) {
      const int n = round * kPerRound + i;
      // Competition- and distance-level subjects, plus another competition the recorder must leave out.
      const std::string bytes =
          "{\"typeName\":\"TestEvent\",\"competitionId\":\"k1\",\"n\":" + std::to_string(n) + "}";
      publisher_->publish_raw(n % 3 == 0 ? "competition.k1" : "competition.k1.distances.d1", bytes);
      expected.push_back(bytes);
      if (n % 7 == 0) publisher_->publish_raw("competition.k2", "{\"other\":" + std::to_string(n) + "}");
    }
    if (round == kRounds - 1) break;
    // Kill while it is recording this round (some lines in, likely not all).
    wait_until([&] { return line_count(file) > static_cast<std::size_t>(round * kPerRound + 10); }, 20s, 5ms);
    recorder->kill9();
    if (line_count(file) < expected.size()) ++mid_stream_kills;
    recorder = std::make_unique<RecorderProcess>(args);
  }
  ASSERT_TRUE(wait_until([&] { return line_count(file) >= expected.size(); }, 60s))
      << line_count(file) << " of " << expected.size();
  std::this_thread::sleep_for(1500ms);  // late duplicates would show within a fetch timeout
  recorder->send_signal(SIGTERM);
  ASSERT_EQ(recorder->wait_exit(20s), 0);
  EXPECT_EQ(recorded_events(file), expected);
  // The kills must hit a recorder with work left, or the test shows nothing: small fetches (--batch 4) keep
  // it busy for a few hundred ms per round, so at least one of three kills lands mid-backlog even on an idle
  // machine (a loaded one only makes the recorder slower).
  EXPECT_GE(mid_stream_kills, 1);
}

// A delivery lost on the way while the recorder runs (in a cluster: a reconnect to another server, a consumer
// leader that failed over; found by the chaos tests of issue 18) must not cost the recording its event. The
// loss is made exact here: while the recorder is paused (its pull request expired), another subscriber of
// the same durable takes the next delivery and never acknowledges it; with --ack-wait 1h the server would
// redeliver it only after an hour, after newer ones the recorder writes first and then skips it as older
// than its position. The jump in consumer sequences makes the recorder reposition and write it in order.
TEST_F(RecordJetStream, ADeliveryLostOnTheWayIsRecordedInOrder) {
  const std::string file = dir_.path() + "/lost.jsonl";
  RecorderProcess recorder(
      record_args(file, {"--competition", "l1", "--durable", "lost", "--ack-wait", "1h"}));
  std::vector<std::string> expected;
  const auto publish = [&](int n) {
    expected.push_back("{\"typeName\":\"TestEvent\",\"competitionId\":\"l1\",\"n\":" + std::to_string(n) +
                       "}");
    publisher_->publish_raw("competition.l1", expected.back());
  };
  for (int n = 0; n < 3; ++n) publish(n);
  ASSERT_TRUE(wait_until([&] { return line_count(file) == 3; }, 20s)) << recorder.log_tail();

  recorder.send_signal(SIGSTOP);
  std::this_thread::sleep_for(2500ms);  // its outstanding pull request (1 s) expires
  nats::DurableConsumerOptions options;
  options.stream = kStream;
  options.durable = "lost";
  options.filter_subject = "competition.>";
  auto thief = nats::DurableConsumer::open(publisher_->connection(), options);
  ASSERT_TRUE(thief.ok()) << thief.error().message;
  publish(3);
  auto stolen = thief.value()->fetch(1, 5s);
  recorder.send_signal(SIGCONT);
  ASSERT_TRUE(stolen.ok()) << stolen.error().message;
  ASSERT_EQ(stolen->size(), 1u) << "the other subscriber did not get the delivery";
  for (int n = 4; n < 8; ++n) publish(n);

  ASSERT_TRUE(wait_until([&] { return line_count(file) >= expected.size(); }, 20s))
      << line_count(file) << " of " << expected.size() << "; log:\n"
      << recorder.log_tail();
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(recorded_events(file), expected);
  EXPECT_FALSE(recorder.log_lines_with("a delivery was lost on the way").empty()) << recorder.log_tail();
  recorder.send_signal(SIGTERM);
  EXPECT_EQ(recorder.wait_exit(20s), 0);
}

// The stream deleted and created again under a running recorder (chaos scenario 7 of issue 18): the new
// stream's sequences start at 1 again. The recorder recreates its durable consumer, restarts its position,
// and records the new stream's events after the old ones, each once. Before, it stayed on the deleted
// durable forever ("cannot read the durable consumer's state"), and would have skipped the new stream's
// events up to its old position.
TEST_F(RecordJetStream, AStreamCreatedAgainIsRecordedFromItsFirstEvent) {
  const std::string file = dir_.path() + "/recreated.jsonl";
  RecorderProcess recorder(record_args(file, {"--competition", "r1", "--durable", "recreated"}));
  std::vector<std::string> expected;
  const auto publish = [&](int n) {
    expected.push_back("{\"typeName\":\"TestEvent\",\"competitionId\":\"r1\",\"n\":" + std::to_string(n) +
                       "}");
    publisher_->publish_raw("competition.r1", expected.back());
  };
  for (int n = 0; n < 4; ++n) publish(n);
  ASSERT_TRUE(wait_until([&] { return line_count(file) == 4; }, 20s)) << recorder.log_tail();

  jsErrCode js_error = static_cast<jsErrCode>(0);
  ASSERT_EQ(js_DeleteStream(publisher_->connection().jetstream(), kStream, nullptr, &js_error), NATS_OK);
  auto created = nats::create_stream(publisher_->connection(), kStream, {"competition.>"});
  ASSERT_TRUE(created.ok()) << created.error().message;
  for (int n = 4; n < 10; ++n) publish(n);  // sequences 1..6 of the new stream

  ASSERT_TRUE(wait_until([&] { return line_count(file) >= expected.size(); }, 30s))
      << line_count(file) << " of " << expected.size() << "; log:\n"
      << recorder.log_tail();
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(recorded_events(file), expected);
  EXPECT_FALSE(recorder.log_lines_with("the stream was created again").empty()) << recorder.log_tail();
  recorder.send_signal(SIGTERM);
  EXPECT_EQ(recorder.wait_exit(20s), 0);
}

// The same with no fetch waiting at the server when the stream goes (the recorder is stopped with SIGSTOP
// until its fetch has expired): nats.c then answers every later fetch with an empty result, as if nothing
// were published, and only the recorder's lookup of its consumer notices. Without it the recorder waits
// forever (found as a rare failure of the test above under the sanitizers).
TEST_F(RecordJetStream, AStreamCreatedAgainWhileNoFetchWaitedIsNoticed) {
  const std::string file = dir_.path() + "/recreated-idle.jsonl";
  RecorderProcess recorder(record_args(file, {"--competition", "r2", "--durable", "recreated-idle"}));
  std::vector<std::string> expected;
  const auto publish = [&](int n) {
    expected.push_back("{\"typeName\":\"TestEvent\",\"competitionId\":\"r2\",\"n\":" + std::to_string(n) +
                       "}");
    publisher_->publish_raw("competition.r2", expected.back());
  };
  for (int n = 0; n < 2; ++n) publish(n);
  ASSERT_TRUE(wait_until([&] { return line_count(file) == 2; }, 20s)) << recorder.log_tail();

  recorder.send_signal(SIGSTOP);
  std::this_thread::sleep_for(2500ms);  // its waiting fetch (1 s) expires at the server
  jsErrCode js_error = static_cast<jsErrCode>(0);
  ASSERT_EQ(js_DeleteStream(publisher_->connection().jetstream(), kStream, nullptr, &js_error), NATS_OK);
  auto created = nats::create_stream(publisher_->connection(), kStream, {"competition.>"});
  ASSERT_TRUE(created.ok()) << created.error().message;
  for (int n = 2; n < 5; ++n) publish(n);
  recorder.send_signal(SIGCONT);

  ASSERT_TRUE(wait_until([&] { return line_count(file) >= expected.size(); }, 20s))
      << line_count(file) << " of " << expected.size() << "; log:\n"
      << recorder.log_tail();
  EXPECT_EQ(recorded_events(file), expected);
  EXPECT_FALSE(recorder.log_lines_with("the stream was created again").empty()) << recorder.log_tail();
  recorder.send_signal(SIGTERM);
  EXPECT_EQ(recorder.wait_exit(20s), 0);
}

// Issue test: a write error (the recording is /dev/full: ENOSPC) is logged, nothing is acknowledged, and
// once writing works the same events are written, once.
TEST_F(RecordJetStream, WriteErrorIsLoggedAndNothingIsAcknowledgedUntilItWorks) {
  if (!std::filesystem::exists("/dev/full")) GTEST_SKIP() << "/dev/full is missing";
  const std::string file = dir_.path() + "/full.jsonl";
  std::filesystem::create_symlink("/dev/full", file);
  RecorderProcess recorder(record_args(file, {"--durable", "full"}));
  std::vector<std::string> expected;
  for (int i = 0; i < 5; ++i) {
    expected.push_back("{\"typeName\":\"CompetitionActivatedEvent\",\"competitionId\":\"f" +
                       std::to_string(i) + "\"}");
    publisher_->publish_raw("competition.activations", expected.back());
  }
  ASSERT_TRUE(recorder.wait_for_log("cannot write the recording", 20s)) << recorder.log_tail();
  EXPECT_NE(recorder.log().find("No space left on device"), std::string::npos);
  std::this_thread::sleep_for(1s);
  const nats::DurableConsumerState blocked = durable_state("full", "competition.activations");
  EXPECT_EQ(blocked.ack_floor_stream_sequence, 0u);
  EXPECT_GE(blocked.ack_pending, 1);

  std::filesystem::remove(file);  // the disk "works again": the next retry creates a regular file
  ASSERT_TRUE(wait_until([&] { return line_count(file) >= expected.size(); }, 30s)) << recorder.log_tail();
  recorder.send_signal(SIGTERM);
  ASSERT_EQ(recorder.wait_exit(20s), 0);
  EXPECT_EQ(recorded_events(file), expected);
  const nats::DurableConsumerState done = durable_state("full", "competition.activations");
  EXPECT_EQ(done.ack_floor_stream_sequence, 5u);
  EXPECT_EQ(done.ack_pending, 0);
}

TEST_F(RecordJetStream, ANonEmptyFileWithoutPositionIsRefused) {
  const std::string file = dir_.path() + "/foreign.jsonl";
  {
    std::ofstream out(file);
    out << "{\"_time\":\"2020-01-12T14:45:54+01:00\",\"a\":1}\n";
  }
  const RecorderRun run = run_recorder(record_args(file), 20s);
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("without a position file"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace ovalstream::recorder::itest
