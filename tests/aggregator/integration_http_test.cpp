// Integration tests of the real aggregator executable: the /v1/competitions endpoint (websocket and GET),
// the routes' status codes, health and readiness, --max-connections, and wss with a certificate made at test
// time.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <fstream>
#include <memory>
#include <string>
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

constexpr const char* kStream = "VANTAGE";

std::string activation(const std::string& competition_id, const std::string& name) {
  return make_event_json("CompetitionActivatedEvent", "", 0, "",
                         R"("competition":{"name":")" + name + R"(","discipline":"SpeedSkating.LongTrack"})",
                         competition_id);
}

std::string distance_activation(const std::string& competition_id, const std::string& distance_id) {
  return make_event_json("DistanceActivatedEvent", distance_id, 0, "",
                         R"("distance":{"name":"500m","id":")" + distance_id + R"("})", competition_id);
}

// Issue test 2: /v1/competitions over websocket (latest activation per competition, oldest first, then new
// ones live) and GET; GET /v1/competitions/{id}; 400 for a malformed id before any upgrade; 404 for other
// paths; a well-formed id not yet active keeps its socket open and receives the competition once active.
TEST(AggregatorIntegration, CompetitionsEndpointAndRoutes) {
  SKIP_WITHOUT_NATS();
  NatsServerProcess nats;
  Publisher publisher(nats.url());
  ASSERT_TRUE(nats::create_stream(publisher.connection(), kStream, {"competition.>"}).ok());

  const std::string a = "competition-a";
  const std::string b = "competition-b";
  const std::string c = "competition-c";
  const std::string d = "competition-d";
  // History before the aggregator starts: A is activated twice, so only its second activation counts.
  const Published a1 = publisher.publish_json(activation(a, "Cup A"));
  const Published b1 = publisher.publish_json(activation(b, "Cup B"));
  const Published a2 = publisher.publish_json(activation(a, "Cup A again"));

  AggregatorProcess aggregator(nats.url());
  // Ready = the history of activations has been read; a client joining before would get them live, each.
  ASSERT_TRUE(
      wait_until([&] { return http_get(aggregator.metrics_port(), "/readyz").status == 200; }, 15s, 50ms));
  WsClient list_client(aggregator.websocket_url("/v1/competitions"));
  ASSERT_TRUE(list_client.connect());
  ASSERT_TRUE(list_client.wait_for_count(2, 20s)) << "got " << list_client.message_count();
  EXPECT_TRUE(same_frames({std::string(b1.event.raw()), std::string(a2.event.raw())}, list_client.messages()))
      << "the latest activation of each competition, oldest first";

  // A competition id that is well-formed but not active: the socket stays open and waits.
  WsClient waiting(aggregator.websocket_url("/v1/competitions/" + d));
  ASSERT_TRUE(waiting.connect());

  // New competitions arrive live; a re-activation of one this connection has does not: each competition
  // once per connection, as the original sent them (pickers written for it would show a duplicate).
  const Published b2 = publisher.publish_json(activation(b, "Cup B again"));
  const Published c1 = publisher.publish_json(activation(c, "Cup C"));
  ASSERT_TRUE(list_client.wait_for_count(3, 10s));
  EXPECT_TRUE(
      same_frames({std::string(b1.event.raw()), std::string(a2.event.raw()), std::string(c1.event.raw())},
                  list_client.messages()));
  // A new connection gets the latest activation of each, oldest first.
  WsClient second_list(aggregator.websocket_url("/v1/competitions"));
  ASSERT_TRUE(second_list.connect());
  ASSERT_TRUE(second_list.wait_for_count(3, 10s));
  EXPECT_TRUE(
      same_frames({std::string(a2.event.raw()), std::string(b2.event.raw()), std::string(c1.event.raw())},
                  second_list.messages()));

  // GET /v1/competitions: the same list as JSON, oldest first.
  const HttpReply list = http_get(aggregator.hub_port(), "/v1/competitions");
  ASSERT_EQ(list.status, 200) << list.head;
  EXPECT_NE(list.header("Content-Type").find("application/json"), std::string::npos);
  rapidjson::Document document;
  document.Parse(list.body.c_str());
  ASSERT_TRUE(document.IsArray()) << list.body;
  const std::vector<std::pair<std::string, const Published*>> expected_list = {{a, &a2}, {b, &b2}, {c, &c1}};
  ASSERT_EQ(document.Size(), expected_list.size()) << list.body;
  const std::vector<std::string> names = {"Cup A again", "Cup B again", "Cup C"};
  for (rapidjson::SizeType i = 0; i < document.Size(); ++i) {
    const auto& item = document[i];
    ASSERT_TRUE(item.IsObject()) << list.body;
    EXPECT_EQ(std::string(item["competitionId"].GetString()), expected_list[i].first) << list.body;
    EXPECT_EQ(std::string(item["name"].GetString()), names[i]) << list.body;
    EXPECT_EQ(item["position"].GetUint64(), expected_list[i].second->sequence) << list.body;
    EXPECT_GT(item["activatedAt"].GetInt64(), 0) << list.body;
  }

  // GET /v1/competitions/{id}: the JSON state view of the competition.
  std::vector<Published> of_a = {a1, a2};
  of_a.push_back(publisher.publish_json(distance_activation(a, kDistanceA)));
  const core::CompetitionState truth_a = state_after(a, of_a, of_a.size());
  ASSERT_TRUE(wait_until(
      [&] {
        return http_get(aggregator.hub_port(), "/v1/competitions/" + a).body == truth_a.state_view_json();
      },
      10s))
      << http_get(aggregator.hub_port(), "/v1/competitions/" + a).body << "\nexpected\n"
      << truth_a.state_view_json();
  const HttpReply view = http_get(aggregator.hub_port(), "/v1/competitions/" + a + "/");
  EXPECT_EQ(view.status, 200);
  EXPECT_NE(view.header("Content-Type").find("application/json"), std::string::npos);
  EXPECT_EQ(view.body, truth_a.state_view_json()) << "a trailing slash is tolerated";
  const HttpReply unknown = http_get(aggregator.hub_port(), "/v1/competitions/not-active-yet");
  EXPECT_EQ(unknown.status, 200);
  EXPECT_EQ(unknown.body, "null");

  // Malformed ids: 400, for a GET and for an upgrade (refused before it happens).
  const std::vector<std::string> malformed = {"/v1/competitions/a.b",
                                              "/v1/competitions/a*",
                                              "/v1/competitions/a%20b",
                                              "/v1/competitions/a/b",
                                              "/v1/competitions/a%2e",
                                              "/v1/competitions/a%",
                                              "/v1/competitions/" + std::string(257, 'x')};
  for (const std::string& bad : malformed) {
    EXPECT_EQ(http_get(aggregator.hub_port(), bad).status, 400) << bad;
    const HttpReply upgrade = upgrade_request(aggregator.hub_port(), bad);
    EXPECT_EQ(upgrade.status, 400) << bad << "\n" << upgrade.head;
    WsClient refused(aggregator.websocket_url(bad));
    EXPECT_FALSE(refused.connect(5s)) << bad;
  }
  // Other paths: 404.
  const std::vector<std::string> others = {
      "/", "/v1", "/v1/competition", "/v1/competitionsX", "/v2/competitions", "/metrics"};
  for (const std::string& other : others) {
    EXPECT_EQ(http_get(aggregator.hub_port(), other).status, 404) << other;
    EXPECT_EQ(upgrade_request(aggregator.hub_port(), other).status, 404) << other;
  }
  // Any id that can be a subject token is well-formed (up to 256 bytes), and ids match case-insensitively.
  EXPECT_EQ(http_get(aggregator.hub_port(), "/v1/competitions/" + std::string(256, 'x')).status, 200);
  EXPECT_EQ(http_get(aggregator.hub_port(), "/v1/competitions/cup:2020~a+b").status, 200);
  EXPECT_EQ(http_get(aggregator.hub_port(), "/v1/competitions/COMPETITION-A").body,
            truth_a.state_view_json());

  // D becomes active: the waiting socket gets its activation, then its events; the list gets it too.
  EXPECT_EQ(waiting.message_count(), 0u);
  EXPECT_FALSE(waiting.closed());
  std::vector<Published> of_d;
  of_d.push_back(publisher.publish_json(activation(d, "Cup D")));
  of_d.push_back(publisher.publish_json(distance_activation(d, kDistanceA)));
  ASSERT_TRUE(waiting.wait_for_count(2, 10s)) << "got " << waiting.message_count();
  EXPECT_TRUE(same_frames(bytes_of(of_d, 0, of_d.size()), waiting.messages()));
  EXPECT_TRUE(same_live_view(state_after(d, of_d, of_d.size()), fold_frames(d, waiting.messages())));
  ASSERT_TRUE(list_client.wait_for_count(4, 10s));
  EXPECT_EQ(list_client.messages().back(), std::string(of_d.front().event.raw()));
  EXPECT_EQ(list_client.non_text_messages(), 0u);
  EXPECT_FALSE(list_client.closed());
}

