// Subjects: subject_for() for every event type and level, parse_subject() as its inverse, and the
// HeatGroupAssigner that picks the heats.activations.{group} subject.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ovalstream/core/event.hpp"
#include "ovalstream/core/event_type.hpp"
#include "ovalstream/core/subject.hpp"
#include "support/recording.hpp"
#include "support/skips.hpp"

namespace ovalstream::core {
namespace {

RoutingHeader make_header(EventType type, std::string competition_id,
                          std::optional<std::string> distance_id = std::nullopt,
                          std::optional<HeatKey> heat = std::nullopt,
                          std::optional<std::string> race_id = std::nullopt) {
  RoutingHeader header;
  header.type = type;
  header.type_name = std::string(type == EventType::kUnknown ? "SomeNewEvent" : event_type_name(type));
  header.competition_id = std::move(competition_id);
  header.distance_id = std::move(distance_id);
  header.heat = heat;
  header.race_id = std::move(race_id);
  return header;
}

RoutingHeader competition_event(EventType type, std::string cid = "C") {
  return make_header(type, cid);
}
RoutingHeader distance_event(EventType type, std::string did = "D", std::string cid = "C") {
  return make_header(type, cid, did);
}
RoutingHeader heat_event(EventType type, HeatKey heat = {1, 3}, std::string did = "D",
                         std::string cid = "C") {
  return make_header(type, cid, did, heat,
                     required_ids(type).race ? std::optional<std::string>("R") : std::nullopt);
}

using OptString = std::optional<std::string>;

// ---------------------------------------------------------------------------------------------------------
// subject_for

TEST(SubjectFor, CompetitionActivated) {
  EXPECT_EQ(subject_for(competition_event(EventType::kCompetitionActivated)),
            OptString("competition.activations"));
  EXPECT_EQ(subject_for(competition_event(EventType::kCompetitionActivated, "other")),
            OptString("competition.activations"));
}

TEST(SubjectFor, UnknownCompetitionLevel) {
  EXPECT_EQ(subject_for(competition_event(EventType::kUnknown)), OptString("competition.C"));
  EXPECT_EQ(subject_for(competition_event(EventType::kUnknown, "30913459-50b1-4df7-8e1b-a078472f9e9b")),
            OptString("competition.30913459-50b1-4df7-8e1b-a078472f9e9b"));
  // A race id alone does not make an event more specific.
  EXPECT_EQ(subject_for(make_header(EventType::kUnknown, "C", std::nullopt, std::nullopt, "R")),
            OptString("competition.C"));
}

TEST(SubjectFor, DistanceActivated) {
  EXPECT_EQ(subject_for(distance_event(EventType::kDistanceActivated)),
            OptString("competition.C.distances.activations"));
  EXPECT_EQ(subject_for(distance_event(EventType::kDistanceActivated, "D2", "C2")),
            OptString("competition.C2.distances.activations"));
}

TEST(SubjectFor, DistanceLevelEvents) {
  EXPECT_EQ(subject_for(distance_event(EventType::kDistanceDeactivated)),
            OptString("competition.C.distances.D"));
  EXPECT_EQ(subject_for(distance_event(EventType::kUnknown)), OptString("competition.C.distances.D"));
  EXPECT_EQ(subject_for(distance_event(EventType::kUnknown, "D2", "C2")),
            OptString("competition.C2.distances.D2"));
}

TEST(SubjectFor, HeatActivatedUsesTheGroup) {
  const RoutingHeader header = heat_event(EventType::kHeatActivated);
  EXPECT_EQ(subject_for(header), OptString("competition.C.distances.D.heats.activations.0"));
  EXPECT_EQ(subject_for(header, 0), OptString("competition.C.distances.D.heats.activations.0"));
  EXPECT_EQ(subject_for(header, 1), OptString("competition.C.distances.D.heats.activations.1"));
  EXPECT_EQ(subject_for(header, 12), OptString("competition.C.distances.D.heats.activations.12"));
  // The heat itself does not appear.
  EXPECT_EQ(subject_for(heat_event(EventType::kHeatActivated, {2, 7}), 1),
            OptString("competition.C.distances.D.heats.activations.1"));
}

TEST(SubjectFor, EveryHeatLevelTypeUsesRoundAndNumber) {
  for (const EventType type :
       {EventType::kHeatCleared, EventType::kHeatStarted, EventType::kRacePassingAdded,
        EventType::kLastRaceSpeedChanged, EventType::kRaceLapAdded, EventType::kLastPresentedRaceLapChanged,
        EventType::kRaceNextLapIndexChanged, EventType::kHeatNextLapIndexChanged, EventType::kHeatDeactivated,
        EventType::kUnknown}) {
    SCOPED_TRACE(static_cast<int>(type));
    EXPECT_EQ(subject_for(heat_event(type)), OptString("competition.C.distances.D.heats.1.3"));
    // The group is only for HeatActivatedEvent.
    EXPECT_EQ(subject_for(heat_event(type), 1), OptString("competition.C.distances.D.heats.1.3"));
    EXPECT_EQ(subject_for(heat_event(type, {2, 14}, "D9", "C9")),
              OptString("competition.C9.distances.D9.heats.2.14"));
  }
}

TEST(SubjectFor, HeatCommittedIsDistanceLevel) {
  const RoutingHeader header = heat_event(EventType::kHeatCommitted);
  EXPECT_EQ(header.level(), Level::kHeat);
  EXPECT_EQ(routing_level(header), Level::kDistance);
  EXPECT_EQ(subject_for(header), OptString("competition.C.distances.D"));
  EXPECT_EQ(subject_for(header, 1), OptString("competition.C.distances.D"));
}

TEST(SubjectFor, RoutingLevelFollowsTheIdsForOtherTypes) {
  EXPECT_EQ(routing_level(competition_event(EventType::kCompetitionActivated)), Level::kCompetition);
  EXPECT_EQ(routing_level(competition_event(EventType::kUnknown)), Level::kCompetition);
  EXPECT_EQ(routing_level(distance_event(EventType::kDistanceActivated)), Level::kDistance);
  EXPECT_EQ(routing_level(distance_event(EventType::kUnknown)), Level::kDistance);
  EXPECT_EQ(routing_level(heat_event(EventType::kHeatActivated)), Level::kHeat);
  EXPECT_EQ(routing_level(heat_event(EventType::kHeatDeactivated)), Level::kHeat);
  EXPECT_EQ(routing_level(heat_event(EventType::kRacePassingAdded)), Level::kHeat);
  EXPECT_EQ(routing_level(heat_event(EventType::kUnknown)), Level::kHeat);
}

TEST(SubjectFor, HeatNumbersAreWrittenInDecimal) {
  EXPECT_EQ(subject_for(heat_event(EventType::kHeatStarted, {0, 0})),
            OptString("competition.C.distances.D.heats.0.0"));
  EXPECT_EQ(subject_for(heat_event(EventType::kHeatStarted, {10, 123456789012})),
            OptString("competition.C.distances.D.heats.10.123456789012"));
}

const std::vector<std::string>& bad_tokens() {
  static const std::vector<std::string> kTokens = {"",
                                                   ".",
                                                   "a.b",
                                                   "a.",
                                                   ".a",
                                                   "*",
                                                   "a*",
                                                   ">",
                                                   "a>b",
                                                   " ",
                                                   "a b",
                                                   " a",
                                                   "a ",
                                                   "a\tb",
                                                   "a\nb",
                                                   "a\rb",
                                                   std::string("a\0b", 3)};
  return kTokens;
}

TEST(SubjectFor, BadCompetitionIdGivesNullopt) {
  for (const auto& token : bad_tokens()) {
    SCOPED_TRACE("competition id '" + token + "'");
    EXPECT_EQ(subject_for(competition_event(EventType::kUnknown, token)), std::nullopt);
    EXPECT_EQ(subject_for(distance_event(EventType::kDistanceActivated, "D", token)), std::nullopt);
    EXPECT_EQ(subject_for(distance_event(EventType::kDistanceDeactivated, "D", token)), std::nullopt);
    EXPECT_EQ(subject_for(heat_event(EventType::kHeatActivated, {1, 3}, "D", token)), std::nullopt);
    EXPECT_EQ(subject_for(heat_event(EventType::kHeatStarted, {1, 3}, "D", token)), std::nullopt);
    EXPECT_EQ(subject_for(heat_event(EventType::kHeatCommitted, {1, 3}, "D", token)), std::nullopt);
  }
}

TEST(SubjectFor, BadDistanceIdGivesNullopt) {
  for (const auto& token : bad_tokens()) {
    SCOPED_TRACE("distance id '" + token + "'");
    EXPECT_EQ(subject_for(distance_event(EventType::kDistanceDeactivated, token)), std::nullopt);
    EXPECT_EQ(subject_for(distance_event(EventType::kUnknown, token)), std::nullopt);
    EXPECT_EQ(subject_for(heat_event(EventType::kHeatActivated, {1, 3}, token)), std::nullopt);
    EXPECT_EQ(subject_for(heat_event(EventType::kRaceLapAdded, {1, 3}, token)), std::nullopt);
    EXPECT_EQ(subject_for(heat_event(EventType::kHeatCommitted, {1, 3}, token)), std::nullopt);
  }
}

TEST(SubjectFor, RaceIdIsNotPartOfTheSubject) {
  // Only competition, distance and heat appear: any race id is fine.
  RoutingHeader header = heat_event(EventType::kRacePassingAdded);
  header.race_id = "a.b *>";
  EXPECT_EQ(subject_for(header), OptString("competition.C.distances.D.heats.1.3"));
}

TEST(SubjectToken, AcceptsOrdinaryIds) {
  for (const std::string_view token :
       {"C", "30913459-50b1-4df7-8e1b-a078472f9e9b", "a_b-c", "activations", "123", "-1", "caf\xc3\xa9"}) {
    EXPECT_TRUE(is_subject_token(token)) << token;
  }
}

TEST(SubjectToken, RejectsSeparatorsWildcardsWhitespaceAndEmpty) {
  for (const auto& token : bad_tokens()) {
    EXPECT_FALSE(is_subject_token(token)) << "'" << token << "'";
  }
}

// Form feed is whitespace to nats-server (sublist.go isValidSubject rejects "\t\n\f\r "), so an id holding
// one cannot be published.
TEST(SubjectToken, FormFeedIsWhitespace) {
  EXPECT_FALSE(is_subject_token("a\fb"));
  EXPECT_FALSE(is_subject_token("\f"));
  EXPECT_EQ(subject_for(competition_event(EventType::kUnknown, "a\fb")), std::nullopt);
  EXPECT_EQ(subject_for(distance_event(EventType::kDistanceDeactivated, "d\f1")), std::nullopt);
  EXPECT_EQ(parse_subject("competition.a\fb"), std::nullopt);
}

// ---------------------------------------------------------------------------------------------------------
// parse_subject

TEST(ParseSubject, CompetitionActivations) {
  const auto info = parse_subject("competition.activations");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->level, Level::kCompetition);
  EXPECT_TRUE(info->activations);
  EXPECT_FALSE(info->competition_id.has_value());
  EXPECT_FALSE(info->distance_id.has_value());
  EXPECT_FALSE(info->heat.has_value());
  EXPECT_FALSE(info->heat_group.has_value());
}

TEST(ParseSubject, Competition) {
  const auto info = parse_subject("competition.C1");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->level, Level::kCompetition);
  EXPECT_FALSE(info->activations);
  EXPECT_EQ(info->competition_id, OptString("C1"));
  EXPECT_FALSE(info->distance_id.has_value());
  EXPECT_FALSE(info->heat.has_value());
  EXPECT_FALSE(info->heat_group.has_value());
}

