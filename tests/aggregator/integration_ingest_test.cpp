// Integration tests of the one ordered consumer per aggregator, against a real nats-server and the real
// aggregator executable:
// - the property: random interleavings of competition-, distance- and heat-level events and (re-)activations
//   of 2-3 competitions, published back to back, with clients joining at random points. Every client's
//   frames are published bytes; between two competition activation frames they come in publish order
//   without repeats; at every checkpoint each client's view equals that of a client that saw everything and
//   the true state.
// - a re-activation in the middle of a heat keeps the race on screen for connected clients and late joiners;
// - the stalls that made the two-consumer design send a second snapshot now give the frames in stream order
//   (each activation followed by what the state kept below it), and nothing more.
// - with many clients joining from another thread while the events flow, each client still gets its
//   snapshot then the stream in order, and the true view.
// Each test runs with one fan-out lane (--fanout-lanes 1) and with three (more than this machine's io
// threads, so that lanes share threads as well as run on all of them).
// OVALSTREAM_INGEST_PROPERTY_CASES sets the number of random cases (default 200; more in a long run).
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
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

using ovalstream::testing::EventSequence;
using ovalstream::testing::kDistanceA;
using ovalstream::testing::kDistanceB;
using ovalstream::testing::make_event_json;
using ovalstream::testing::NatsServerProcess;

class IngestTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    SKIP_WITHOUT_NATS();
    nats = std::make_unique<NatsServerProcess>();
    publisher = std::make_unique<Publisher>(nats->url());
    ASSERT_TRUE(nats::create_stream(publisher->connection(), "VANTAGE", {"competition.>"}).ok());
    aggregator = std::make_unique<AggregatorProcess>(nats->url(),
                                                     std::vector<std::string>{"--fanout-lanes", GetParam()});
    ASSERT_TRUE(
        wait_until([&] { return http_get(aggregator->metrics_port(), "/readyz").status == 200; }, 15s, 20ms));
  }

  std::unique_ptr<NatsServerProcess> nats;
  std::unique_ptr<Publisher> publisher;
  std::unique_ptr<AggregatorProcess> aggregator;
};

std::string activation_json(const std::string& id) {
  return make_event_json("CompetitionActivatedEvent", "", 0, "",
                         R"("competition":{"name":"Ingest Cup","discipline":"SpeedSkating.LongTrack"})", id);
}

std::string distance_activation_json(const std::string& id, const std::string& distance_id) {
  return make_event_json("DistanceActivatedEvent", distance_id, 0, "",
                         R"("distance":{"name":"1000m","id":")" + distance_id + R"("})", id);
}

TEST_P(IngestTest, AReactivationMidHeatKeepsTheRaceOnScreenForConnectedClientsAndLateJoiners) {
  const std::string id = "reactivated-cup";
  const std::string path = "/v1/competitions/" + id;
  EventSequence seq(id);
  seq.competition_activated().distance_activated(kDistanceA).heat_activated(kDistanceA, 1, {"r1", "r2"});
  seq.heat_event("HeatStartedEvent", kDistanceA, 1);
  seq.race_event("RacePassingAddedEvent", kDistanceA, 1, "r1", R"("passing":{"time":100})");
  seq.race_event("RaceLapAddedEvent", kDistanceA, 1, "r1", R"("lap":{"time":100})");
  std::vector<Published> published;
  WsClient live(aggregator->websocket_url(path));
  ASSERT_TRUE(live.connect());
  for (const auto& e : seq.events()) published.push_back(publisher->publish(e.event));
  ASSERT_TRUE(live.wait_for_count(published.size(), 10s));

  // Vantage activates the running competition again, then the race goes on.
  published.push_back(publisher->publish_json(activation_json(id)));
  EventSequence after(id);
  after.race_event("RacePassingAddedEvent", kDistanceA, 1, "r2", R"("passing":{"time":200})");
  published.push_back(publisher->publish(after.events()[0].event));

  const core::CompetitionState truth = state_after(id, published, published.size());
  const std::vector<std::string> expected = frames_of_a_client_from_the_start(id, published);
  ASSERT_TRUE(live.wait_for_count(expected.size(), 10s));
  EXPECT_TRUE(same_frames(expected, live.messages()));
  const core::CompetitionState live_view = fold_frames(id, live.messages());
  EXPECT_TRUE(same_live_view(truth, live_view));
  const std::string view = http_get(aggregator->hub_port(), path).body;
  EXPECT_NE(view.find(kDistanceA), std::string::npos) << "the distance went off screen: " << view;
  EXPECT_NE(view.find("r2"), std::string::npos) << view;

  WsClient late(aggregator->websocket_url(path));
  ASSERT_TRUE(late.connect());
  const std::vector<std::string> snapshot = snapshot_bytes(truth);
  ASSERT_TRUE(late.wait_for_count(snapshot.size(), 10s));
  EXPECT_TRUE(same_frames(snapshot, late.messages()));
  EXPECT_EQ(late.messages().front(), published[published.size() - 2].event.raw())
      << "the re-activation first";
  EXPECT_TRUE(same_live_view(truth, fold_frames(id, late.messages())));
}