// Issue test 3: health and readiness without the stream (no --create-stream), then with it;
// --max-connections.
TEST(AggregatorIntegration, HealthReadinessAndMaxConnections) {
  SKIP_WITHOUT_NATS();
  NatsServerProcess nats;
  AggregatorProcess aggregator(nats.url(), {"--max-connections", "2"});

  const HttpReply health = http_get(aggregator.metrics_port(), "/healthz");
  EXPECT_EQ(health.status, 200);
  const HttpReply not_ready = http_get(aggregator.metrics_port(), "/readyz");
  EXPECT_EQ(not_ready.status, 503);
  ASSERT_TRUE(aggregator.wait_for_log("stream does not exist", 10s));
  const std::vector<std::string> missing = aggregator.log_lines_with("stream does not exist");
  ASSERT_FALSE(missing.empty());
  EXPECT_NE(missing.front().find("\"stream\":\"VANTAGE\""), std::string::npos) << missing.front();
  const HttpReply still_not_ready = http_get(aggregator.metrics_port(), "/readyz");
  EXPECT_EQ(still_not_ready.status, 503);
  EXPECT_NE(still_not_ready.body.find("stream VANTAGE not found"), std::string::npos) << still_not_ready.body;

  const HttpReply metrics = http_get(aggregator.metrics_port(), "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("ovalstream_build_info{"), std::string::npos);
  EXPECT_EQ(metric_value(metrics.body, "ovalstream_nats_connected"), 1.0);
  EXPECT_EQ(http_get(aggregator.metrics_port(), "/nothing").status, 404);

  Publisher publisher(nats.url());
  ASSERT_TRUE(nats::create_stream(publisher.connection(), kStream, {"competition.>"}).ok());
  ASSERT_TRUE(
      wait_until([&] { return http_get(aggregator.metrics_port(), "/readyz").status == 200; }, 15s, 100ms))
      << http_get(aggregator.metrics_port(), "/readyz").body;

  // Two websockets are allowed, the third upgrade gets 503; plain GETs are not counted.
  WsClient first(aggregator.websocket_url("/v1/competitions"));
  WsClient second(aggregator.websocket_url("/v1/competitions/some-competition"));
  ASSERT_TRUE(first.connect());
  ASSERT_TRUE(second.connect());
  const HttpReply third = upgrade_request(aggregator.hub_port(), "/v1/competitions");
  EXPECT_EQ(third.status, 503) << third.head;
  WsClient third_client(aggregator.websocket_url("/v1/competitions"));
  EXPECT_FALSE(third_client.connect(5s));
  EXPECT_EQ(http_get(aggregator.hub_port(), "/v1/competitions").status, 200);
  EXPECT_GE(aggregator.metric("ovalstream_websocket_connections_rejected_total{reason=\"max_connections\"}")
                .value_or(0),
            2.0);
  EXPECT_EQ(aggregator.metric("ovalstream_websocket_connections_open{endpoint=\"competitions\"}"), 1.0);
  EXPECT_EQ(aggregator.metric("ovalstream_websocket_connections_open{endpoint=\"competition\"}"), 1.0);

  // A slot frees up when a client leaves.
  ASSERT_TRUE(first.close());
  EXPECT_TRUE(wait_until(
      [&] {
        RawWsClient again(aggregator.hub_port());
        return again.handshake("/v1/competitions");
      },
      5s, 50ms))
      << "no upgrade succeeded after a client left";
  EXPECT_EQ(aggregator.metric("ovalstream_nats_connected"), 1.0);
}

// Issue test 5: wss with a self-signed certificate generated at test time; the client trusts exactly that
// certificate and receives the snapshot, then a live event.
TEST(AggregatorIntegration, ServesWebsocketsOverTls) {
  SKIP_WITHOUT_NATS();
  const std::string openssl = "/usr/bin/openssl";
  TempDir dir;
  const std::string key = dir.path() + "/key.pem";
  const std::string certificate = dir.path() + "/cert.pem";
  const auto generated = run_program(
      {openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-addext",
       "subjectAltName=IP:127.0.0.1,DNS:localhost", "-days", "1", "-keyout", key, "-out", certificate},
      60s);
  if (!generated) GTEST_SKIP() << openssl << " is not available to make a test certificate";
  ASSERT_EQ(*generated, 0) << "openssl req failed";

  NatsServerProcess nats;
  Publisher publisher(nats.url());
  ASSERT_TRUE(nats::create_stream(publisher.connection(), kStream, {"competition.>"}).ok());
  const std::string id = "tls-competition";
  std::vector<Published> published;
  published.push_back(publisher.publish_json(activation(id, "TLS Cup")));
  published.push_back(publisher.publish_json(distance_activation(id, kDistanceA)));

  AggregatorProcess aggregator(nats.url(), {"--cert-file", certificate, "--key-file", key});
  const std::vector<std::string> serving = aggregator.log_lines_with("serving websockets");
  ASSERT_FALSE(serving.empty());
  EXPECT_NE(serving.front().find("\"tls\":true"), std::string::npos) << serving.front();

  const std::string path = "/v1/competitions/" + id;
  ASSERT_TRUE(
      wait_until([&] { return http_get(aggregator.metrics_port(), "/readyz").status == 200; }, 15s, 100ms));
  WsClient client(aggregator.websocket_url(path, /*tls=*/true), certificate);
  ASSERT_TRUE(client.connect()) << "wss handshake with the generated certificate failed";
  const std::vector<std::string> snapshot = snapshot_bytes(state_after(id, published, published.size()));
  ASSERT_TRUE(client.wait_for_count(snapshot.size(), 15s)) << "got " << client.message_count();
  EXPECT_TRUE(same_frames(snapshot, client.messages()));

  published.push_back(publisher.publish_json(sentinel_json(id, kDistanceA, "tls-live")));
  ASSERT_TRUE(client.wait_for_last(std::string(published.back().event.raw()), 10s));
  EXPECT_TRUE(
      same_live_view(state_after(id, published, published.size()), fold_frames(id, client.messages())));

  // Plain ws on the TLS port does not get through.
  WsClient plain(aggregator.websocket_url(path));
  EXPECT_FALSE(plain.connect(5s));
  EXPECT_FALSE(client.closed());
}

}  // namespace
}  // namespace ovalstream::aggregator::itest