TEST(ParseSubject, DistanceActivations) {
  const auto info = parse_subject("competition.C1.distances.activations");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->level, Level::kDistance);
  EXPECT_TRUE(info->activations);
  EXPECT_EQ(info->competition_id, OptString("C1"));
  EXPECT_FALSE(info->distance_id.has_value());
  EXPECT_FALSE(info->heat.has_value());
  EXPECT_FALSE(info->heat_group.has_value());
}

TEST(ParseSubject, Distance) {
  const auto info = parse_subject("competition.C1.distances.D1");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->level, Level::kDistance);
  EXPECT_FALSE(info->activations);
  EXPECT_EQ(info->competition_id, OptString("C1"));
  EXPECT_EQ(info->distance_id, OptString("D1"));
  EXPECT_FALSE(info->heat.has_value());
  EXPECT_FALSE(info->heat_group.has_value());
}

TEST(ParseSubject, HeatActivations) {
  const auto info = parse_subject("competition.C1.distances.D1.heats.activations.1");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->level, Level::kHeat);
  EXPECT_TRUE(info->activations);
  EXPECT_EQ(info->competition_id, OptString("C1"));
  EXPECT_EQ(info->distance_id, OptString("D1"));
  EXPECT_FALSE(info->heat.has_value());
  EXPECT_EQ(info->heat_group, std::optional<int>(1));

  const auto zero = parse_subject("competition.C1.distances.D1.heats.activations.0");
  ASSERT_TRUE(zero.has_value());
  EXPECT_EQ(zero->heat_group, std::optional<int>(0));
}

