// Integration tests of the real aggregator executable with the real recording: a nats-server with JetStream,
// the recording published with the core's subject mapping, and cpprestsdk websocket clients (an
// independent RFC 6455 implementation) that check what a browser would receive: the snapshot at join, then
// every later event, byte for byte, no gap, no duplicate, the same live view for everyone; across a
// nats-server kill -9 and an aggregator restart.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
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

constexpr const char* kStream = "VANTAGE";

std::string first_distance_id(const std::vector<core::Event>& events) {
  for (const auto& event : events) {
    if (event.header.distance_id) return *event.header.distance_id;
  }
  return {};
}

// How many leading events are competition-level (the recording starts with its activations).
std::size_t leading_competition_level(const std::vector<core::Event>& events) {
  std::size_t count = 0;
  while (count < events.size() && events[count].header.level() == core::Level::kCompetition) ++count;
  return count;
}

// A client that joined after `cut` events had been applied.
struct LateClient {
  std::size_t cut = 0;
  std::unique_ptr<WsClient> client;
};

// The recording's events are not all distinct: the check for duplicates must allow what was published
// twice and nothing more.
TEST(AggregatorIntegration, RecordingHasOnlyKnownRepeatedEvents) {
  auto events = load_recording_events();
  SKIP_WITHOUT_RECORDING(events);
  std::map<std::string_view, int> counts;
  for (const auto& event : *events) ++counts[event.raw()];
  int repeated = 0;
  for (const auto& [bytes, count] : counts) {
    if (count > 1) {
      ++repeated;
      // Only the repeated CompetitionActivatedEvent of the recording's start (three identical activations).
      EXPECT_NE(bytes.find("\"CompetitionActivatedEvent\""), std::string_view::npos);
      EXPECT_EQ(count, 3);
    }
  }
  EXPECT_EQ(repeated, 1);
}

// Issue test 1: clients that join at many cut points and one connected from the start all end with the
// true live view; the from-start client receives exactly the published events; a late client receives the
// snapshot at its join followed by exactly the events after it.
TEST(AggregatorIntegration, ClientsJoiningAtCutPointsOfTheRealRecordingEndWithTheTrueView) {
  auto events = load_recording_events();
  SKIP_WITHOUT_NATS_AND_RECORDING(events);
  NatsServerProcess nats;
  Publisher publisher(nats.url());
  ASSERT_TRUE(nats::create_stream(publisher.connection(), kStream, {"competition.>"}).ok());
  AggregatorProcess aggregator(nats.url());

  const std::string competition_id = events->front().header.competition_id;
  const std::string distance_id = first_distance_id(*events);
  ASSERT_FALSE(distance_id.empty());
  const std::string path = "/v1/competitions/" + competition_id;

  WsClient from_start(aggregator.websocket_url(path));
  ASSERT_TRUE(from_start.connect());

  std::vector<Published> published;
  // The first activation: once the from-start client has it, its join has been handled (before it, the
  // competition was not active and the client waited).
  published.push_back(publisher.publish((*events)[0]));
  ASSERT_TRUE(from_start.wait_for_count(1, 20s)) << "the first activation did not arrive";
  std::vector<LateClient> late;
  for (std::size_t i = 1; i < events->size(); ++i) {
    published.push_back(publisher.publish((*events)[i]));
    const std::size_t count = published.size();
    if (count % 50 != 0 && count != events->size()) continue;
    // A cut point: everything published so far has been applied once the from-start client has it.
    ASSERT_TRUE(from_start.wait_for_count(count, 10s))
        << "cut " << count << ": from-start client has " << from_start.message_count();
    LateClient client{count, std::make_unique<WsClient>(aggregator.websocket_url(path))};
    ASSERT_TRUE(client.client->connect()) << "cut " << count;
    const std::size_t snapshot_size = snapshot_bytes(state_after(competition_id, published, count)).size();
    ASSERT_TRUE(client.client->wait_for_count(snapshot_size, 10s))
        << "cut " << count << ": snapshot of " << snapshot_size << " events, got "
        << client.client->message_count();
    late.push_back(std::move(client));
  }

  // A last, unique event marks the end for every client.
  const Published sentinel = publisher.publish_json(sentinel_json(competition_id, distance_id, "end"));
  published.push_back(sentinel);
  const std::string end(sentinel.event.raw());
  ASSERT_TRUE(from_start.wait_for_last(end, 20s)) << "from-start client has " << from_start.message_count();
  for (auto& client : late) ASSERT_TRUE(client.client->wait_for_last(end, 20s)) << "cut " << client.cut;

  const core::CompetitionState truth = state_after(competition_id, published, published.size());
  const std::vector<std::string> all = bytes_of(published, 0, published.size());

  const std::vector<std::string> first = from_start.messages();
  // The recording's activations all come before its first distance: nothing is resent after them.
  EXPECT_TRUE(same_frames(all, first)) << "the from-start client";
  EXPECT_TRUE(same_frames(frames_of_a_client_from_the_start(competition_id, published), first));
  EXPECT_TRUE(no_unexpected_duplicates(all, first)) << "the from-start client";
  EXPECT_TRUE(same_live_view(truth, fold_frames(competition_id, first))) << "the from-start client";
  EXPECT_EQ(from_start.non_text_messages(), 0u);

  for (auto& client : late) {
    std::vector<std::string> expected = snapshot_bytes(state_after(competition_id, published, client.cut));
    const std::vector<std::string> after = bytes_of(published, client.cut, published.size());
    expected.insert(expected.end(), after.begin(), after.end());
    const std::vector<std::string> frames = client.client->messages();
    EXPECT_TRUE(same_frames(expected, frames)) << "client joining at cut " << client.cut;
    EXPECT_TRUE(no_unexpected_duplicates(expected, frames)) << "client joining at cut " << client.cut;
    EXPECT_TRUE(same_live_view(truth, fold_frames(competition_id, frames)))
        << "client joining at cut " << client.cut;
    EXPECT_EQ(client.client->non_text_messages(), 0u);
  }

  // The plain GET shows the same state.
  const HttpReply view = http_get(aggregator.hub_port(), path);
  EXPECT_EQ(view.status, 200);
  EXPECT_EQ(view.body, truth.state_view_json());
  EXPECT_EQ(aggregator.metric("ovalstream_events_duplicate_total"), 0.0);
  EXPECT_TRUE(aggregator.running());
}