// The two stalls that made the two-consumer design cross its lanes and resend a whole snapshot to connected
// clients: a backlog of distance-level events, then a new distance and a re-activation; a backlog of
// competition-level events, then a re-activation and a new distance. In one order the client gets exactly
// the stream's frames (each activation followed by what it kept), and no second snapshot.
TEST_P(IngestTest, AStallWithABacklogSendsNoSecondSnapshot) {
  for (const bool competition_backlog : {false, true}) {
    const std::string id = competition_backlog ? "stalled-cup-2" : "stalled-cup-1";
    const std::string path = "/v1/competitions/" + id;
    std::vector<Published> published;
    WsClient live(aggregator->websocket_url(path));
    ASSERT_TRUE(live.connect());
    published.push_back(publisher->publish_json(activation_json(id)));
    published.push_back(publisher->publish_json(distance_activation_json(id, kDistanceA)));
    ASSERT_TRUE(live.wait_for_count(2, 20s));

    aggregator->send_signal(SIGSTOP);
    for (int i = 0; i < 400; ++i) {
      const std::string padding =
          R"("index":)" + std::to_string(i) + R"(,"padding":")" + std::string(4000, 'p') + "\"";
      published.push_back(publisher->publish_json(
          competition_backlog ? make_event_json("FutureCompetitionEvent", "", 0, "", padding, id)
                              : make_event_json("FutureDistanceEvent", kDistanceA, 0, "", padding, id)));
    }
    if (competition_backlog) {
      published.push_back(publisher->publish_json(activation_json(id)));
      published.push_back(publisher->publish_json(distance_activation_json(id, kDistanceB)));
    } else {
      published.push_back(publisher->publish_json(distance_activation_json(id, kDistanceB)));
      published.push_back(publisher->publish_json(activation_json(id)));
    }
    aggregator->send_signal(SIGCONT);

    const std::vector<std::string> expected = frames_of_a_client_from_the_start(id, published);
    ASSERT_TRUE(live.wait_for_count(expected.size(), 30s))
        << live.message_count() << " of " << expected.size();
    EXPECT_TRUE(same_frames(expected, live.messages())) << id;
    const core::CompetitionState truth = state_after(id, published, published.size());
    EXPECT_TRUE(same_live_view(truth, fold_frames(id, live.messages()))) << id;
    // Nothing more arrives.
    std::this_thread::sleep_for(200ms);
    EXPECT_EQ(live.message_count(), expected.size()) << id;
  }
}

// One random case: events of 2-3 competitions, published back to back; clients join at random points.
struct RandomCase {
  std::vector<std::string> competitions;
  std::vector<std::string> events;  // JSON, in publish order
  std::set<std::size_t> joins;      // a client joins before the event at this index
  std::set<std::size_t> checkpoints;
};

