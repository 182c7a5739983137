// One test per long-track rule: what the state retains (its snapshot) and what apply() reports.
#include <gtest/gtest.h>

#include <rapidjson/document.h>

#include "ovalstream/core/competition_state.hpp"
#include "support/event_builder.hpp"
#include "support/recording.hpp"
#include "support/skips.hpp"

namespace ovalstream::core {
namespace {

using testing::apply_range;
using testing::EventSequence;
using testing::kCompetition;
using testing::kDistanceA;
using testing::kDistanceB;
using testing::type_names;
using Names = std::vector<std::string>;

std::vector<Position> positions(const Snapshot& snapshot) {
  std::vector<Position> result;
  for (const auto& item : snapshot) result.push_back(item.position);
  return result;
}

CompetitionState state_of(const EventSequence& seq) {
  CompetitionState state = make_longtrack_state(kCompetition);
  apply_range(state, seq.events(), 0, seq.events().size());
  return state;
}

// A started heat with race r1: positions 1 competition, 2 distance, 3 heat activation.
EventSequence heat_in_progress() {
  EventSequence seq;
  seq.competition_activated().distance_activated(kDistanceA).heat_activated(kDistanceA, 1, {"r1", "r2"});
  return seq;
}

TEST(LongTrackRules, KeepsOnlyTheLatestCompetitionActivation) {
  EventSequence seq;
  seq.competition_activated().competition_activated().competition_activated();
  EXPECT_EQ(positions(*state_of(seq).snapshot()), (std::vector<Position>{3}));
}

// The original server re-followed the latest distance and heat activations after a competition activation:
// a re-activation replaces the competition-level state and keeps the race on screen.
TEST(LongTrackRules, CompetitionReactivationKeepsTheDistanceAndHeats) {
  EventSequence seq = heat_in_progress();
  seq.heat_event("HeatStartedEvent", kDistanceA, 1);
  seq.add(testing::make_event_json("CompetitionNoteEvent")).competition_activated();
  // The activation first (clients reset at one), then what it kept, in stream order.
  EXPECT_EQ(positions(*state_of(seq).snapshot()), (std::vector<Position>{6, 2, 3, 4}));
  seq.add(testing::make_event_json("CompetitionNoteEvent"));
  seq.race_event("RacePassingAddedEvent", kDistanceA, 1, "r1", R"("passing":{"time":1})");
  EXPECT_EQ(positions(*state_of(seq).snapshot()), (std::vector<Position>{6, 2, 3, 4, 7, 8}));
}

TEST(LongTrackRules, CompetitionReactivationDropsTheCompetitionLevelEventsBeforeIt) {
  EventSequence seq;
  seq.competition_activated().add(testing::make_event_json("CompetitionNoteEvent")).competition_activated();
  EXPECT_EQ(positions(*state_of(seq).snapshot()), (std::vector<Position>{3}));
}

TEST(LongTrackRules, CompetitionLevelEventsAfterTheActivationAreKept) {
  EventSequence seq;
  seq.competition_activated()
      .add(testing::make_event_json("CompetitionNoteEvent"))
      .add(testing::make_event_json("CompetitionNoteEvent"));
  EXPECT_EQ(positions(*state_of(seq).snapshot()), (std::vector<Position>{1, 2, 3}));
}

TEST(LongTrackRules, DistanceActivationStartsAFreshDistance) {
  EventSequence seq = heat_in_progress();
  seq.race_event("RaceLapAddedEvent", kDistanceA, 1, "r1", R"("lap":{"time":1})")
      .distance_activated(kDistanceB)
      .heat_committed(kDistanceA, 1);  // a result for the old distance: not shown
  const CompetitionState state = state_of(seq);
  EXPECT_EQ(positions(*state.snapshot()), (std::vector<Position>{1, 5}));
}

TEST(LongTrackRules, SameDistanceActivatedAgainStartsAfresh) {
  EventSequence seq = heat_in_progress();
  seq.distance_activated(kDistanceA);
  EXPECT_EQ(positions(*state_of(seq).snapshot()), (std::vector<Position>{1, 4}));
}

TEST(LongTrackRules, DistanceLevelEventsAreKeptAfterTheActivation) {
  EventSequence seq = heat_in_progress();
  seq.add(testing::make_event_json("DistanceWeatherEvent", kDistanceA)).distance_deactivated(kDistanceA);
  EXPECT_EQ(type_names(*state_of(seq).snapshot()),
            (Names{"CompetitionActivatedEvent", "DistanceActivatedEvent", "HeatActivatedEvent",
                   "DistanceWeatherEvent", "DistanceDeactivatedEvent"}));
}

TEST(LongTrackRules, EventsOfAnotherDistanceAreIgnored) {
  EventSequence seq = heat_in_progress();
  seq.distance_deactivated(kDistanceB).heat_activated(kDistanceB, 1, {"x"});
  CompetitionState state = make_longtrack_state(kCompetition);
  apply_range(state, seq.events(), 0, 3);
  EXPECT_EQ(state.apply(seq.events()[3].event, 4), ApplyResult::kIgnored);
  EXPECT_EQ(state.apply(seq.events()[4].event, 5), ApplyResult::kIgnored);
  EXPECT_EQ(positions(*state.snapshot()), (std::vector<Position>{1, 2, 3}));
}

TEST(LongTrackRules, HeatEventsWithoutADistanceAreIgnored) {
  EventSequence seq;
  seq.competition_activated().heat_activated(kDistanceA, 1, {"r1"});
  CompetitionState state = make_longtrack_state(kCompetition);
  apply_range(state, seq.events(), 0, 1);
  EXPECT_EQ(state.apply(seq.events()[1].event, 2), ApplyResult::kIgnored);
}

TEST(LongTrackRules, HeatCommittedKeepsTheLatestPerHeat) {
  EventSequence seq = heat_in_progress();
  seq.heat_committed(kDistanceA, 1).heat_committed(kDistanceA, 2).heat_committed(kDistanceA, 1);
  EXPECT_EQ(positions(*state_of(seq).snapshot()), (std::vector<Position>{1, 2, 3, 5, 6}));
}

TEST(LongTrackRules, EveryPassingAndLapIsKept) {
  EventSequence seq = heat_in_progress();
  for (int i = 0; i < 3; ++i) {
    seq.race_event("RacePassingAddedEvent", kDistanceA, 1, "r1", R"("passing":{})")
        .race_event("RaceLapAddedEvent", kDistanceA, 1, "r1", R"("lap":{"time":1})");
  }
  EXPECT_EQ(positions(*state_of(seq).snapshot()), (std::vector<Position>{1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

// Each superseded value keeps only its latest event, per race (or per heat), never across races.
class SupersededPerRace : public ::testing::TestWithParam<const char*> {};

TEST_P(SupersededPerRace, KeepsOnlyTheLatestPerRace) {
  EventSequence seq = heat_in_progress();
  seq.race_event(GetParam(), kDistanceA, 1, "r1", R"("index":1)")
      .race_event(GetParam(), kDistanceA, 1, "r2", R"("index":1)")
      .race_event(GetParam(), kDistanceA, 1, "r1", R"("index":2)")
      .race_event(GetParam(), kDistanceA, 1, "r1", R"("index":3)");
  EXPECT_EQ(positions(*state_of(seq).snapshot()), (std::vector<Position>{1, 2, 3, 5, 7}));
}

INSTANTIATE_TEST_SUITE_P(LongTrackRules, SupersededPerRace,
                         ::testing::Values("LastRaceSpeedChangedEvent", "LastPresentedRaceLapChangedEvent",
                                           "RaceNextLapIndexChangedEvent"));

TEST(LongTrackRules, HeatNextLapIndexKeepsOnlyTheLatestPerHeat) {
  EventSequence seq = heat_in_progress();
  seq.heat_activated(kDistanceA, 2, {"s1"})
      .heat_event("HeatNextLapIndexChangedEvent", kDistanceA, 1, R"("index":1)")
      .heat_event("HeatNextLapIndexChangedEvent", kDistanceA, 2, R"("index":1)")
      .heat_event("HeatNextLapIndexChangedEvent", kDistanceA, 1, R"("index":2)");
  EXPECT_EQ(positions(*state_of(seq).snapshot()), (std::vector<Position>{1, 2, 3, 4, 6, 7}));
}

TEST(LongTrackRules, HeatClearedDropsTheHeatsEarlierEventsAndIsKept) {
  EventSequence seq = heat_in_progress();
  seq.heat_event("HeatStartedEvent", kDistanceA, 1)
      .race_event("RacePassingAddedEvent", kDistanceA, 1, "r1", R"("passing":{})")
      .heat_event("HeatNextLapIndexChangedEvent", kDistanceA, 1, R"("index":1)")
      .heat_event("HeatClearedEvent", kDistanceA, 1)
      .heat_event("HeatStartedEvent", kDistanceA, 1);
  EXPECT_EQ(type_names(*state_of(seq).snapshot()),
            (Names{"CompetitionActivatedEvent", "DistanceActivatedEvent", "HeatActivatedEvent",
                   "HeatClearedEvent", "HeatStartedEvent"}));
}

TEST(LongTrackRules, HeatClearedKeepsOnlyTheLatestClear) {
  EventSequence seq = heat_in_progress();
  seq.heat_event("HeatClearedEvent", kDistanceA, 1).heat_event("HeatClearedEvent", kDistanceA, 1);
  EXPECT_EQ(positions(*state_of(seq).snapshot()), (std::vector<Position>{1, 2, 3, 5}));
}

TEST(LongTrackRules, HeatClearedKeepsADeactivation) {
  EventSequence seq = heat_in_progress();
  seq.heat_event("HeatDeactivatedEvent", kDistanceA, 1).heat_event("HeatClearedEvent", kDistanceA, 1);
  EXPECT_EQ(positions(*state_of(seq).snapshot()), (std::vector<Position>{1, 2, 3, 4, 5}));
}

TEST(LongTrackRules, HeatClearedOfAnotherHeatLeavesThisOneAlone) {
  EventSequence seq = heat_in_progress();
  seq.heat_activated(kDistanceA, 2, {"s1"})
      .race_event("RacePassingAddedEvent", kDistanceA, 1, "r1", R"("passing":{})")
      .heat_event("HeatClearedEvent", kDistanceA, 2);
  EXPECT_EQ(positions(*state_of(seq).snapshot()), (std::vector<Position>{1, 2, 3, 4, 5, 6}));
}

TEST(LongTrackRules, HeatReactivatedInPlaceDropsItsEarlierEvents) {
  EventSequence seq = heat_in_progress();
  seq.race_event("RacePassingAddedEvent", kDistanceA, 1, "r1", R"("passing":{})")
      .heat_activated(kDistanceA, 1, {"r1", "r2"})
      .race_event("RacePassingAddedEvent", kDistanceA, 1, "r1", R"("passing":{})");
  EXPECT_EQ(positions(*state_of(seq).snapshot()), (std::vector<Position>{1, 2, 5, 6}));
}

TEST(LongTrackRules, TwoHeatsRunAtOnce) {
  EventSequence seq = heat_in_progress();
  seq.heat_activated(kDistanceA, 2, {"s1"})
      .race_event("RacePassingAddedEvent", kDistanceA, 1, "r1", R"("passing":{})")
      .race_event("RacePassingAddedEvent", kDistanceA, 2, "s1", R"("passing":{})");
  EXPECT_EQ(positions(*state_of(seq).snapshot()), (std::vector<Position>{1, 2, 3, 4, 5, 6}));
}

TEST(LongTrackRules, ADeactivatedHeatStaysShownUntilTheNextActivation) {
  EventSequence seq = heat_in_progress();
  seq.race_event("RaceLapAddedEvent", kDistanceA, 1, "r1", R"("lap":{"time":1})")
      .heat_event("HeatDeactivatedEvent", kDistanceA, 1)
      .race_event("RaceLapAddedEvent", kDistanceA, 1, "r1", R"("lap":{"time":2})");
  CompetitionState state = state_of(seq);
  EXPECT_EQ(positions(*state.snapshot()), (std::vector<Position>{1, 2, 3, 4, 5, 6}));
  seq.heat_activated(kDistanceA, 2, {"s1"});
  EXPECT_EQ(state.apply(seq.events().back().event, 7), ApplyResult::kApplied);
  EXPECT_EQ(positions(*state.snapshot()), (std::vector<Position>{1, 2, 7}));
}

TEST(LongTrackRules, ANewHeatRemovesEveryDeactivatedHeatButNoActiveOne) {
  EventSequence seq = heat_in_progress();
  seq.heat_activated(kDistanceA, 2, {"s1"})
      .heat_activated(kDistanceA, 3, {"t1"})
      .heat_event("HeatDeactivatedEvent", kDistanceA, 1)
      .heat_event("HeatDeactivatedEvent", kDistanceA, 3)
      .heat_activated(kDistanceA, 4, {"u1"});
  EXPECT_EQ(positions(*state_of(seq).snapshot()), (std::vector<Position>{1, 2, 4, 8}));
}

TEST(LongTrackRules, EventsOfHeatsNotShownAreIgnored) {
  EventSequence seq = heat_in_progress();
  seq.heat_event("HeatDeactivatedEvent", kDistanceA, 1).heat_activated(kDistanceA, 2, {"s1"});
  CompetitionState state = state_of(seq);
  const auto before = positions(*state.snapshot());
  seq.race_event("RaceLapAddedEvent", kDistanceA, 1, "r1", R"("lap":{"time":1})")
      .heat_event("HeatStartedEvent", kDistanceA, 7)
      .heat_event("HeatClearedEvent", kDistanceA, 1)
      .heat_event("HeatDeactivatedEvent", kDistanceA, 1);
  for (std::size_t i = 5; i < seq.events().size(); ++i) {
    EXPECT_EQ(state.apply(seq.events()[i].event, seq.events()[i].position), ApplyResult::kIgnored);
  }
  EXPECT_EQ(positions(*state.snapshot()), before);
}

TEST(LongTrackRules, UnknownEventsBelongToTheMostSpecificLevel) {
  EventSequence seq = heat_in_progress();
  seq.add(testing::make_event_json("NewCompetitionThingEvent"))
      .add(testing::make_event_json("NewDistanceThingEvent", kDistanceA))
      .add(testing::make_event_json("NewHeatThingEvent", kDistanceA, 1))
      .add(testing::make_event_json("NewRaceThingEvent", kDistanceA, 1, "r1"));
  EXPECT_EQ(positions(*state_of(seq).snapshot()), (std::vector<Position>{1, 2, 3, 4, 5, 6, 7}));
  // A clear of the heat drops its unknown heat and race events, not the distance's or competition's.
  seq.heat_event("HeatClearedEvent", kDistanceA, 1);
  EXPECT_EQ(positions(*state_of(seq).snapshot()), (std::vector<Position>{1, 2, 3, 4, 5, 8}));
}

TEST(CompetitionState, RejectsDuplicatesAndOtherCompetitions) {
  EventSequence seq = heat_in_progress();
  CompetitionState state = make_longtrack_state(kCompetition);
  EXPECT_EQ(state.last_position(), 0u);
  EXPECT_EQ(state.apply(seq.events()[1].event, 10), ApplyResult::kApplied);
  EXPECT_EQ(state.apply(seq.events()[2].event, 10), ApplyResult::kDuplicate);
  EXPECT_EQ(state.apply(seq.events()[2].event, 9), ApplyResult::kDuplicate);
  EXPECT_EQ(state.last_position(), 10u);
  // One order for every level: a competition-level event before the last position is a duplicate too.
  EXPECT_EQ(state.apply(seq.events()[0].event, 5), ApplyResult::kDuplicate);
  EXPECT_EQ(state.last_position(), 10u);
  const auto other =
      parse_event(testing::make_event_json("CompetitionActivatedEvent", "", 0, "", "", "other"));
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(state.apply(*other, 11), ApplyResult::kWrongCompetition);
  EXPECT_EQ(state.last_position(), 10u);
  EXPECT_EQ(state.apply(seq.events()[2].event, 12), ApplyResult::kApplied);
}

TEST(CompetitionState, SnapshotIsCachedUntilTheViewChanges) {
  EventSequence seq = heat_in_progress();
  seq.heat_activated(kDistanceB, 1, {"x"});  // ignored: another distance
  CompetitionState state = make_longtrack_state(kCompetition);
  apply_range(state, seq.events(), 0, 3);
  const SharedSnapshot first = state.snapshot();
  EXPECT_EQ(state.snapshot().get(), first.get());
  state.apply(seq.events()[3].event, 4);
  EXPECT_EQ(state.snapshot().get(), first.get()) << "an ignored event must not invalidate the snapshot";
  seq.heat_event("HeatStartedEvent", kDistanceA, 1);
  state.apply(seq.events()[4].event, 5);
  EXPECT_NE(state.snapshot().get(), first.get());
  EXPECT_EQ(first->size(), 3u) << "a snapshot handed out never changes";
}

TEST(CompetitionState, VersionCountsTheAppliedEventsOnly) {
  EventSequence seq = heat_in_progress();
  seq.heat_activated(kDistanceB, 1, {"x"});  // ignored: another distance
  CompetitionState state = make_longtrack_state(kCompetition);
  EXPECT_EQ(state.version(), 0u);
  apply_range(state, seq.events(), 0, 3);
  EXPECT_EQ(state.version(), 3u);
  state.apply(seq.events()[3].event, 4);
  EXPECT_EQ(state.version(), 3u);
  state.apply(seq.events()[2].event, 4);  // a duplicate
  EXPECT_EQ(state.version(), 3u);
}

// The JSON state view of the real recording at its end: the team pursuit heat, both teams, their laps.
TEST(StateView, RealRecordingShowsTheCommittedHeat) {
  const auto events = testing::load_recording(testing::kRealRecordingName);
  SKIP_WITHOUT_RECORDING(events);
  CompetitionState state = make_longtrack_state(events->front().event.header.competition_id);
  apply_range(state, *events, 0, events->size());
  rapidjson::Document view;
  view.Parse(state.state_view_json().c_str());
  ASSERT_FALSE(view.HasParseError());
  EXPECT_STREQ(view["competition"]["name"].GetString(),
               "ISU European Single Distances Speed Skating Championships 2020");
  const auto& distance = view["distance"];
  EXPECT_STREQ(distance["name"].GetString(), "Men Team Pursuit");
  ASSERT_EQ(distance["committedHeats"].Size(), 1u);
  ASSERT_EQ(distance["heats"].Size(), 1u);
  const auto& heat = distance["heats"][0];
  EXPECT_EQ(heat["number"].GetInt(), 3);
  EXPECT_FALSE(heat["active"].GetBool());
  EXPECT_TRUE(heat["committed"].GetBool());
  ASSERT_EQ(heat["races"].Size(), 2u);
  // Every RaceLapAddedEvent is a lap (transponder and photo-finish laps alike): 19 for Russia, 18 for Italy.
  EXPECT_STREQ(heat["races"][0]["competitor"]["nationalityCode"].GetString(), "RUS");
  EXPECT_STREQ(heat["races"][1]["competitor"]["nationalityCode"].GetString(), "ITA");
  EXPECT_EQ(heat["races"][0]["laps"].Size(), 19u);
  EXPECT_EQ(heat["races"][1]["laps"].Size(), 18u);
  EXPECT_EQ(heat["races"][0]["laps"][0]["time"].GetInt64(), 181133000);
  EXPECT_EQ(heat["races"][0]["laps"][1]["lapTime"].GetInt64(), 313913000 - 181133000);
  EXPECT_EQ(heat["races"][0]["lane"].GetInt(), 1);
  EXPECT_TRUE(heat["races"][0]["lastSpeed"].IsNumber());
  EXPECT_EQ(distance["committedHeats"][0]["races"][0]["time"]["time"].GetInt64(), 2224820000);
}

TEST(StateView, EmptyStateIsValidJson) {
  const CompetitionState state = make_longtrack_state(kCompetition);
  EXPECT_EQ(state.state_view_json(), R"({"competition":null,"competitionEvents":0,"distance":null})");
}

}  // namespace
}  // namespace ovalstream::core
