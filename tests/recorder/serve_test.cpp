// `recorder serve`, the real executable against a real nats-server: continuous recording into
// DIR/YYYY-MM-DD/<competitionId>.jsonl across a kill -9, the HTTP API over real sockets (listing, download,
// replays under a prefix, stopping a replay, refusals), metrics and readiness, and a clean SIGTERM.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "aggregator/support/aggregator_process.hpp"
#include "aggregator/support/publishing.hpp"
#include "ovalstream/core/record_codec.hpp"
#include "ovalstream/nats/jetstream.hpp"
#include "recorder/support/recorder_process.hpp"
#include "support/child_process.hpp"
#include "support/nats_server.hpp"
#include "support/recording.hpp"
#include "support/skips.hpp"

namespace ovalstream::recorder::itest {
namespace {

using aggregator::itest::http_get;
using aggregator::itest::http_request;
using aggregator::itest::http_request_with;
using aggregator::itest::metric_value;
using aggregator::itest::Publisher;
using aggregator::itest::TempDir;
using aggregator::itest::wait_until;
using ovalstream::testing::NatsServerProcess;

constexpr const char* kStream = "VANTAGE";
// State-changing requests need it (serve_access.hpp); http_request() sends it only with a body.
constexpr const char* kJsonContent = "Content-Type: application/json\r\n";

class ServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_WITHOUT_NATS();
    events_ = aggregator::itest::load_recording_events();
    SKIP_WITHOUT_RECORDING(events_);
    nats_ = std::make_unique<NatsServerProcess>();
    publisher_ = std::make_unique<Publisher>(nats_->url());
  }

  std::unique_ptr<RecorderProcess> start_serve(std::vector<std::string> more = {}) {
    std::vector<std::string> args = {
        "serve",     "--nats-url", nats_->url(),  "--create-stream",   "--dir",
        dir_.path(), "--address",  "127.0.0.1:0", "--metrics-address", "127.0.0.1:0"};
    args.insert(args.end(), more.begin(), more.end());
    auto process = std::make_unique<RecorderProcess>(args);
    EXPECT_TRUE(process->wait_for_log("recording every competition", 30s)) << process->log_tail();
    api_port_ = ovalstream::testing::logged_port(process->log(), "serving the recordings API");
    metrics_port_ = ovalstream::testing::logged_port(process->log(), "serving metrics and health");
    EXPECT_NE(api_port_, 0) << process->log_tail();
    EXPECT_NE(metrics_port_, 0) << process->log_tail();
    return process;
  }

  // The single recording file of the competition (dated by the day it was recorded).
  std::string recording_file() const {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_.path())) {
      if (entry.path().extension() == ".jsonl") return entry.path().string();
    }
    return "";
  }

  std::optional<std::vector<core::Event>> events_;
  std::unique_ptr<NatsServerProcess> nats_;
  std::unique_ptr<Publisher> publisher_;
  TempDir dir_;
  std::uint16_t api_port_ = 0;
  std::uint16_t metrics_port_ = 0;
};

// Issue test: serve records every competition continuously, and a kill -9 in the middle loses nothing and
// duplicates nothing.
TEST_F(ServeTest, RecordsEveryCompetitionAcrossAKill9) {
  auto serve = start_serve();
  const std::size_t half = events_->size() / 2;
  std::vector<std::string> published;
  for (std::size_t i = 0; i < half; ++i)
    published.emplace_back(publisher_->publish((*events_)[i]).event.raw());
  ASSERT_TRUE(wait_until([&] { return recorded_events(recording_file()).size() >= half / 2; }, 30s));
  serve->kill9();
  for (std::size_t i = half; i < events_->size(); ++i) {
    published.emplace_back(publisher_->publish((*events_)[i]).event.raw());
  }
  serve = start_serve();
  ASSERT_TRUE(wait_until([&] { return recorded_events(recording_file()).size() >= published.size(); }, 60s))
      << recorded_events(recording_file()).size() << " of " << published.size();
  std::this_thread::sleep_for(1500ms);  // a duplicate would arrive within a fetch timeout
  const std::string file = recording_file();
  EXPECT_EQ(recorded_events(file), published);
  const std::string competition_id = events_->front().header.competition_id;
  EXPECT_EQ(std::filesystem::path(file).filename().string(), competition_id + ".jsonl");
  EXPECT_EQ(std::filesystem::path(file).parent_path().filename().string().size(), 10u) << "YYYY-MM-DD";

  const std::string scrape = http_get(metrics_port_, "/metrics").body;
  EXPECT_GT(metric_value(scrape, "ovalstream_recorder_events_recorded_total").value_or(0), 0);
  EXPECT_EQ(metric_value(scrape, "ovalstream_nats_connected"), 1);
  EXPECT_EQ(http_get(metrics_port_, "/readyz").status, 200);
  EXPECT_EQ(http_get(metrics_port_, "/healthz").status, 200);

  serve->send_signal(SIGTERM);
  EXPECT_EQ(serve->wait_exit(20s), 0);
}