RandomCase make_random_case(unsigned seed) {
  std::mt19937 random(seed);
  auto pick = [&](int n) { return static_cast<int>(random() % static_cast<unsigned>(n)); };
  RandomCase result;
  const int competitions = 2 + pick(2);
  for (int c = 0; c < competitions; ++c) {
    result.competitions.push_back("prop-" + std::to_string(seed) + "-" + std::to_string(c));
  }
  const int count = 12 + pick(28);
  const std::string distances[] = {kDistanceA, kDistanceB};
  for (int i = 0; i < count; ++i) {
    const std::string& id = result.competitions[static_cast<std::size_t>(pick(competitions))];
    const std::string& distance = distances[pick(2)];
    const int heat = 1 + pick(2);
    const std::string race = "r" + std::to_string(heat) + "-" + std::to_string(pick(2));
    // Every event is unique ("n"), so a frame names the one published event it is.
    const std::string n = R"("n":)" + std::to_string(i);
    const std::string races = R"("races":[{"laps":[],"passings":[],"race":{"id":"r)" + std::to_string(heat) +
                              R"(-0","lane":0}},{"laps":[],"passings":[],"race":{"id":"r)" +
                              std::to_string(heat) + R"(-1","lane":1}}],)" + n;
    std::string json;
    switch (pick(12)) {
      case 0:
      case 1:
        json = make_event_json(
            "CompetitionActivatedEvent", "", 0, "",
            R"("competition":{"name":"Prop Cup","discipline":"SpeedSkating.LongTrack"},)" + n, id);
        break;
      case 2:
        json = make_event_json("CompetitionNoteEvent", "", 0, "", n, id);
        break;
      case 3:
        json = make_event_json("DistanceActivatedEvent", distance, 0, "",
                               R"("distance":{"name":"500m","id":")" + distance + R"("},)" + n, id);
        break;
      case 4:
        json = make_event_json("DistanceWeatherChangedEvent", distance, 0, "", n, id);
        break;
      case 5:
        json = make_event_json("HeatActivatedEvent", distance, heat, "", races, id);
        break;
      case 6:
        json = make_event_json("HeatDeactivatedEvent", distance, heat, "", n, id);
        break;
      case 7:
        json = make_event_json("HeatStartedEvent", distance, heat, "", n, id);
        break;
      case 8:
        json = make_event_json("RacePassingAddedEvent", distance, heat, race, R"("passing":{"time":1},)" + n,
                               id);
        break;
      case 9:
        json = make_event_json("LastRaceSpeedChangedEvent", distance, heat, race,
                               R"("passing":{"speed":2},)" + n, id);
        break;
      case 10:
        json = make_event_json("HeatCommittedEvent", distance, heat, "", R"("races":[],)" + n, id);
        break;
      default:
        json = make_event_json("HeatClearedEvent", distance, heat, "", n, id);
        break;
    }
    result.events.push_back(std::move(json));
  }
  const int joins = 1 + pick(4);
  for (int j = 0; j < joins; ++j) result.joins.insert(static_cast<std::size_t>(pick(count + 1)));
  result.checkpoints.insert(static_cast<std::size_t>(pick(count + 1)));
  result.checkpoints.insert(static_cast<std::size_t>(count));
  return result;
}

struct Joined {
  std::string competition;
  std::unique_ptr<WsClient> client;
};

// Frames are published bytes of the client's competition; in each run that starts at a competition
// activation frame (and before the first), their stream sequences only increase.
::testing::AssertionResult ordered_published_frames(const std::string& id,
                                                    const std::vector<std::string>& frames,
                                                    const std::vector<Published>& published) {
  std::map<std::string, std::uint64_t> sequence_of;
  for (const Published& p : published) {
    if (p.event.header.competition_id == id) sequence_of.emplace(std::string(p.event.raw()), p.sequence);
  }
  std::uint64_t last = 0;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const auto it = sequence_of.find(frames[i]);
    if (it == sequence_of.end())
      return ::testing::AssertionFailure() << "frame " << i << " was not published: " << frames[i];
    if (std::getenv("OVALSTREAM_TEST_TRACE"))
      std::cerr << "frame " << i << " seq " << it->second << " " << frames[i].substr(0, 90) << "\n";
    if (parse_or_throw(frames[i]).header.type == core::EventType::kCompetitionActivated) {
      last = 0;  // a client resets here; what the state kept follows
      continue;
    }
    if (it->second <= last) {
      return ::testing::AssertionFailure()
             << "frame " << i << " (sequence " << it->second << ") repeats or precedes sequence " << last
             << " since the last activation";
    }
    last = std::max(last, it->second);
  }
  return ::testing::AssertionSuccess();
}