TEST(ParseSubject, Heat) {
  const auto info = parse_subject("competition.C1.distances.D1.heats.1.3");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->level, Level::kHeat);
  EXPECT_FALSE(info->activations);
  EXPECT_EQ(info->competition_id, OptString("C1"));
  EXPECT_EQ(info->distance_id, OptString("D1"));
  EXPECT_EQ(info->heat, (std::optional<HeatKey>(HeatKey{1, 3})));
  EXPECT_FALSE(info->heat_group.has_value());

  const auto big = parse_subject("competition.C1.distances.D1.heats.12.9223372036854775807");
  ASSERT_TRUE(big.has_value());
  EXPECT_EQ(big->heat, (std::optional<HeatKey>(HeatKey{12, 9223372036854775807})));
}

TEST(ParseSubject, RejectsMalformedSubjects) {
  for (const std::string_view subject : {
           "",
           "competition",
           "competition.",
           ".competition.C",
           "competitions.C",
           "Competition.C",
           "other.C",
           "competitionC",
           "competition..C",
           "competition.C.",
           "competition.*",
           "competition.>",
           "competition.C.extra",
           "competition.activations.extra",
           "competition.C.distance.D",
           "competition.C.distances",
           "competition.C.distances.",
           "competition.C.distances.*",
           "competition.C.distances.D.extra",
           "competition.C.distances.D.heat.1.3",
           "competition.C.distances.D.heats",
           "competition.C.distances.D.heats.1",
           "competition.C.distances.D.heats.1.3.4",
           "competition.C.distances.D.heats.1.3.extra",
           "competition.C.distances.D.heats.x.3",
           "competition.C.distances.D.heats.1.y",
           "competition.C.distances.D.heats.1x.3",
           "competition.C.distances.D.heats.1.3y",
           "competition.C.distances.D.heats.+1.3",
           "competition.C.distances.D.heats.1.5e0",
           "competition.C.distances.D.heats.1.0x3",
           "competition.C.distances.D.heats.1.99999999999999999999",
           "competition.C.distances.D.heats.*.3",
           "competition.C.distances.D.heats.1.>",
           "competition.C.distances.D.heats.1. 3",
           "competition.C.distances.D.heats.activations",
           "competition.C.distances.D.heats.activations.",
           "competition.C.distances.D.heats.activations.-1",
           "competition.C.distances.D.heats.activations.x",
           "competition.C.distances.D.heats.activations.1.2",
           "competition.C.distances.D.heats.activations.99999999999",
           "competition.C D",
           "competition.C.distances.D\t",
       }) {
    EXPECT_EQ(parse_subject(subject), std::nullopt) << "'" << subject << "'";
  }
}

