// The property that defines correctness (see support/snapshot_property.hpp), on the real recording and on
// generated sequences that exercise every rule.
#include <gtest/gtest.h>

#include <random>

#include "support/event_builder.hpp"
#include "support/recording.hpp"
#include "support/skips.hpp"
#include "support/snapshot_property.hpp"

namespace ovalstream::core {
namespace {

using testing::EventSequence;
using testing::kDistanceA;
using testing::kDistanceB;
using testing::snapshot_property_holds;

TEST(SnapshotProperty, RealRecordingEveryCutPoint) {
  const auto events = testing::load_recording(testing::kRealRecordingName);
  SKIP_WITHOUT_RECORDING(events);
  ASSERT_EQ(events->size(), 555u);
  EXPECT_TRUE(snapshot_property_holds(*events));
}

// A heat's race events: passings, speeds, laps, presented laps, next lap indexes.
void race_some_laps(EventSequence& seq, const std::string& distance, int heat, const std::string& race,
                    int laps) {
  for (int lap = 0; lap < laps; ++lap) {
    const std::string time = std::to_string((lap + 1) * 300000000LL);
    seq.race_event("RacePassingAddedEvent", distance, heat, race, R"("passing":{"time":)" + time + "}")
        .race_event("LastRaceSpeedChangedEvent", distance, heat, race,
                    R"("passing":{"speed":)" + std::to_string(12 + lap) + "}")
        .race_event("RaceLapAddedEvent", distance, heat, race, R"("lap":{"time":)" + time + "}")
        .race_event("LastPresentedRaceLapChangedEvent", distance, heat, race,
                    R"("lap":{"index":)" + std::to_string(lap) + "}")
        .race_event("RaceNextLapIndexChangedEvent", distance, heat, race,
                    R"("index":)" + std::to_string(lap + 1))
        .heat_event("HeatNextLapIndexChangedEvent", distance, heat, R"("index":)" + std::to_string(lap + 1));
  }
}

TEST(SnapshotProperty, HeatClearedMidHeat) {
  EventSequence seq;
  seq.competition_activated().distance_activated(kDistanceA).heat_activated(kDistanceA, 1, {"r1", "r2"});
  seq.heat_event("HeatStartedEvent", kDistanceA, 1);
  race_some_laps(seq, kDistanceA, 1, "r1", 2);
  seq.heat_event("HeatClearedEvent", kDistanceA, 1).heat_event("HeatStartedEvent", kDistanceA, 1);
  race_some_laps(seq, kDistanceA, 1, "r2", 2);
  seq.heat_event("HeatClearedEvent", kDistanceA, 1);
  race_some_laps(seq, kDistanceA, 1, "r1", 1);
  EXPECT_TRUE(snapshot_property_holds(seq.events()));
}

TEST(SnapshotProperty, HeatReactivated) {
  EventSequence seq;
  seq.competition_activated().distance_activated(kDistanceA).heat_activated(kDistanceA, 1, {"r1", "r2"});
  race_some_laps(seq, kDistanceA, 1, "r1", 2);
  seq.heat_activated(kDistanceA, 1, {"r1", "r2"});
  race_some_laps(seq, kDistanceA, 1, "r2", 2);
  seq.heat_event("HeatDeactivatedEvent", kDistanceA, 1).heat_activated(kDistanceA, 1, {"r1", "r2"});
  race_some_laps(seq, kDistanceA, 1, "r1", 1);
  EXPECT_TRUE(snapshot_property_holds(seq.events()));
}

TEST(SnapshotProperty, TwoConcurrentHeatGroups) {
  EventSequence seq;
  seq.competition_activated().distance_activated(kDistanceA);
  seq.heat_activated(kDistanceA, 1, {"a1", "a2"}).heat_activated(kDistanceA, 2, {"b1", "b2"});
  race_some_laps(seq, kDistanceA, 1, "a1", 2);
  race_some_laps(seq, kDistanceA, 2, "b1", 2);
  seq.heat_event("HeatDeactivatedEvent", kDistanceA, 1).heat_activated(kDistanceA, 3, {"c1", "c2"});
  race_some_laps(seq, kDistanceA, 2, "b2", 1);
  race_some_laps(seq, kDistanceA, 3, "c1", 1);
  // Both deactivated, then the next two: neither of the old heats may come back.
  seq.heat_event("HeatDeactivatedEvent", kDistanceA, 3).heat_event("HeatDeactivatedEvent", kDistanceA, 2);
  seq.heat_activated(kDistanceA, 4, {"d1"}).heat_activated(kDistanceA, 5, {"e1"});
  race_some_laps(seq, kDistanceA, 4, "d1", 1);
  race_some_laps(seq, kDistanceA, 5, "e1", 1);
  EXPECT_TRUE(snapshot_property_holds(seq.events()));
}

TEST(SnapshotProperty, SecondDistanceAndDeactivation) {
  EventSequence seq;
  seq.competition_activated().distance_activated(kDistanceA).heat_activated(kDistanceA, 1, {"r1"});
  race_some_laps(seq, kDistanceA, 1, "r1", 2);
  seq.heat_committed(kDistanceA, 1).heat_event("HeatDeactivatedEvent", kDistanceA, 1);
  seq.distance_deactivated(kDistanceA).distance_activated(kDistanceB).heat_activated(kDistanceB, 1, {"s1"});
  race_some_laps(seq, kDistanceB, 1, "s1", 2);
  // Late events of the first distance change nothing.
  seq.heat_committed(kDistanceA, 1)
      .race_event("RaceLapAddedEvent", kDistanceA, 1, "r1", R"("lap":{"time":1})");
  seq.heat_committed(kDistanceB, 1).heat_committed(kDistanceB, 1, R"("races":[],"correction":true)");
  seq.distance_deactivated(kDistanceB);
  EXPECT_TRUE(snapshot_property_holds(seq.events()));
}

TEST(SnapshotProperty, UnknownTypesAndInactiveHeats) {
  EventSequence seq;
  seq.add(testing::make_event_json("CompetitionNoteEvent", "", 0, "", R"("note":"before activation")"));
  seq.competition_activated();
  seq.add(testing::make_event_json("CompetitionNoteEvent", "", 0, "", R"("note":"hello")"));
  seq.distance_activated(kDistanceA);
  seq.add(testing::make_event_json("DistanceWeatherChangedEvent", kDistanceA, 0, "", R"("t":-2)"));
  seq.heat_activated(kDistanceA, 1, {"r1"});
  seq.add(testing::make_event_json("HeatRefereeNoteEvent", kDistanceA, 1));
  seq.add(testing::make_event_json("RaceDisqualifiedEvent", kDistanceA, 1, "r1"));
  seq.race_event("RacePassingAddedEvent", kDistanceA, 9, "x", R"("passing":{})");  // a heat never shown
  seq.heat_event("HeatDeactivatedEvent", kDistanceA, 1).heat_activated(kDistanceA, 2, {"r2"});
  seq.race_event("RaceLapAddedEvent", kDistanceA, 1, "r1", R"("lap":{"time":5})");  // the replaced heat
  seq.add(testing::make_event_json("HeatRefereeNoteEvent", kDistanceA, 1));
  seq.competition_activated();  // a new activation starts afresh
  seq.add(testing::make_event_json("CompetitionNoteEvent", "", 0, "", R"("note":"after")"));
  EXPECT_TRUE(snapshot_property_holds(seq.events()));
}

// Races the activation does not list appear in the view by id, not in the order of their first event: a
// superseded first event is not in the snapshot (found by the fuzzer).
TEST(SnapshotProperty, RacesNotInTheActivationWhoseFirstEventIsSuperseded) {
  EventSequence seq;
  seq.competition_activated().distance_activated(kDistanceA).heat_activated(kDistanceA, 1, {"r1"});
  seq.race_event("LastRaceSpeedChangedEvent", kDistanceA, 1, "x2", R"("passing":{"speed":1})")
      .race_event("RacePassingAddedEvent", kDistanceA, 1, "x1", R"("passing":{"time":1})")
      .race_event("LastRaceSpeedChangedEvent", kDistanceA, 1, "x2", R"("passing":{"speed":2})");
  EXPECT_TRUE(snapshot_property_holds(seq.events()));
}

// A seeded random sequence over every rule.
EventSequence random_sequence(unsigned seed) {
  std::mt19937 random(seed);
  auto pick = [&](int n) { return static_cast<int>(random() % static_cast<unsigned>(n)); };
  EventSequence seq;
  std::vector<std::string> distances = {kDistanceA, kDistanceB};
  for (int step = 0; step < 120; ++step) {
    const std::string& distance = distances[pick(2)];
    const int heat = 1 + pick(4);
    const std::string race = "r" + std::to_string(heat) + "-" + std::to_string(pick(2));
    switch (pick(16)) {
      case 0:
        seq.competition_activated();
        break;
      case 1:
        seq.distance_activated(distance);
        break;
      case 2:
        seq.distance_deactivated(distance);
        break;
      case 3:
      case 4:
        seq.heat_activated(distance, heat,
                           {"r" + std::to_string(heat) + "-0", "r" + std::to_string(heat) + "-1"});
        break;
      case 5:
        seq.heat_event("HeatDeactivatedEvent", distance, heat);
        break;
      case 6:
        seq.heat_event("HeatClearedEvent", distance, heat);
        break;
      case 7:
        seq.heat_event("HeatStartedEvent", distance, heat);
        break;
      case 8:
        seq.heat_committed(distance, heat);
        break;
      case 9:
        seq.heat_event("HeatNextLapIndexChangedEvent", distance, heat, R"("index":)" + std::to_string(step));
        break;
      case 10:
        seq.race_event("RacePassingAddedEvent", distance, heat, race,
                       R"("passing":{"time":)" + std::to_string(step) + "}");
        break;
      case 11:
        seq.race_event("LastRaceSpeedChangedEvent", distance, heat, race,
                       R"("passing":{"speed":)" + std::to_string(step) + "}");
        break;
      case 12:
        seq.race_event("RaceLapAddedEvent", distance, heat, race,
                       R"("lap":{"time":)" + std::to_string(step) + "}");
        break;
      case 13:
        seq.race_event("LastPresentedRaceLapChangedEvent", distance, heat, race,
                       R"("lap":{"index":)" + std::to_string(step) + "}");
        break;
      case 14:
        seq.race_event("RaceNextLapIndexChangedEvent", distance, heat, race,
                       R"("index":)" + std::to_string(step));
        break;
      default: {
        const bool with_distance = pick(2) == 1;
        seq.add(testing::make_event_json("SomethingNewEvent", with_distance ? distance : "",
                                         with_distance && pick(2) ? heat : 0));
        break;
      }
    }
  }
  return seq;
}

TEST(SnapshotProperty, RandomSequences) {
  for (unsigned seed = 1; seed <= 300; ++seed) {
    ASSERT_TRUE(snapshot_property_holds(random_sequence(seed).events())) << "seed " << seed;
  }
}

// Re-activations in the middle of a heat, with competition-level events around them: the race stays and a
// late joiner (activation first, then what it kept) sees what a client that saw everything sees.
TEST(SnapshotProperty, CompetitionReactivatedMidHeat) {
  EventSequence seq;
  seq.competition_activated().distance_activated(kDistanceA).heat_activated(kDistanceA, 1, {"r1", "r2"});
  seq.add(testing::make_event_json("CompetitionNoteEvent", "", 0, "", R"("note":"one")"));
  race_some_laps(seq, kDistanceA, 1, "r1", 2);
  seq.competition_activated();
  seq.add(testing::make_event_json("CompetitionNoteEvent", "", 0, "", R"("note":"two")"));
  race_some_laps(seq, kDistanceA, 1, "r2", 2);
  seq.competition_activated().competition_activated();
  seq.heat_event("HeatDeactivatedEvent", kDistanceA, 1).heat_activated(kDistanceA, 2, {"r3"});
  race_some_laps(seq, kDistanceA, 2, "r3", 1);
  seq.competition_activated();
  EXPECT_TRUE(snapshot_property_holds(seq.events()));
}

}  // namespace
}  // namespace ovalstream::core
