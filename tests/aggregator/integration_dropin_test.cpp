// Drop-in for the original server (issue 13, docs/migrating.md): a client written for the original,
// against a real nats-server and aggregator. It asks for the competition by its GUID in upper case (the
// original matched ids with strings.EqualFold) and sends a JSON heartbeat every 100 ms (browsers cannot send
// websocket pings); it must get the snapshot, then every live event, and never be closed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <thread>
#include <vector>

#include "aggregator/support/aggregator_process.hpp"
#include "aggregator/support/publishing.hpp"
#include "aggregator/support/ws_clients.hpp"
#include "ovalstream/nats/jetstream.hpp"
#include "support/nats_server.hpp"
#include "support/recording.hpp"
#include "support/skips.hpp"

namespace ovalstream::aggregator::itest {
namespace {

using ovalstream::testing::NatsServerProcess;

TEST(DropIn, AClientLikeTheOriginalsKeepsItsConnection) {
  auto events = load_recording_events();
  SKIP_WITHOUT_NATS_AND_RECORDING(events);
  NatsServerProcess nats;
  Publisher publisher(nats.url());
  ASSERT_TRUE(nats::create_stream(publisher.connection(), "VANTAGE", {"competition.>"}).ok());
  AggregatorProcess aggregator(nats.url());
  const std::string competition_id = events->front().header.competition_id;
  std::string shouting = competition_id;
  std::transform(shouting.begin(), shouting.end(), shouting.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  ASSERT_NE(shouting, competition_id) << "the recording's id has letters";

  const std::size_t cut = events->size() / 2;
  std::vector<Published> published;
  for (std::size_t i = 0; i < cut; ++i) published.push_back(publisher.publish((*events)[i]));
  const core::CompetitionState at_cut = state_after(competition_id, published, cut);
  const std::vector<std::string> snapshot = snapshot_bytes(at_cut);
  const std::string view_at_cut = at_cut.state_view_json();
  ASSERT_TRUE(wait_until(
      [&] { return http_get(aggregator.hub_port(), "/v1/competitions/" + shouting).body == view_at_cut; },
      20s));

  WsClient client(aggregator.websocket_url("/v1/competitions/" + shouting));
  ASSERT_TRUE(client.connect());
  ASSERT_TRUE(client.wait_for_count(snapshot.size(), 20s))
      << client.message_count() << " of " << snapshot.size();
  // The rest of the recording while the client beats every 100 ms (at most 10 frames/s: the default rate).
  std::size_t next = cut;
  for (int beat = 0; beat < 30; ++beat) {
    ASSERT_TRUE(client.send_text(R"({"type":"ping"})")) << "beat " << beat;
    for (int k = 0; k < 10 && next < events->size(); ++k)
      published.push_back(publisher.publish((*events)[next++]));
    std::this_thread::sleep_for(100ms);
  }
  while (next < events->size()) published.push_back(publisher.publish((*events)[next++]));
  std::vector<std::string> expected = snapshot;
  const std::vector<std::string> live = bytes_of(published, cut, published.size());
  expected.insert(expected.end(), live.begin(), live.end());
  ASSERT_TRUE(client.wait_for_count(expected.size(), 30s))
      << client.message_count() << " of " << expected.size();
  EXPECT_TRUE(same_frames(expected, client.messages()));
  EXPECT_FALSE(client.closed()) << "closed " << client.close_code();
  EXPECT_TRUE(wait_until(
      [&] { return aggregator.metric("ovalstream_websocket_client_frames_discarded_total") == 30.0; }, 5s))
      << aggregator.scrape();
}

}  // namespace
}  // namespace ovalstream::aggregator::itest