// Issue test: the HTTP API over real sockets.
TEST_F(ServeTest, ServesRecordingsAndReplaysThemUnderAPrefix) {
  auto serve = start_serve();
  for (const auto& event : *events_) publisher_->publish(event);
  ASSERT_TRUE(wait_until([&] { return recorded_events(recording_file()).size() >= events_->size(); }, 60s));
  const std::string name =
      std::filesystem::path(recording_file()).lexically_relative(dir_.path()).generic_string();

  auto reply = http_get(api_port_, "/v1/recordings");
  ASSERT_EQ(reply.status, 200) << reply.body;
  rapidjson::Document json;
  json.Parse(reply.body.c_str());
  ASSERT_TRUE(json.IsArray() && json.Size() == 1) << reply.body;
  EXPECT_EQ(json[0]["name"].GetString(), name);
  EXPECT_EQ(json[0]["events"].GetUint64(), events_->size());

  reply = http_get(api_port_, "/v1/recordings/" + name);
  ASSERT_EQ(reply.status, 200);
  std::ifstream in(recording_file(), std::ios::binary);
  EXPECT_EQ(reply.body, std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
  EXPECT_EQ(http_get(api_port_, "/v1/recordings/../../etc/passwd").status, 400);
  EXPECT_EQ(http_get(api_port_, "/v1/recordings/nope.jsonl").status, 404);

  // A replay under a prefix lands in the replay stream, every event once; the live stream is untouched.
  reply = http_request(api_port_, "POST", "/v1/replays",
                       "{\"recording\":\"" + name + "\",\"speed\":\"max\",\"subjectPrefix\":\"replay.t1\"}");
  ASSERT_EQ(reply.status, 201) << reply.body;
  ASSERT_TRUE(wait_until(
      [&] { return http_get(api_port_, "/v1/replays").body.find("\"finished\"") != std::string::npos; }, 30s))
      << http_get(api_port_, "/v1/replays").body;
  auto replays = nats::stream_info(publisher_->connection(), "VANTAGE_REPLAYS");
  ASSERT_TRUE(replays.ok());
  EXPECT_EQ(replays->messages, events_->size());
  auto live = nats::stream_info(publisher_->connection(), kStream);
  ASSERT_TRUE(live.ok());
  EXPECT_EQ(live->messages, events_->size());

  // A slow replay (the slowest speed allowed) stops on DELETE.
  reply = http_request(api_port_, "POST", "/v1/replays", "{\"recording\":\"" + name + "\",\"speed\":0.01}");
  ASSERT_EQ(reply.status, 201) << reply.body;
  json.Parse(reply.body.c_str());
  const std::string id = json["id"].GetString();
  EXPECT_EQ(json["subjectPrefix"].GetString(), "replay." + id);
  reply = http_request_with(api_port_, "DELETE", "/v1/replays/" + id, kJsonContent);
  EXPECT_EQ(reply.status, 200);
  EXPECT_NE(reply.body.find("\"cancelled\""), std::string::npos) << reply.body;
  EXPECT_TRUE(wait_until(
      [&] {
        return metric_value(http_get(metrics_port_, "/metrics").body,
                            "ovalstream_recorder_replays_total{outcome=\"cancelled\"}") == 1;
      },
      10s));

  // Refusals.
  EXPECT_EQ(http_request(api_port_, "POST", "/v1/replays",
                         "{\"recording\":\"" + name + "\",\"subjectPrefix\":\"\"}")
                .status,
            403)
      << "live subjects need --allow-live-replay";
  EXPECT_EQ(http_request(api_port_, "POST", "/v1/replays",
                         "{\"recording\":\"" + name + "\",\"subjectPrefix\":\"x.y\"}")
                .status,
            400)
      << "the replay stream does not capture x.y";
  EXPECT_EQ(http_request(api_port_, "POST", "/v1/replays", "{\"recording\":").status, 400);
  EXPECT_EQ(http_request(api_port_, "POST", "/v1/replays", "{\"recording\":\"missing.jsonl\"}").status, 404);
  EXPECT_EQ(http_request_with(api_port_, "DELETE", "/v1/replays/r999", kJsonContent).status, 404);

  serve->send_signal(SIGTERM);
  EXPECT_EQ(serve->wait_exit(20s), 0);

  // After a restart a new replay gets a new id, so its default prefix never mixes into an old replay's
  // subjects in the replay stream.
  std::this_thread::sleep_for(1100ms);  // ids carry the start second
  serve = start_serve();
  for (int i = 0; i < 2; ++i) {  // the second one is numbered like `id` was
    reply = http_request(api_port_, "POST", "/v1/replays", "{\"recording\":\"" + name + "\",\"speed\":0.01}");
    ASSERT_EQ(reply.status, 201) << reply.body;
    json.Parse(reply.body.c_str());
    EXPECT_NE(json["id"].GetString(), id);
  }
  serve->send_signal(SIGTERM);
  EXPECT_EQ(serve->wait_exit(20s), 0);
}

TEST_F(ServeTest, BadFlagsExit2WithAMessage) {
  for (const std::vector<std::string>& args : {std::vector<std::string>{"serve", "--max-replays", "0"},
                                               {"serve", "--durable", "a.b"},
                                               {"serve", "--replay-stream", "VANTAGE"},
                                               {"serve", "extra"},
                                               {"serve", "--address", "nonsense"}}) {
    const RecorderRun run = run_recorder(args, 20s);
    EXPECT_EQ(run.exit_code, 2) << args.back() << ": " << run.output;
    EXPECT_NE(run.output.find("recorder serve"), std::string::npos) << run.output;
  }
}

}  // namespace
}  // namespace ovalstream::recorder::itest