// Issue test 7: nats-server killed with -9 mid-stream and restarted on the same store; the rest published:
// every client ends with the true view, the from-start client with exactly every published event.
TEST(AggregatorIntegration, NatsServerKilledMidStreamLosesAndRepeatsNothing) {
  auto events = load_recording_events();
  SKIP_WITHOUT_NATS_AND_RECORDING(events);
  NatsServerProcess nats;
  Publisher publisher(nats.url());
  ASSERT_TRUE(nats::create_stream(publisher.connection(), kStream, {"competition.>"}).ok());
  AggregatorProcess aggregator(nats.url());

  const std::string competition_id = events->front().header.competition_id;
  const std::string distance_id = first_distance_id(*events);
  const std::string path = "/v1/competitions/" + competition_id;
  WsClient from_start(aggregator.websocket_url(path));
  ASSERT_TRUE(from_start.connect());

  std::vector<Published> published;
  published.push_back(publisher.publish((*events)[0]));
  ASSERT_TRUE(from_start.wait_for_count(1, 20s));
  const std::size_t lead_in = leading_competition_level(*events);
  for (std::size_t i = 1; i < lead_in; ++i) published.push_back(publisher.publish((*events)[i]));
  ASSERT_TRUE(from_start.wait_for_count(lead_in, 10s));

  const std::size_t half = events->size() / 2;
  for (std::size_t i = lead_in; i < half; ++i) published.push_back(publisher.publish((*events)[i]));
  ASSERT_TRUE(from_start.wait_for_count(half, 10s));
  WsClient joined_before(aggregator.websocket_url(path));
  ASSERT_TRUE(joined_before.connect());
  const std::vector<std::string> snapshot_at_half =
      snapshot_bytes(state_after(competition_id, published, half));
  ASSERT_TRUE(joined_before.wait_for_count(snapshot_at_half.size(), 10s));

  nats.kill9();
  ASSERT_TRUE(aggregator.wait_for_log("nats disconnected", 10s)) << "the aggregator did not notice";
  // While NATS is down the aggregator keeps serving what it has.
  EXPECT_EQ(http_get(aggregator.hub_port(), path).status, 200);
  WsClient joined_while_down(aggregator.websocket_url(path));
  ASSERT_TRUE(joined_while_down.connect());
  const std::vector<std::string> snapshot_while_down = snapshot_at_half;
  ASSERT_TRUE(joined_while_down.wait_for_count(snapshot_while_down.size(), 10s));

  nats.restart();
  ASSERT_TRUE(publisher.wait_usable(kStream, 20s)) << "the publisher could not use the restarted server";
  EXPECT_EQ(nats::stream_info(publisher.connection(), kStream)->last_sequence, published.back().sequence)
      << "the store lost or gained messages across kill -9";
  for (std::size_t i = half; i < events->size(); ++i) published.push_back(publisher.publish((*events)[i]));
  const Published sentinel =
      publisher.publish_json(sentinel_json(competition_id, distance_id, "after-restart"));
  published.push_back(sentinel);
  const std::string end(sentinel.event.raw());

  ASSERT_TRUE(from_start.wait_for_last(end, 30s)) << "from-start client has " << from_start.message_count();
  ASSERT_TRUE(joined_before.wait_for_last(end, 10s));
  ASSERT_TRUE(joined_while_down.wait_for_last(end, 10s));
  EXPECT_TRUE(aggregator.wait_for_log("nats reconnected", 5s));

  const core::CompetitionState truth = state_after(competition_id, published, published.size());
  const std::vector<std::string> all = bytes_of(published, 0, published.size());
  EXPECT_TRUE(same_frames(all, from_start.messages())) << "the from-start client";
  EXPECT_TRUE(same_live_view(truth, fold_frames(competition_id, from_start.messages())));

  std::vector<std::string> expected = snapshot_at_half;
  const std::vector<std::string> after = bytes_of(published, half, published.size());
  expected.insert(expected.end(), after.begin(), after.end());
  EXPECT_TRUE(same_frames(expected, joined_before.messages())) << "the client that joined before the kill";
  EXPECT_TRUE(same_live_view(truth, fold_frames(competition_id, joined_before.messages())));
  EXPECT_TRUE(same_frames(expected, joined_while_down.messages()))
      << "the client that joined while NATS was down";
  EXPECT_TRUE(same_live_view(truth, fold_frames(competition_id, joined_while_down.messages())));

  // A client joining now gets the true snapshot.
  WsClient joined_after(aggregator.websocket_url(path));
  ASSERT_TRUE(joined_after.connect());
  ASSERT_TRUE(joined_after.wait_for_last(end, 10s));
  EXPECT_TRUE(same_frames(snapshot_bytes(truth), joined_after.messages())) << "the client that joined after";
  EXPECT_TRUE(aggregator.running());
}