TEST(ParseSubject, CustomRoot) {
  // `root` replaces "competition": the scheme's tokens follow it.
  const auto info = parse_subject("replay.x.competition.C1.distances.D1.heats.1.3", "replay.x.competition");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->level, Level::kHeat);
  EXPECT_EQ(info->competition_id, OptString("C1"));
  EXPECT_EQ(info->distance_id, OptString("D1"));
  EXPECT_EQ(info->heat, (std::optional<HeatKey>(HeatKey{1, 3})));

  const auto activations = parse_subject("replay.x.competition.activations", "replay.x.competition");
  ASSERT_TRUE(activations.has_value());
  EXPECT_TRUE(activations->activations);
  EXPECT_EQ(activations->level, Level::kCompetition);

  const auto short_root = parse_subject("replay.C1.distances.D1", "replay");
  ASSERT_TRUE(short_root.has_value());
  EXPECT_EQ(short_root->competition_id, OptString("C1"));
  EXPECT_EQ(short_root->distance_id, OptString("D1"));

  // The default root does not accept the prefixed subject, and the custom root needs its prefix.
  EXPECT_EQ(parse_subject("replay.x.competition.C1"), std::nullopt);
  EXPECT_EQ(parse_subject("competition.C1", "replay.x.competition"), std::nullopt);
  EXPECT_EQ(parse_subject("replay.x.competition", "replay.x.competition"), std::nullopt);
  EXPECT_EQ(parse_subject("replay.x.competition.", "replay.x.competition"), std::nullopt);
  EXPECT_EQ(parse_subject("replay.x.competitionC1", "replay.x.competition"), std::nullopt);
  EXPECT_EQ(parse_subject("replay.y.competition.C1", "replay.x.competition"), std::nullopt);
  EXPECT_EQ(parse_subject("replay.x.competition.C1.extra", "replay.x.competition"), std::nullopt);
}