namespace ovalstream::aggregator::itest {
namespace {

// --static-dir: the scoreboard page next to the endpoints; "/" is index.html, endpoints keep their meaning,
// and paths cannot leave the directory.
TEST(AggregatorIntegration, StaticDirServesThePageBesideTheEndpoints) {
  SKIP_WITHOUT_NATS();
  NatsServerProcess nats;
  Publisher publisher(nats.url());
  ASSERT_TRUE(nats::create_stream(publisher.connection(), kStream, {"competition.>"}).ok());
  TempDir page;
  std::ofstream(page.path() + "/index.html") << "<title>scoreboard</title>";
  std::ofstream(page.path() + "/app.js") << "connect();";

  AggregatorProcess aggregator(nats.url(), {"--static-dir", page.path()});
  auto reply = http_get(aggregator.hub_port(), "/");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "<title>scoreboard</title>");
  EXPECT_EQ(reply.header("Content-Type"), "text/html; charset=utf-8");
  reply = http_get(aggregator.hub_port(), "/app.js");
  EXPECT_EQ(reply.body, "connect();");
  EXPECT_EQ(http_get(aggregator.hub_port(), "/v1/competitions").status, 200);
  EXPECT_EQ(http_get(aggregator.hub_port(), "/../../etc/passwd").status, 404);
  EXPECT_EQ(http_get(aggregator.hub_port(), "/missing.html").status, 404);
}

TEST(AggregatorIntegration, StaticDirThatIsNoDirectoryStopsTheStart) {
  const std::optional<int> code = run_program({AggregatorProcess::executable(), "--static-dir",
                                               "/nonexistent/ovalstream", "--nats-url", "nats://127.0.0.1:1"},
                                              20s);
  EXPECT_EQ(code, 1);
}

}  // namespace
}  // namespace ovalstream::aggregator::itest