// Issue test 8: the aggregator killed and a new one started on the same stream: a new client gets the true
// view, also one that connects while the new aggregator is still replaying.
TEST(AggregatorIntegration, RestartedAggregatorRebuildsTheTrueViewFromTheStream) {
  auto events = load_recording_events();
  SKIP_WITHOUT_NATS_AND_RECORDING(events);
  NatsServerProcess nats;
  Publisher publisher(nats.url());
  ASSERT_TRUE(nats::create_stream(publisher.connection(), kStream, {"competition.>"}).ok());

  const std::string competition_id = events->front().header.competition_id;
  const std::string distance_id = first_distance_id(*events);
  const std::string path = "/v1/competitions/" + competition_id;

  std::vector<Published> published;
  {
    AggregatorProcess first(nats.url());
    WsClient client(first.websocket_url(path));
    ASSERT_TRUE(client.connect());
    published.push_back(publisher.publish((*events)[0]));
    ASSERT_TRUE(client.wait_for_count(1, 20s));
    for (std::size_t i = 1; i < events->size(); ++i) published.push_back(publisher.publish((*events)[i]));
    const Published sentinel = publisher.publish_json(sentinel_json(competition_id, distance_id, "end"));
    published.push_back(sentinel);
    ASSERT_TRUE(client.wait_for_last(std::string(sentinel.event.raw()), 20s));
    first.kill9();
  }
  const core::CompetitionState truth = state_after(competition_id, published, published.size());
  const std::string end(published.back().event.raw());

  AggregatorProcess second(nats.url());
  // At once: joins whatever the new aggregator has rebuilt so far (maybe nothing), then gets the rest.
  WsClient early(second.websocket_url(path));
  ASSERT_TRUE(early.connect());
  ASSERT_TRUE(early.wait_for_last(end, 20s)) << "early client has " << early.message_count();
  EXPECT_TRUE(same_live_view(truth, fold_frames(competition_id, early.messages()))) << "the early client";
  EXPECT_TRUE(no_unexpected_duplicates(bytes_of(published, 0, published.size()), early.messages()));

  ASSERT_TRUE(
      wait_until([&] { return http_get(second.hub_port(), path).body == truth.state_view_json(); }, 10s))
      << "GET never showed the true state";
  ASSERT_TRUE(wait_until([&] { return http_get(second.metrics_port(), "/readyz").status == 200; }, 10s));
  WsClient late(second.websocket_url(path));
  ASSERT_TRUE(late.connect());
  ASSERT_TRUE(late.wait_for_last(end, 10s));
  EXPECT_TRUE(same_frames(snapshot_bytes(truth), late.messages())) << "a client of the restarted aggregator";
  EXPECT_TRUE(same_live_view(truth, fold_frames(competition_id, late.messages())));
}

}  // namespace
}  // namespace ovalstream::aggregator::itest