TEST(ParseSubject, EmptyRootMeansNoPrefix) {
  const auto info = parse_subject("C1.distances.D1", "");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->level, Level::kDistance);
  EXPECT_EQ(info->competition_id, OptString("C1"));
  EXPECT_EQ(info->distance_id, OptString("D1"));

  const auto activations = parse_subject("activations", "");
  ASSERT_TRUE(activations.has_value());
  EXPECT_TRUE(activations->activations);

  EXPECT_EQ(parse_subject("", ""), std::nullopt);
  EXPECT_EQ(parse_subject(".C1", ""), std::nullopt);
}

// Checks that `info` is what parse_subject must give for the subject of `header`.
void expect_info_names(const SubjectInfo& info, const RoutingHeader& header, int group) {
  EXPECT_EQ(info.level, routing_level(header));
  const bool activations = header.type == EventType::kCompetitionActivated ||
                           header.type == EventType::kDistanceActivated ||
                           header.type == EventType::kHeatActivated;
  EXPECT_EQ(info.activations, activations);
  if (header.type == EventType::kCompetitionActivated) {
    EXPECT_FALSE(info.competition_id.has_value());
  } else {
    EXPECT_EQ(info.competition_id, OptString(header.competition_id));
  }
  if (info.level == Level::kCompetition || header.type == EventType::kDistanceActivated) {
    EXPECT_FALSE(info.distance_id.has_value());
  } else {
    EXPECT_EQ(info.distance_id, header.distance_id);
  }
  if (header.type == EventType::kHeatActivated) {
    EXPECT_EQ(info.heat_group, std::optional<int>(group));
    EXPECT_FALSE(info.heat.has_value());
  } else if (info.level == Level::kHeat) {
    EXPECT_EQ(info.heat, header.heat);
    EXPECT_FALSE(info.heat_group.has_value());
  } else {
    EXPECT_FALSE(info.heat.has_value());
    EXPECT_FALSE(info.heat_group.has_value());
  }
}

std::vector<RoutingHeader> headers_of_every_shape() {
  std::vector<RoutingHeader> headers;
  for (int i = 1; i < kEventTypeCount; ++i) {
    const auto type = static_cast<EventType>(i);
    const RequiredIds required = required_ids(type);
    if (required.heat) {
      headers.push_back(heat_event(type, {1, 3}));
      headers.push_back(heat_event(type, {2, 14}, "240faddd-31cf-4292-a63c-d6e5b38ef3e6",
                                   "30913459-50b1-4df7-8e1b-a078472f9e9b"));
    } else if (required.distance) {
      headers.push_back(distance_event(type));
      headers.push_back(distance_event(type, "d_2", "c-2"));
    } else {
      headers.push_back(competition_event(type));
    }
  }
  headers.push_back(competition_event(EventType::kUnknown, "c-9"));
  headers.push_back(distance_event(EventType::kUnknown, "D-3"));
  headers.push_back(heat_event(EventType::kUnknown, {0, 0}));
  headers.push_back(heat_event(EventType::kUnknown, {-1, 3}));
  return headers;
}