TEST_P(IngestTest, PropertyEveryClientGetsOneStreamOrderAndTheSameView) {
  unsigned cases = 200;
  if (const char* env = std::getenv("OVALSTREAM_INGEST_PROPERTY_CASES"))
    cases = static_cast<unsigned>(std::atoi(env));
  std::size_t clients_checked = 0;
  for (unsigned seed = 1; seed <= cases; ++seed) {
    const RandomCase c = make_random_case(seed);
    std::mt19937 random(seed * 7919);
    std::vector<Joined> joined;
    // One client per competition that sees everything.
    std::map<std::string, WsClient*> from_start;
    for (const std::string& id : c.competitions) {
      joined.push_back({id, std::make_unique<WsClient>(aggregator->websocket_url("/v1/competitions/" + id))});
      ASSERT_TRUE(joined.back().client->connect()) << "seed " << seed;
      from_start[id] = joined.back().client.get();
    }
    std::vector<Published> published;
    // A checkpoint: a sentinel per competition, then every client has it and holds the true view.
    auto check = [&](const std::string& when) {
      for (const std::string& id : c.competitions) {
        published.push_back(
            publisher->publish_json(sentinel_json(id, kDistanceA, "s" + std::to_string(published.size()))));
      }
      for (const Joined& j : joined) {
        std::string sentinel;
        for (auto it = published.rbegin(); it != published.rend(); ++it) {
          if (it->event.header.competition_id == j.competition) {
            sentinel = std::string(it->event.raw());
            break;
          }
        }
        ASSERT_TRUE(j.client->wait_for_last(sentinel, 30s))
            << "seed " << seed << " " << when << ": " << j.competition;
        const std::vector<std::string> frames = j.client->messages();
        ASSERT_TRUE(ordered_published_frames(j.competition, frames, published))
            << "seed " << seed << " " << when;
        const core::CompetitionState truth = state_after(j.competition, published, published.size());
        ASSERT_TRUE(same_live_view(truth, fold_frames(j.competition, frames)))
            << "seed " << seed << " " << when;
        ASSERT_TRUE(same_live_view(fold_frames(j.competition, from_start[j.competition]->messages()),
                                   fold_frames(j.competition, frames)))
            << "seed " << seed << " " << when;
        ++clients_checked;
      }
      for (const std::string& id : c.competitions) {
        ASSERT_TRUE(same_frames(frames_of_a_client_from_the_start(id, published), from_start[id]->messages()))
            << "seed " << seed << " " << when << ": the client from the start, " << id;
      }
    };
    for (std::size_t i = 0; i <= c.events.size(); ++i) {
      if (c.checkpoints.contains(i)) {
        check("checkpoint before event " + std::to_string(i));
        if (HasFatalFailure()) return;
      }
      if (c.joins.contains(i)) {
        const std::string& id = c.competitions[random() % c.competitions.size()];
        joined.push_back(
            {id, std::make_unique<WsClient>(aggregator->websocket_url("/v1/competitions/" + id))});
        ASSERT_TRUE(joined.back().client->connect()) << "seed " << seed;
      }
      if (i < c.events.size()) published.push_back(publisher->publish_json(c.events[i]));
    }
    check("the end");
    if (HasFatalFailure()) return;
  }
  EXPECT_GE(clients_checked, cases * 2);
}

// Per case: one competition's events published back to back while another thread connects clients as fast
// as it can; at the end every client has the last event, frames in stream order, and the true view.
TEST_P(IngestTest, PropertyManyClientsJoiningWhileEventsFlowEachGetOneStreamOrder) {
  unsigned cases = 10;
  if (const char* env = std::getenv("OVALSTREAM_INGEST_PROPERTY_CASES"))
    cases = std::max(1u, static_cast<unsigned>(std::atoi(env)) / 20);
  constexpr std::size_t kJoiners = 24;
  for (unsigned seed = 1; seed <= cases; ++seed) {
    RandomCase c = make_random_case(1000 + seed);
    const std::string& id = c.competitions.front();
    std::vector<std::string> events;
    for (const std::string& json : c.events) {
      if (parse_or_throw(json).header.competition_id == id) events.push_back(json);
    }
    // Activated first, so that most joiners get a snapshot.
    events.insert(events.begin(), activation_json(id));
    std::mutex clients_mutex;
    std::vector<std::unique_ptr<WsClient>> clients;
    std::atomic<bool> connect_failed{false};
    std::atomic<bool> joined_all{false};
    std::thread joiner([&] {
      for (std::size_t i = 0; i < kJoiners; ++i) {
        auto client = std::make_unique<WsClient>(aggregator->websocket_url("/v1/competitions/" + id));
        if (!client->connect()) connect_failed = true;
        std::lock_guard lock(clients_mutex);
        clients.push_back(std::move(client));
      }
      joined_all = true;
    });
    // The case's events, then notes until the last client joined, so that every join lands mid-stream.
    std::vector<Published> published;
    for (std::size_t i = 0; i < events.size() || (!joined_all && i < 5000); ++i) {
      published.push_back(publisher->publish_json(
          i < events.size()
              ? events[i]
              : make_event_json("CompetitionNoteEvent", "", 0, "", R"("note":)" + std::to_string(i), id)));
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    joiner.join();
    ASSERT_FALSE(connect_failed) << "seed " << seed;
    published.push_back(publisher->publish_json(sentinel_json(id, kDistanceA, "end")));
    const std::string sentinel(published.back().event.raw());
    const core::CompetitionState truth = state_after(id, published, published.size());
    for (std::size_t i = 0; i < clients.size(); ++i) {
      ASSERT_TRUE(clients[i]->wait_for_last(sentinel, 30s)) << "seed " << seed << " client " << i;
      const std::vector<std::string> frames = clients[i]->messages();
      ASSERT_TRUE(ordered_published_frames(id, frames, published)) << "seed " << seed << " client " << i;
      ASSERT_TRUE(same_live_view(truth, fold_frames(id, frames))) << "seed " << seed << " client " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Lanes, IngestTest, ::testing::Values("1", "3"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           return std::string("lanes") + info.param;
                         });

}  // namespace
}  // namespace ovalstream::aggregator::itest
