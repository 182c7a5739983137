// Resume across replicas (docs/protocol.md, "Positions and resume"): two aggregator processes read one
// nats-server's stream; a client with positions on one replica drops, events go on, and it resumes on the
// other replica with the position and epoch the first gave it. It gets exactly the frames it missed (the
// frames a client that never dropped got after its position), then the live frame, and its view is the
// truth. A resume with another epoch gets the reset and the snapshot.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aggregator/support/aggregator_process.hpp"
#include "aggregator/support/control_frames.hpp"
#include "aggregator/support/publishing.hpp"
#include "aggregator/support/ws_clients.hpp"
#include "ovalstream/core/control_frame.hpp"
#include "ovalstream/nats/jetstream.hpp"
#include "support/nats_server.hpp"
#include "support/recording.hpp"
#include "support/skips.hpp"

namespace ovalstream::aggregator::itest {
namespace {

using ovalstream::testing::NatsServerProcess;

bool at_position(WsClient& client, core::Position position, std::chrono::milliseconds timeout) {
  return client.wait_for(
      [&](const std::vector<std::string>& messages) {
        const auto latest = latest_position(messages);
        return latest && latest->position == position;
      },
      timeout);
}

TEST(ResumeAcrossReplicas, AClientResumesOnTheOtherReplicaWithOnlyWhatItMissed) {
  auto events = load_recording_events();
  SKIP_WITHOUT_NATS_AND_RECORDING(events);
  NatsServerProcess nats;
  Publisher publisher(nats.url());
  ASSERT_TRUE(nats::create_stream(publisher.connection(), "VANTAGE", {"competition.>"}).ok());
  AggregatorProcess first(nats.url());
  AggregatorProcess second(nats.url());
  const std::string competition_id = events->front().header.competition_id;
  const std::string path = "/v1/competitions/" + competition_id;

  // The cuts: where the client drops and where it comes back, in the middle of the team pursuit.
  const std::size_t dropped_at = events->size() / 3;
  const std::size_t back_at = events->size() / 2;
  std::vector<Published> published;
  for (std::size_t i = 0; i < dropped_at; ++i) published.push_back(publisher.publish((*events)[i]));

  WsClient before(first.websocket_url(path + "?positions=1"));
  ASSERT_TRUE(before.connect());
  ASSERT_TRUE(at_position(before, published.back().sequence, 20s)) << first.log_tail();
  const std::vector<std::string> received = before.messages();
  const auto live_frame = std::find_if(received.begin(), received.end(), [](const std::string& message) {
    auto control = core::parse_control_frame(message);
    return control && control->kind == core::ControlFrame::Kind::kLive;
  });
  ASSERT_NE(live_frame, received.end());
  const auto live = core::parse_control_frame(*live_frame);
  ASSERT_TRUE(live);
  const std::string epoch = live->epoch;
  const core::Position position = published.back().sequence;
  ASSERT_TRUE(before.close());

  for (std::size_t i = dropped_at; i < back_at; ++i) published.push_back(publisher.publish((*events)[i]));
  // The other replica has read them (its plain GET would show it; the resume would also wait for it).
  WsClient after(second.websocket_url(path + "?since=" + std::to_string(position) + "&epoch=" + epoch));
  ASSERT_TRUE(after.connect());
  ASSERT_TRUE(at_position(after, published.back().sequence, 20s)) << second.log_tail();

  const auto got = after.messages();
  ASSERT_FALSE(got.empty());
  EXPECT_FALSE(core::parse_control_frame(got.front()) &&
               core::parse_control_frame(got.front())->kind == core::ControlFrame::Kind::kReset)
      << "the other replica did not resume";
  // Exactly the frames a client that never dropped received after the drop.
  const std::vector<std::string> until_drop = frames_of_a_client_from_the_start(
      competition_id, std::vector<Published>(published.begin(), published.begin() + dropped_at));
  const std::vector<std::string> until_back = frames_of_a_client_from_the_start(competition_id, published);
  ASSERT_GE(until_back.size(), until_drop.size());
  EXPECT_TRUE(same_frames(std::vector<std::string>(until_back.begin() + until_drop.size(), until_back.end()),
                          events_only(got)));
  std::vector<std::string> joined = events_only(before.messages());
  const std::vector<std::string> rest = events_only(got);
  joined.insert(joined.end(), rest.begin(), rest.end());
  EXPECT_TRUE(same_live_view(state_after(competition_id, published, published.size()),
                             fold_frames(competition_id, joined)));
  EXPECT_EQ(second.metric(R"(ovalstream_resumes_total{outcome="exact"})"), 1.0);

  // Another epoch (a recreated stream): the reset, then the snapshot and live.
  WsClient stranger(second.websocket_url(path + "?since=" + std::to_string(position) + "&epoch=other"));
  ASSERT_TRUE(stranger.connect());
  ASSERT_TRUE(at_position(stranger, published.back().sequence, 20s));
  const auto reset = core::parse_control_frame(stranger.messages().front());
  ASSERT_TRUE(reset);
  EXPECT_EQ(reset->kind, core::ControlFrame::Kind::kReset);
  EXPECT_TRUE(same_frames(snapshot_bytes(state_after(competition_id, published, published.size())),
                          events_only(stranger.messages())));
}

}  // namespace
}  // namespace ovalstream::aggregator::itest