TEST(ParseSubject, RoundTripsEverySubjectOfSubjectFor) {
  for (const RoutingHeader& header : headers_of_every_shape()) {
    for (const int group : {0, 1, 7}) {
      const auto subject = subject_for(header, group);
      ASSERT_TRUE(subject.has_value()) << header.type_name;
      SCOPED_TRACE(*subject);
      const auto info = parse_subject(*subject);
      ASSERT_TRUE(info.has_value());
      expect_info_names(*info, header, group);

      // The same under a replay prefix.
      const auto prefixed = parse_subject("replay.run1." + *subject, "replay.run1.competition");
      ASSERT_TRUE(prefixed.has_value());
      expect_info_names(*prefixed, header, group);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// HeatGroupAssigner

RoutingHeader activated(HeatKey heat, std::string did = "D", std::string cid = "C") {
  return heat_event(EventType::kHeatActivated, heat, std::move(did), std::move(cid));
}
RoutingHeader deactivated(HeatKey heat, std::string did = "D", std::string cid = "C") {
  return heat_event(EventType::kHeatDeactivated, heat, std::move(did), std::move(cid));
}

constexpr HeatKey kHeat1{1, 1};
constexpr HeatKey kHeat2{1, 2};
constexpr HeatKey kHeat3{1, 3};
constexpr HeatKey kHeat4{1, 4};

TEST(HeatGroupAssigner, SingleHeatGetsGroupZero) {
  HeatGroupAssigner assigner;
  EXPECT_EQ(assigner.observe(activated(kHeat1)), 0);
}

TEST(HeatGroupAssigner, SecondConcurrentHeatGetsGroupOne) {
  HeatGroupAssigner assigner;
  EXPECT_EQ(assigner.observe(activated(kHeat1)), 0);
  EXPECT_EQ(assigner.observe(activated(kHeat2)), 1);
  EXPECT_EQ(assigner.observe(activated(kHeat3)), 2);
}

TEST(HeatGroupAssigner, RoundIsPartOfTheHeat) {
  HeatGroupAssigner assigner;
  EXPECT_EQ(assigner.observe(activated({1, 3})), 0);
  EXPECT_EQ(assigner.observe(activated({2, 3})), 1);
}

TEST(HeatGroupAssigner, ReactivatedHeatKeepsItsGroup) {
  HeatGroupAssigner assigner;
  EXPECT_EQ(assigner.observe(activated(kHeat1)), 0);
  EXPECT_EQ(assigner.observe(activated(kHeat2)), 1);
  EXPECT_EQ(assigner.observe(activated(kHeat2)), 1);
  EXPECT_EQ(assigner.observe(activated(kHeat1)), 0);
  EXPECT_EQ(assigner.observe(activated(kHeat2)), 1);
  EXPECT_EQ(assigner.observe(activated(kHeat3)), 2);
}

TEST(HeatGroupAssigner, ReactivatedHeatKeepsItsGroupAfterAnotherHeatLeaves) {
  HeatGroupAssigner assigner;
  EXPECT_EQ(assigner.observe(activated(kHeat1)), 0);
  EXPECT_EQ(assigner.observe(activated(kHeat2)), 1);
  assigner.observe(deactivated(kHeat1));
  // Group 0 is free now, but heat 2 still holds group 1.
  EXPECT_EQ(assigner.observe(activated(kHeat2)), 1);
}

TEST(HeatGroupAssigner, DeactivationFreesTheLowestGroupForReuse) {
  HeatGroupAssigner assigner;
  EXPECT_EQ(assigner.observe(activated(kHeat1)), 0);
  EXPECT_EQ(assigner.observe(activated(kHeat2)), 1);
  assigner.observe(deactivated(kHeat1));
  EXPECT_EQ(assigner.observe(activated(kHeat3)), 0);
  EXPECT_EQ(assigner.observe(activated(kHeat4)), 2);
  assigner.observe(deactivated(kHeat2));
  assigner.observe(deactivated(kHeat3));
  EXPECT_EQ(assigner.observe(activated(kHeat1)), 0);
  EXPECT_EQ(assigner.observe(activated(kHeat2)), 1);
}

TEST(HeatGroupAssigner, DeactivatedHeatStartsAfreshWhenReactivated) {
  HeatGroupAssigner assigner;
  EXPECT_EQ(assigner.observe(activated(kHeat1)), 0);
  EXPECT_EQ(assigner.observe(activated(kHeat2)), 1);
  assigner.observe(deactivated(kHeat2));
  assigner.observe(deactivated(kHeat1));
  EXPECT_EQ(assigner.observe(activated(kHeat2)), 0);
}

TEST(HeatGroupAssigner, DeactivatingAnInactiveHeatChangesNothing) {
  HeatGroupAssigner assigner;
  EXPECT_EQ(assigner.observe(activated(kHeat1)), 0);
  assigner.observe(deactivated(kHeat3));
  assigner.observe(deactivated(kHeat1, "OtherDistance"));
  assigner.observe(deactivated(kHeat1, "D", "OtherCompetition"));
  EXPECT_EQ(assigner.observe(activated(kHeat2)), 1);
  EXPECT_EQ(assigner.observe(activated(kHeat1)), 0);
}

TEST(HeatGroupAssigner, OtherEventsDoNotTakeOrFreeGroups) {
  HeatGroupAssigner assigner;
  EXPECT_EQ(assigner.observe(activated(kHeat1)), 0);
  for (const EventType type :
       {EventType::kHeatStarted, EventType::kHeatCleared, EventType::kRacePassingAdded,
        EventType::kLastRaceSpeedChanged, EventType::kRaceLapAdded, EventType::kLastPresentedRaceLapChanged,
        EventType::kRaceNextLapIndexChanged, EventType::kHeatNextLapIndexChanged, EventType::kHeatCommitted,
        EventType::kUnknown}) {
    SCOPED_TRACE(static_cast<int>(type));
    // Events of the active heat and of a heat that was never activated.
    EXPECT_EQ(assigner.observe(heat_event(type, kHeat1)), 0);
    EXPECT_EQ(assigner.observe(heat_event(type, kHeat2)), 0);
  }
  EXPECT_EQ(assigner.observe(distance_event(EventType::kDistanceDeactivated)), 0);
  EXPECT_EQ(assigner.observe(distance_event(EventType::kUnknown)), 0);
  EXPECT_EQ(assigner.observe(competition_event(EventType::kUnknown)), 0);
  // Heat 1 still holds group 0; heat 2 was never given one.
  EXPECT_EQ(assigner.observe(activated(kHeat3)), 1);
  EXPECT_EQ(assigner.observe(activated(kHeat1)), 0);
}

TEST(HeatGroupAssigner, DistanceActivatedFreesTheDistancesGroups) {
  HeatGroupAssigner assigner;
  EXPECT_EQ(assigner.observe(activated(kHeat1)), 0);
  EXPECT_EQ(assigner.observe(activated(kHeat2)), 1);
  EXPECT_EQ(assigner.observe(distance_event(EventType::kDistanceActivated)), 0);
  // Heat 2 held group 1 before; the distance started afresh.
  EXPECT_EQ(assigner.observe(activated(kHeat2)), 0);
  EXPECT_EQ(assigner.observe(activated(kHeat1)), 1);
}

TEST(HeatGroupAssigner, DistanceActivatedLeavesOtherDistancesAlone) {
  HeatGroupAssigner assigner;
  EXPECT_EQ(assigner.observe(activated(kHeat1, "D1")), 0);
  EXPECT_EQ(assigner.observe(activated(kHeat2, "D1")), 1);
  EXPECT_EQ(assigner.observe(activated(kHeat1, "D2")), 0);
  EXPECT_EQ(assigner.observe(activated(kHeat2, "D1", "C2")), 0);
  EXPECT_EQ(assigner.observe(distance_event(EventType::kDistanceActivated, "D2")), 0);
  EXPECT_EQ(assigner.observe(activated(kHeat3, "D1")), 2);
  EXPECT_EQ(assigner.observe(activated(kHeat2, "D1")), 1);
  EXPECT_EQ(assigner.observe(activated(kHeat3, "D1", "C2")), 1);
}

TEST(HeatGroupAssigner, CompetitionActivatedForgetsTheCompetition) {
  HeatGroupAssigner assigner;
  EXPECT_EQ(assigner.observe(activated(kHeat1, "D1")), 0);
  EXPECT_EQ(assigner.observe(activated(kHeat2, "D1")), 1);
  EXPECT_EQ(assigner.observe(activated(kHeat1, "D2")), 0);
  EXPECT_EQ(assigner.observe(activated(kHeat2, "D2")), 1);
  EXPECT_EQ(assigner.observe(competition_event(EventType::kCompetitionActivated)), 0);
  EXPECT_EQ(assigner.observe(activated(kHeat2, "D1")), 0);
  EXPECT_EQ(assigner.observe(activated(kHeat2, "D2")), 0);
}

TEST(HeatGroupAssigner, CompetitionActivatedLeavesOtherCompetitionsAlone) {
  HeatGroupAssigner assigner;
  // "C1" is a prefix of "C10" and sorts right before it and "C1x".
  for (const std::string cid : {"C1", "C10", "C1x", "C0", "C2"}) {
    EXPECT_EQ(assigner.observe(activated(kHeat1, "D", cid)), 0) << cid;
    EXPECT_EQ(assigner.observe(activated(kHeat2, "D", cid)), 1) << cid;
  }
  EXPECT_EQ(assigner.observe(competition_event(EventType::kCompetitionActivated, "C1")), 0);
  EXPECT_EQ(assigner.observe(activated(kHeat2, "D", "C1")), 0);
  for (const std::string cid : {"C10", "C1x", "C0", "C2"}) {
    EXPECT_EQ(assigner.observe(activated(kHeat2, "D", cid)), 1) << cid;
    EXPECT_EQ(assigner.observe(activated(kHeat3, "D", cid)), 2) << cid;
  }
}

TEST(HeatGroupAssigner, GroupsArePerDistanceAndPerCompetition) {
  HeatGroupAssigner assigner;
  EXPECT_EQ(assigner.observe(activated(kHeat1, "D1", "C1")), 0);
  EXPECT_EQ(assigner.observe(activated(kHeat2, "D2", "C1")), 0);
  EXPECT_EQ(assigner.observe(activated(kHeat3, "D1", "C2")), 0);
  EXPECT_EQ(assigner.observe(activated(kHeat1, "D1", "C2")), 1);
  EXPECT_EQ(assigner.observe(activated(kHeat1, "D2", "C1")), 1);
  EXPECT_EQ(assigner.observe(activated(kHeat4, "D1", "C1")), 1);
  assigner.observe(deactivated(kHeat1, "D1", "C1"));
  EXPECT_EQ(assigner.observe(activated(kHeat2, "D1", "C1")), 0);
  EXPECT_EQ(assigner.observe(activated(kHeat4, "D2", "C1")), 2);
}

TEST(HeatGroupAssigner, GivesTheGroupTheSubjectUses) {
  HeatGroupAssigner assigner;
  const RoutingHeader first = activated(kHeat1);
  const RoutingHeader second = activated(kHeat2);
  EXPECT_EQ(subject_for(first, assigner.observe(first)),
            OptString("competition.C.distances.D.heats.activations.0"));
  EXPECT_EQ(subject_for(second, assigner.observe(second)),
            OptString("competition.C.distances.D.heats.activations.1"));
}

// ---------------------------------------------------------------------------------------------------------
// The real recording

TEST(SubjectRealRecording, EveryEventMapsToASubjectThatParsesBack) {
  const auto events = testing::load_recording(testing::kRealRecordingName);
  SKIP_WITHOUT_RECORDING(events);
  ASSERT_EQ(events->size(), 555u);
  const std::string cid = "30913459-50b1-4df7-8e1b-a078472f9e9b";
  const std::string did = "240faddd-31cf-4292-a63c-d6e5b38ef3e6";
  const std::string distance_subject = "competition." + cid + ".distances." + did;

  HeatGroupAssigner assigner;
  std::map<std::string, int> counts;
  for (const auto& positioned : *events) {
    const RoutingHeader& header = positioned.event.header;
    SCOPED_TRACE(positioned.position);
    const int group = assigner.observe(header);
    const auto subject = subject_for(header, group);
    ASSERT_TRUE(subject.has_value());
    ++counts[*subject];
    const auto info = parse_subject(*subject);
    ASSERT_TRUE(info.has_value()) << *subject;
    expect_info_names(*info, header, group);
    if (header.type != EventType::kCompetitionActivated) {
      EXPECT_EQ(info->competition_id, OptString(cid));
    }
    if (info->level == Level::kHeat) {
      EXPECT_EQ(info->distance_id, header.distance_id);
      if (!info->activations) {
        EXPECT_EQ(info->heat, header.heat);
      }
    }
  }
  const std::map<std::string, int> expected = {
      {"competition.activations", 4},
      {"competition." + cid + ".distances.activations", 1},
      {distance_subject + ".heats.activations.0", 1},
      {distance_subject + ".heats.1.3", 548},
      {distance_subject, 1},  // HeatCommittedEvent; HeatDeactivatedEvent is a heat event
  };
  EXPECT_EQ(counts, expected);
}

}  // namespace
}  // namespace ovalstream::core
