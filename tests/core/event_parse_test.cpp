// parse_event(): the routing header of every known event type, unknown types, the raw bytes, and every
// rejected input with the ParseError it must produce.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ovalstream/core/event.hpp"
#include "ovalstream/core/event_type.hpp"
#include "support/recording.hpp"
#include "support/skips.hpp"

namespace ovalstream::core {
namespace {

constexpr std::string_view kCid = "c1";
constexpr std::string_view kDid = "d1";
constexpr std::string_view kRid = "r1";

// The error of a parse; kNone when it succeeded.
ParseError error_of(const ParseResult& result) {
  return result.ok() ? ParseError::kNone : result.error();
}

ParseError error_of(std::string_view json, const ParseOptions& options = {}) {
  return error_of(parse_event(json, options));
}

// A parsed event; fails the test (and returns a default header) when `json` does not parse.
RoutingHeader header_of(std::string_view json) {
  const ParseResult result = parse_event(json);
  EXPECT_TRUE(result.ok()) << "error " << parse_error_name(error_of(result)) << " for " << json;
  return result.ok() ? result->header : RoutingHeader{};
}

struct KnownType {
  std::string_view name;
  EventType type;
  RequiredIds required;
};

// Every known type, written out by hand (not taken from the code under test).
const std::vector<KnownType>& known_types() {
  static const std::vector<KnownType> kTypes = {
      {"CompetitionActivatedEvent", EventType::kCompetitionActivated, {}},
      {"DistanceActivatedEvent", EventType::kDistanceActivated, {.distance = true}},
      {"DistanceDeactivatedEvent", EventType::kDistanceDeactivated, {.distance = true}},
      {"HeatActivatedEvent", EventType::kHeatActivated, {.distance = true, .heat = true}},
      {"HeatClearedEvent", EventType::kHeatCleared, {.distance = true, .heat = true}},
      {"HeatStartedEvent", EventType::kHeatStarted, {.distance = true, .heat = true}},
      {"RacePassingAddedEvent", EventType::kRacePassingAdded, {.distance = true, .heat = true, .race = true}},
      {"LastRaceSpeedChangedEvent",
       EventType::kLastRaceSpeedChanged,
       {.distance = true, .heat = true, .race = true}},
      {"RaceLapAddedEvent", EventType::kRaceLapAdded, {.distance = true, .heat = true, .race = true}},
      {"LastPresentedRaceLapChangedEvent",
       EventType::kLastPresentedRaceLapChanged,
       {.distance = true, .heat = true, .race = true}},
      {"RaceNextLapIndexChangedEvent",
       EventType::kRaceNextLapIndexChanged,
       {.distance = true, .heat = true, .race = true}},
      {"HeatNextLapIndexChangedEvent", EventType::kHeatNextLapIndexChanged, {.distance = true, .heat = true}},
      {"HeatDeactivatedEvent", EventType::kHeatDeactivated, {.distance = true, .heat = true}},
      {"HeatCommittedEvent", EventType::kHeatCommitted, {.distance = true, .heat = true}},
  };
  return kTypes;
}

// Members of a minimal event; each is one `"key":value` fragment, or empty to leave it out.
struct Members {
  std::string type_name;
  std::string competition_id = R"("competitionId":"c1")";
  std::string distance_id;
  std::string heat;
  std::string race_id;
  std::string extra;
};

std::string object_of(const Members& m) {
  std::string json = "{";
  for (const std::string* member :
       {&m.type_name, &m.competition_id, &m.distance_id, &m.heat, &m.race_id, &m.extra}) {
    if (member->empty()) continue;
    if (json.size() > 1) json += ',';
    json += *member;
  }
  return json + "}";
}

// The minimal event of a known type: exactly the ids it needs, heat 2 of round 1.
Members minimal_members(const KnownType& known) {
  Members m;
  m.type_name = R"("typeName":")" + std::string(known.name) + '"';
  if (known.required.distance) m.distance_id = R"("distanceId":"d1")";
  if (known.required.heat) m.heat = R"("heat":{"round":1,"number":2})";
  if (known.required.race) m.race_id = R"("raceId":"r1")";
  return m;
}

Level expected_level(const RequiredIds& required) {
  if (required.heat) return Level::kHeat;
  if (required.distance) return Level::kDistance;
  return Level::kCompetition;
}

// ---------------------------------------------------------------------------------------------------------
// Known types

TEST(EventParseKnownTypes, TableCoversEveryKnownTypeOnce) {
  std::set<EventType> seen;
  for (const auto& known : known_types()) {
    EXPECT_NE(known.type, EventType::kUnknown);
    EXPECT_TRUE(seen.insert(known.type).second) << known.name;
    EXPECT_EQ(event_type_name(known.type), known.name);
    EXPECT_EQ(event_type_from_name(known.name), known.type);
  }
  EXPECT_EQ(static_cast<int>(seen.size()), kEventTypeCount - 1);
}

TEST(EventParseKnownTypes, MinimalEventOfEveryTypeParsesItsRoutingHeader) {
  for (const auto& known : known_types()) {
    SCOPED_TRACE(known.name);
    const std::string json = object_of(minimal_members(known));
    const ParseResult result = parse_event(json);
    ASSERT_TRUE(result.ok()) << parse_error_name(error_of(result)) << " for " << json;
    const RoutingHeader& header = result->header;
    EXPECT_EQ(header.type, known.type);
    EXPECT_EQ(header.type_name, known.name);
    EXPECT_EQ(header.competition_id, kCid);
    if (known.required.distance) {
      EXPECT_EQ(header.distance_id, std::optional<std::string>(kDid));
    } else {
      EXPECT_FALSE(header.distance_id.has_value());
    }
    if (known.required.heat) {
      EXPECT_EQ(header.heat, (std::optional<HeatKey>(HeatKey{.round = 1, .number = 2})));
    } else {
      EXPECT_FALSE(header.heat.has_value());
    }
    if (known.required.race) {
      EXPECT_EQ(header.race_id, std::optional<std::string>(kRid));
    } else {
      EXPECT_FALSE(header.race_id.has_value());
    }
    EXPECT_EQ(header.level(), expected_level(known.required));
    EXPECT_EQ(result->raw(), json);
  }
}

TEST(EventParseKnownTypes, HeatCommittedHeaderIsHeatLevel) {
  // The header names the heat; only the subject scheme routes HeatCommittedEvent at distance level.
  const RoutingHeader header =
      header_of(R"({"typeName":"HeatCommittedEvent","competitionId":"c1","distanceId":"d1",)"
                R"("heat":{"round":2,"number":7}})");
  EXPECT_EQ(header.type, EventType::kHeatCommitted);
  EXPECT_EQ(header.heat, (std::optional<HeatKey>(HeatKey{.round = 2, .number = 7})));
  EXPECT_EQ(header.level(), Level::kHeat);
}

TEST(EventParseKnownTypes, DistanceTypeWithoutDistanceIdIsMissingDistanceId) {
  for (const auto& known : known_types()) {
    if (!known.required.distance) continue;
    SCOPED_TRACE(known.name);
    Members absent = minimal_members(known);
    absent.distance_id.clear();
    // With a heat present this is "a heat without a distance": the same error.
    EXPECT_EQ(error_of(object_of(absent)), ParseError::kMissingDistanceId) << object_of(absent);
    Members null = minimal_members(known);
    null.distance_id = R"("distanceId":null)";
    EXPECT_EQ(error_of(object_of(null)), ParseError::kMissingDistanceId) << object_of(null);
  }
}

TEST(EventParseKnownTypes, HeatTypeWithoutHeatIsMissingHeat) {
  for (const auto& known : known_types()) {
    if (!known.required.heat) continue;
    SCOPED_TRACE(known.name);
    Members absent = minimal_members(known);
    absent.heat.clear();
    EXPECT_EQ(error_of(object_of(absent)), ParseError::kMissingHeat) << object_of(absent);
    Members null = minimal_members(known);
    null.heat = R"("heat":null)";
    EXPECT_EQ(error_of(object_of(null)), ParseError::kMissingHeat) << object_of(null);
  }
}

TEST(EventParseKnownTypes, RaceTypeWithoutRaceIdIsMissingRaceId) {
  for (const auto& known : known_types()) {
    if (!known.required.race) continue;
    SCOPED_TRACE(known.name);
    Members absent = minimal_members(known);
    absent.race_id.clear();
    EXPECT_EQ(error_of(object_of(absent)), ParseError::kMissingRaceId) << object_of(absent);
    Members null = minimal_members(known);
    null.race_id = R"("raceId":null)";
    EXPECT_EQ(error_of(object_of(null)), ParseError::kMissingRaceId) << object_of(null);
  }
}

TEST(EventParseKnownTypes, EveryKnownTypeWithoutCompetitionIdIsMissingCompetitionId) {
  for (const auto& known : known_types()) {
    SCOPED_TRACE(known.name);
    Members m = minimal_members(known);
    m.competition_id.clear();
    EXPECT_EQ(error_of(object_of(m)), ParseError::kMissingCompetitionId) << object_of(m);
  }
}

TEST(EventParseKnownTypes, OptionalIdsBeyondTheRequiredOnesAreKept) {
  const RoutingHeader header =
      header_of(R"({"typeName":"CompetitionActivatedEvent","competitionId":"c1","distanceId":"d9"})");
  EXPECT_EQ(header.type, EventType::kCompetitionActivated);
  EXPECT_EQ(header.distance_id, std::optional<std::string>("d9"));
  EXPECT_EQ(header.level(), Level::kDistance);
}

TEST(EventParseKnownTypes, TypeNamesMatchExactly) {
  for (const std::string_view name :
       {"heatStartedEvent", "HEATSTARTEDEVENT", "HeatStarted", "HeatStartedEvent ", " HeatStartedEvent",
        "HeatStartedEventX", "RacePassingEvent"}) {
    SCOPED_TRACE(name);
    const RoutingHeader header =
        header_of(R"({"typeName":")" + std::string(name) +
                  R"(","competitionId":"c1","distanceId":"d1","heat":{"round":1,"number":1}})");
    EXPECT_EQ(header.type, EventType::kUnknown);
    EXPECT_EQ(header.type_name, name);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Unknown types

TEST(EventParseUnknownTypes, CompetitionLevel) {
  const ParseResult result = parse_event(R"({"typeName":"CompetitionNoteEvent","competitionId":"c1"})");
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->header.type, EventType::kUnknown);
  EXPECT_EQ(result->header.type_name, "CompetitionNoteEvent");
  EXPECT_EQ(result->header.competition_id, "c1");
  EXPECT_FALSE(result->header.distance_id.has_value());
  EXPECT_FALSE(result->header.heat.has_value());
  EXPECT_FALSE(result->header.race_id.has_value());
  EXPECT_EQ(result->header.level(), Level::kCompetition);
}

TEST(EventParseUnknownTypes, DistanceLevel) {
  const RoutingHeader header =
      header_of(R"({"typeName":"DistanceNoteEvent","competitionId":"c1","distanceId":"d1"})");
  EXPECT_EQ(header.type, EventType::kUnknown);
  EXPECT_EQ(header.type_name, "DistanceNoteEvent");
  EXPECT_EQ(header.distance_id, std::optional<std::string>("d1"));
  EXPECT_FALSE(header.heat.has_value());
  EXPECT_EQ(header.level(), Level::kDistance);
}

TEST(EventParseUnknownTypes, HeatLevel) {
  const RoutingHeader header = header_of(
      R"({"typeName":"HeatNoteEvent","competitionId":"c1","distanceId":"d1","heat":{"round":3,"number":4}})");
  EXPECT_EQ(header.type, EventType::kUnknown);
  EXPECT_EQ(header.heat, (std::optional<HeatKey>(HeatKey{.round = 3, .number = 4})));
  EXPECT_FALSE(header.race_id.has_value());
  EXPECT_EQ(header.level(), Level::kHeat);
}

TEST(EventParseUnknownTypes, RaceIdsAreKeptAndDoNotChangeTheLevel) {
  const RoutingHeader at_heat = header_of(
      R"({"typeName":"RaceNoteEvent","competitionId":"c1","distanceId":"d1","heat":{"round":1,"number":2},)"
      R"("raceId":"r1"})");
  EXPECT_EQ(at_heat.race_id, std::optional<std::string>("r1"));
  EXPECT_EQ(at_heat.level(), Level::kHeat);

  const RoutingHeader at_distance =
      header_of(R"({"typeName":"RaceNoteEvent","competitionId":"c1","distanceId":"d1","raceId":"r1"})");
  EXPECT_EQ(at_distance.race_id, std::optional<std::string>("r1"));
  EXPECT_EQ(at_distance.level(), Level::kDistance);
}

TEST(EventParseUnknownTypes, UnknownTypeNeedsOnlyCompetitionId) {
  EXPECT_EQ(error_of(R"({"typeName":"SomethingNewEvent","competitionId":"c1"})"), ParseError::kNone);
  EXPECT_EQ(error_of(R"({"typeName":"SomethingNewEvent"})"), ParseError::kMissingCompetitionId);
}

TEST(EventParseUnknownTypes, HeatWithoutDistanceIdIsMissingDistanceId) {
  EXPECT_EQ(error_of(R"({"typeName":"HeatNoteEvent","competitionId":"c1","heat":{"round":1,"number":2}})"),
            ParseError::kMissingDistanceId);
  EXPECT_EQ(error_of(R"({"typeName":"HeatNoteEvent","competitionId":"c1","distanceId":null,)"
                     R"("heat":{"round":1,"number":2}})"),
            ParseError::kMissingDistanceId);
}

TEST(EventParseUnknownTypes, LevelIsTheMostSpecificIdPresent) {
  RoutingHeader header;
  header.competition_id = "c1";
  EXPECT_EQ(header.level(), Level::kCompetition);
  header.race_id = "r1";
  EXPECT_EQ(header.level(), Level::kCompetition);
  header.distance_id = "d1";
  EXPECT_EQ(header.level(), Level::kDistance);
  header.heat = HeatKey{1, 1};
  EXPECT_EQ(header.level(), Level::kHeat);
  header.distance_id.reset();
  EXPECT_EQ(header.level(), Level::kHeat);
}

// ---------------------------------------------------------------------------------------------------------
// Null ids, decoding, nesting and order

TEST(EventParseIds, NullIdsMeanAbsent) {
  const RoutingHeader header = header_of(
      R"({"typeName":"NoteEvent","competitionId":"c1","distanceId":null,"heat":null,"raceId":null})");
  EXPECT_EQ(header.type, EventType::kUnknown);
  EXPECT_FALSE(header.distance_id.has_value());
  EXPECT_FALSE(header.heat.has_value());
  EXPECT_FALSE(header.race_id.has_value());
  EXPECT_EQ(header.level(), Level::kCompetition);
}

TEST(EventParseIds, NullIdsOnAKnownCompetitionLevelTypeAreAccepted) {
  const RoutingHeader header = header_of(
      R"({"typeName":"CompetitionActivatedEvent","competitionId":"c1","distanceId":null,"heat":null,)"
      R"("raceId":null})");
  EXPECT_EQ(header.type, EventType::kCompetitionActivated);
  EXPECT_FALSE(header.distance_id.has_value());
  EXPECT_FALSE(header.heat.has_value());
  EXPECT_FALSE(header.race_id.has_value());
}

TEST(EventParseIds, NullHeatOnAnUnknownTypeLeavesItAtDistanceLevel) {
  const RoutingHeader header =
      header_of(R"({"typeName":"NoteEvent","competitionId":"c1","distanceId":"d1","heat":null})");
  EXPECT_FALSE(header.heat.has_value());
  EXPECT_EQ(header.level(), Level::kDistance);
}

TEST(EventParseIds, StringIdsAreDecoded) {
  const RoutingHeader header =
      header_of(R"({"typeName":"Heat\u0053tartedEvent","competitionId":"c\/1","distanceId":"d\u00e9",)"
                R"("heat":{"round":1,"number":2},"raceId":"r\"1"})");
  EXPECT_EQ(header.type, EventType::kHeatStarted);
  EXPECT_EQ(header.type_name, "HeatStartedEvent");
  EXPECT_EQ(header.competition_id, "c/1");
  EXPECT_EQ(header.distance_id, std::optional<std::string>("d\xc3\xa9"));
  EXPECT_EQ(header.race_id, std::optional<std::string>("r\"1"));
}

TEST(EventParseIds, HeatIntegersAcrossTheInt64Range) {
  const RoutingHeader big =
      header_of(R"({"typeName":"HeatStartedEvent","competitionId":"c1","distanceId":"d1",)"
                R"("heat":{"round":9223372036854775807,"number":4294967296}})");
  EXPECT_EQ(big.heat,
            (std::optional<HeatKey>(HeatKey{std::numeric_limits<std::int64_t>::max(), 4294967296})));

  const RoutingHeader negative =
      header_of(R"({"typeName":"HeatStartedEvent","competitionId":"c1","distanceId":"d1",)"
                R"("heat":{"round":-1,"number":-9223372036854775808}})");
  EXPECT_EQ(negative.heat, (std::optional<HeatKey>(HeatKey{-1, std::numeric_limits<std::int64_t>::min()})));

  const RoutingHeader zero = header_of(
      R"({"typeName":"HeatStartedEvent","competitionId":"c1","distanceId":"d1","heat":{"round":0,"number":0}})");
  EXPECT_EQ(zero.heat, (std::optional<HeatKey>(HeatKey{0, 0})));
}

TEST(EventParseIds, HeatMayCarryOtherMembers) {
  const RoutingHeader header = header_of(
      R"({"typeName":"HeatStartedEvent","competitionId":"c1","distanceId":"d1",)"
      R"("heat":{"name":"pair 3","number":3,"lanes":[{"round":9}],"extra":{"number":"x"},"round":1}})");
  EXPECT_EQ(header.heat, (std::optional<HeatKey>(HeatKey{1, 3})));
}

TEST(EventParseIds, NestedTypeNameDoesNotOverrideTheTopLevelOne) {
  // As in a real HeatActivatedEvent: races[].competitor.typeName comes before the top-level typeName.
  const std::string before =
      R"({"competitionId":"c1","distanceId":"d1","heat":{"round":1,"number":3},)"
      R"("races":[{"competitor":{"typeName":"PersonCompetitor","name":"A"}},)"
      R"({"competitor":{"typeName":"TeamCompetitor"}}],"typeName":"HeatActivatedEvent"})";
  const RoutingHeader h1 = header_of(before);
  EXPECT_EQ(h1.type, EventType::kHeatActivated);
  EXPECT_EQ(h1.type_name, "HeatActivatedEvent");

  const std::string after = R"({"typeName":"HeatActivatedEvent","competitionId":"c1","distanceId":"d1",)"
                            R"("heat":{"round":1,"number":3},"races":[{"competitor":{"typeName":"Team"}}]})";
  const RoutingHeader h2 = header_of(after);
  EXPECT_EQ(h2.type, EventType::kHeatActivated);
  EXPECT_EQ(h2.type_name, "HeatActivatedEvent");
}

TEST(EventParseIds, NestedRoutingMembersAreIgnored) {
  const RoutingHeader header = header_of(
      R"({"typeName":"RacePassingAddedEvent","competitionId":"c1","distanceId":"d1",)"
      R"("heat":{"round":1,"number":3},"raceId":"r1",)"
      R"("passing":{"competitionId":"other","distanceId":42,"heat":"x","raceId":["r9"],"typeName":null},)"
      R"("list":[{"heat":{"round":7,"number":7}},{"competitionId":""}]})");
  EXPECT_EQ(header.type, EventType::kRacePassingAdded);
  EXPECT_EQ(header.competition_id, "c1");
  EXPECT_EQ(header.distance_id, std::optional<std::string>("d1"));
  EXPECT_EQ(header.heat, (std::optional<HeatKey>(HeatKey{1, 3})));
  EXPECT_EQ(header.race_id, std::optional<std::string>("r1"));
}

TEST(EventParseIds, NestedIdsAloneDoNotCount) {
  EXPECT_EQ(error_of(R"({"competitionId":"c1","inner":{"typeName":"HeatStartedEvent"}})"),
            ParseError::kMissingTypeName);
  EXPECT_EQ(error_of(R"({"typeName":"NoteEvent","competition":{"competitionId":"c1"}})"),
            ParseError::kMissingCompetitionId);
  EXPECT_EQ(error_of(R"({"typeName":"DistanceActivatedEvent","competitionId":"c1",)"
                     R"("distance":{"distanceId":"d1"}})"),
            ParseError::kMissingDistanceId);
}

TEST(EventParseIds, KeyOrderDoesNotMatter) {
  std::vector<std::string> members = {
      R"("competitionId":"c1")", R"("distanceId":"d1")",    R"("heat":{"round":2,"number":5})",
      R"("raceId":"r1")",        R"("passing":{"time":1})", R"("typeName":"RaceLapAddedEvent")"};
  std::sort(members.begin(), members.end());
  int permutations = 0;
  do {
    std::string json = "{";
    for (const auto& member : members) json += (json.size() > 1 ? "," : "") + member;
    json += "}";
    SCOPED_TRACE(json);
    const RoutingHeader header = header_of(json);
    EXPECT_EQ(header.type, EventType::kRaceLapAdded);
    EXPECT_EQ(header.competition_id, "c1");
    EXPECT_EQ(header.distance_id, std::optional<std::string>("d1"));
    EXPECT_EQ(header.heat, (std::optional<HeatKey>(HeatKey{2, 5})));
    EXPECT_EQ(header.race_id, std::optional<std::string>("r1"));
    ++permutations;
  } while (std::next_permutation(members.begin(), members.end()));
  EXPECT_EQ(permutations, 720);

  const RoutingHeader swapped = header_of(
      R"({"typeName":"HeatStartedEvent","competitionId":"c1","distanceId":"d1","heat":{"number":5,"round":2}})");
  EXPECT_EQ(swapped.heat, (std::optional<HeatKey>(HeatKey{2, 5})));
}

TEST(EventParseIds, WhitespaceAroundTheObjectAndTokensIsValid) {
  const std::string json =
      " \t\r\n{ \"typeName\" : \"HeatStartedEvent\" ,\n \"competitionId\":\"c1\", \"distanceId\" :\"d1\","
      " \"heat\" : { \"round\" : 1 , \"number\" : 2 } }\n\t ";
  const ParseResult result = parse_event(json);
  ASSERT_TRUE(result.ok()) << parse_error_name(error_of(result));
  EXPECT_EQ(result->header.type, EventType::kHeatStarted);
  EXPECT_EQ(result->header.heat, (std::optional<HeatKey>(HeatKey{1, 2})));
  EXPECT_EQ(result->raw(), json);
}

// ---------------------------------------------------------------------------------------------------------
// Raw bytes

TEST(EventParseBytes, SharedBufferIsKeptNotCopied) {
  const auto bytes = std::make_shared<const std::string>(
      R"({"typeName":"HeatStartedEvent","competitionId":"c1","distanceId":"d1","heat":{"round":1,"number":2}})");
  const std::string* address = bytes.get();
  const ParseResult result = parse_event(bytes);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->bytes.get(), address);
  EXPECT_EQ(result->bytes, bytes);
  EXPECT_EQ(bytes.use_count(), 2);
  EXPECT_EQ(result->raw().data(), address->data());
  EXPECT_EQ(result->raw(), *bytes);
}

TEST(EventParseBytes, StringViewOverloadCopiesVerbatim) {
  // Odd spacing, escapes, numbers in non-canonical form and a duplicate key must all survive as written.
  const std::string json =
      "{ \"typeName\":\"NoteEvent\" , \"competitionId\":\"c1\",\"text\":\"caf\\u00e9 \\\"x\\\"\","
      "\"n\":1.50e+2,\"m\":-0.0,\"text\":\"again\" }";
  const ParseResult result = parse_event(std::string_view(json));
  ASSERT_TRUE(result.ok()) << parse_error_name(error_of(result));
  ASSERT_NE(result->bytes, nullptr);
  EXPECT_EQ(*result->bytes, json);
  EXPECT_EQ(result->raw(), json);
  EXPECT_NE(result->raw().data(), json.data());
}

TEST(EventParseBytes, EventOutlivesTheCallersPointer) {
  auto bytes = std::make_shared<const std::string>(R"({"typeName":"NoteEvent","competitionId":"c1"})");
  ParseResult result = parse_event(bytes);
  ASSERT_TRUE(result.ok());
  bytes.reset();
  EXPECT_EQ(result->raw(), R"({"typeName":"NoteEvent","competitionId":"c1"})");
  EXPECT_EQ(result->bytes.use_count(), 1);
}

TEST(EventParseBytes, NullBufferIsRejectedWithoutCrashing) {
  const ParseResult result = parse_event(EventBytes{});
  EXPECT_FALSE(result.ok());
}

// ---------------------------------------------------------------------------------------------------------
// Size bound

// A valid unknown event of exactly `size` bytes (size >= 60).
std::string event_of_size(std::size_t size) {
  const std::string head = R"({"typeName":"NoteEvent","competitionId":"c1","pad":")";
  const std::string tail = "\"}";
  return head + std::string(size - head.size() - tail.size(), 'x') + tail;
}

TEST(EventParseErrors, TooLargeAtTheDefaultBound) {
  constexpr std::size_t kMiB = 1 << 20;
  EXPECT_EQ(ParseOptions{}.max_bytes, kMiB);
  const std::string at_bound = event_of_size(kMiB);
  ASSERT_EQ(at_bound.size(), kMiB);
  EXPECT_EQ(error_of(at_bound), ParseError::kNone);
  EXPECT_EQ(error_of(parse_event(std::make_shared<const std::string>(at_bound))), ParseError::kNone);

  const std::string over = event_of_size(kMiB + 1);
  EXPECT_EQ(error_of(over), ParseError::kTooLarge);
  EXPECT_EQ(error_of(parse_event(std::make_shared<const std::string>(over))), ParseError::kTooLarge);
}

TEST(EventParseErrors, TooLargeAtACustomBound) {
  const ParseOptions options{.max_bytes = 100};
  EXPECT_EQ(error_of(event_of_size(99), options), ParseError::kNone);
  EXPECT_EQ(error_of(event_of_size(100), options), ParseError::kNone);
  EXPECT_EQ(error_of(event_of_size(101), options), ParseError::kTooLarge);
  EXPECT_EQ(error_of(parse_event(std::make_shared<const std::string>(event_of_size(100)), options)),
            ParseError::kNone);
  EXPECT_EQ(error_of(parse_event(std::make_shared<const std::string>(event_of_size(101)), options)),
            ParseError::kTooLarge);
  // A larger custom bound lets through what the default would refuse.
  const std::string big = event_of_size((1 << 20) + 10);
  EXPECT_EQ(error_of(big, ParseOptions{.max_bytes = 2 << 20}), ParseError::kNone);
}

TEST(EventParseErrors, SizeIsCheckedBeforeTheContent) {
  const ParseOptions options{.max_bytes = 4};
  EXPECT_EQ(error_of("garbage", options), ParseError::kTooLarge);
  EXPECT_EQ(error_of("[1,2,3]", options), ParseError::kTooLarge);
  EXPECT_EQ(error_of("{}", options), ParseError::kMissingTypeName);
}

// Input from the stream is untrusted: anything within the size bound must come back as a ParseResult.
// Nesting depth is not bounded by the format, so the parse must not recurse once per level.
TEST(EventParseDeathTest, DeeplyNestedInputWithinTheBoundDoesNotCrash) {
  constexpr std::size_t kDepth = 400000;
  const std::string nested = R"({"typeName":"NoteEvent","competitionId":"c1","a":)" +
                             std::string(kDepth, '[') + std::string(kDepth, ']') + "}";
  ASSERT_LE(nested.size(), ParseOptions{}.max_bytes);
  EXPECT_EXIT(
      {
        const ParseResult result = parse_event(nested);
        std::exit(error_of(result) == ParseError::kTooDeep ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");

  const std::string unterminated = R"({"typeName":"NoteEvent","competitionId":"c1","a":)" +
                                   std::string(ParseOptions{}.max_bytes - 60, '[');
  ASSERT_LE(unterminated.size(), ParseOptions{}.max_bytes);
  EXPECT_EXIT(
      {
        const ParseResult result = parse_event(unterminated);
        std::exit(error_of(result) == ParseError::kTooDeep ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(EventParse, NestingUpToTheBoundIsAcceptedAndOneMoreIsTooDeep) {
  auto nested = [](int depth) {  // the event object is level 1
    return R"({"typeName":"NoteEvent","competitionId":"c1","a":)" + std::string(depth - 1, '[') +
           std::string(depth - 1, ']') + "}";
  };
  EXPECT_TRUE(parse_event(std::string_view(nested(64))).ok());
  EXPECT_EQ(error_of(parse_event(std::string_view(nested(65)))), ParseError::kTooDeep);
  ParseOptions shallow;
  shallow.max_depth = 3;
  EXPECT_TRUE(parse_event(std::string_view(nested(3)), shallow).ok());
  EXPECT_EQ(error_of(parse_event(std::string_view(nested(4)), shallow)), ParseError::kTooDeep);
}

// ---------------------------------------------------------------------------------------------------------
// Not JSON / not an object

TEST(EventParseErrors, NotJson) {
  using namespace std::string_literals;
  const std::vector<std::string> inputs = {
      ""s,
      "   \n"s,
      "garbage"s,
      "{"s,
      "}"s,
      R"({"typeName":"NoteEvent","competitionId":"c1")"s,              // truncated object
      R"({"typeName":"NoteEvent","competitionId":"c)"s,                // truncated in a string
      R"({"typeName":"NoteEvent","competitionId":"c1"}x)"s,            // trailing garbage
      R"({"typeName":"NoteEvent","competitionId":"c1"}{})"s,           // two values
      R"({"typeName":"NoteEvent","competitionId":"c1"},)"s,            // trailing comma after the object
      R"({"typeName":"NoteEvent","competitionId":"c1",})"s,            // trailing comma inside
      R"({'typeName':'NoteEvent','competitionId':'c1'})"s,             // single quotes
      R"({typeName:"NoteEvent","competitionId":"c1"})"s,               // unquoted key
      R"({"typeName":"NoteEvent" "competitionId":"c1"})"s,             // missing comma
      R"({"typeName":"NoteEvent","competitionId":"c1","n":01})"s,      // leading zero
      R"({"typeName":"NoteEvent","competitionId":"c1","n":NaN})"s,     // not a JSON number
      R"({"typeName":"NoteEvent","competitionId":"c1","s":"a\qb"})"s,  // bad escape
      R"({"typeName":"NoteEvent","competitionId":"c1"}/*c*/)"s,        // comment
      "{\"typeName\":\"NoteEvent\",\"competitionId\":\"c1\",\"s\":\"a\tb\"}"s,  // raw control character
  };
  for (const auto& input : inputs) {
    EXPECT_EQ(error_of(input), ParseError::kNotJson) << input;
  }
}

TEST(EventParseErrors, EmbeddedNulIsNotJson) {
  using namespace std::string_literals;
  const std::vector<std::string> inputs = {
      "{\"typeName\":\"Note\0Event\",\"competitionId\":\"c1\"}"s,  // inside a string
      "{\"typeName\":\"NoteEvent\",\"competitionId\":\"c1\"}\0"s,  // after the object
      "{\"typeName\":\"NoteEvent\",\0\"competitionId\":\"c1\"}"s,  // between members
      "\0"s,
  };
  for (const auto& input : inputs) {
    EXPECT_EQ(error_of(input), ParseError::kNotJson) << input.size();
    EXPECT_EQ(error_of(parse_event(std::make_shared<const std::string>(input))), ParseError::kNotJson);
  }
}

TEST(EventParseErrors, InvalidUtf8IsNotJson) {
  const std::vector<std::string> inputs = {
      "{\"typeName\":\"NoteEvent\",\"competitionId\":\"c\xff\"}",                      // 0xFF
      "{\"typeName\":\"NoteEvent\",\"competitionId\":\"c1\",\"x\":\"\xc0\xaf\"}",      // overlong '/'
      "{\"typeName\":\"NoteEvent\",\"competitionId\":\"c1\",\"x\":\"\xe2\x82\"}",      // truncated sequence
      "{\"typeName\":\"NoteEvent\",\"competitionId\":\"c1\",\"x\":\"\xed\xa0\x80\"}",  // surrogate
      "{\"typeName\":\"NoteEvent\",\"competitionId\":\"c1\",\"\x80\":1}",              // in a key
  };
  for (const auto& input : inputs) {
    EXPECT_EQ(error_of(input), ParseError::kNotJson) << input;
  }
  // Valid multi-byte UTF-8 is fine.
  EXPECT_EQ(
      error_of(
          "{\"typeName\":\"NoteEvent\",\"competitionId\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8f\x81\"}"),
      ParseError::kNone);
}

TEST(EventParseErrors, InvalidJsonWinsOverFieldErrors) {
  // The scan goes on past a bad field so a broken document is reported as such.
  EXPECT_EQ(error_of(R"({"typeName":42,"competitionId":"c1")"), ParseError::kNotJson);
  EXPECT_EQ(error_of(R"({"typeName":"NoteEvent","competitionId":""} x)"), ParseError::kNotJson);
  EXPECT_EQ(error_of(R"({"typeName":"NoteEvent","competitionId":"c1","heat":"x",)"), ParseError::kNotJson);
}

TEST(EventParseErrors, NotObject) {
  for (const std::string_view input :
       {"[]", R"([{"typeName":"NoteEvent","competitionId":"c1"}])", R"(["typeName","NoteEvent"])",
        R"("{\"typeName\":\"NoteEvent\",\"competitionId\":\"c1\"}")", R"("")", "42", "-1.5", "null", "true",
        "false", " [ ] "}) {
    EXPECT_EQ(error_of(input), ParseError::kNotObject) << input;
  }
}

// ---------------------------------------------------------------------------------------------------------
// typeName

TEST(EventParseErrors, MissingTypeName) {
  for (const std::string_view input :
       {"{}", R"({"competitionId":"c1"})", R"({"competitionId":"c1","TypeName":"NoteEvent"})",
        R"({"competitionId":"c1","type":"NoteEvent"})",
        R"({"competitionId":"c1","typeName ":"NoteEvent"})"}) {
    EXPECT_EQ(error_of(input), ParseError::kMissingTypeName) << input;
  }
}

TEST(EventParseErrors, TypeNameNotString) {
  for (const std::string_view value : {"42", "-1", "1.5", "null", "true", "false", "{}", R"({"name":"X"})",
                                       "[]", R"(["HeatStartedEvent"])"}) {
    const std::string input = R"({"typeName":)" + std::string(value) + R"(,"competitionId":"c1"})";
    EXPECT_EQ(error_of(input), ParseError::kTypeNameNotString) << input;
  }
}

// ---------------------------------------------------------------------------------------------------------
// competitionId

TEST(EventParseErrors, BadCompetitionId) {
  for (const std::string_view value :
       {R"("")", "42", "0", "1.5", "null", "true", "{}", R"({"id":"c1"})", "[]", R"(["c1"])"}) {
    const std::string input = R"({"typeName":"NoteEvent","competitionId":)" + std::string(value) + "}";
    EXPECT_EQ(error_of(input), ParseError::kBadCompetitionId) << input;
  }
}

TEST(EventParseErrors, MissingCompetitionId) {
  for (const std::string_view input :
       {R"({"typeName":"NoteEvent"})", R"({"typeName":"NoteEvent","competitionID":"c1"})",
        R"({"typeName":"NoteEvent","distanceId":"d1"})"}) {
    EXPECT_EQ(error_of(input), ParseError::kMissingCompetitionId) << input;
  }
}

// ---------------------------------------------------------------------------------------------------------
// distanceId, raceId

TEST(EventParseErrors, BadDistanceId) {
  for (const std::string_view value :
       {"42", "1.5", "true", "false", "{}", R"({"id":"d1"})", "[]", R"(["d1"])"}) {
    const std::string input =
        R"({"typeName":"NoteEvent","competitionId":"c1","distanceId":)" + std::string(value) + "}";
    EXPECT_EQ(error_of(input), ParseError::kBadDistanceId) << input;
  }
}

TEST(EventParseErrors, BadRaceId) {
  for (const std::string_view value :
       {"42", "1.5", "true", "false", "{}", R"({"id":"r1"})", "[]", R"(["r1"])"}) {
    const std::string input = R"({"typeName":"NoteEvent","competitionId":"c1","distanceId":"d1",)"
                              R"("heat":{"round":1,"number":1},"raceId":)" +
                              std::string(value) + "}";
    EXPECT_EQ(error_of(input), ParseError::kBadRaceId) << input;
  }
}

// ---------------------------------------------------------------------------------------------------------
// heat

TEST(EventParseErrors, BadHeat) {
  for (const std::string_view value : {
           R"("1-3")",                                      // string
           R"("")",                                         // empty string
           "3",                                             // number
           "true",                                          // boolean
           "[1,3]",                                         // array
           R"([{"round":1,"number":3}])",                   // array of a heat
           "{}",                                            // empty object
           R"({"round":1})",                                // missing number
           R"({"number":3})",                               // missing round
           R"({"round":"1","number":3})",                   // round a string
           R"({"round":1,"number":"3"})",                   // number a string
           R"({"round":1.5,"number":3})",                   // round not an integer
           R"({"round":1,"number":3.0})",                   // number a float
           R"({"round":1e0,"number":3})",                   // exponent form
           R"({"round":null,"number":3})",                  // null round
           R"({"round":1,"number":true})",                  // boolean number
           R"({"round":{"value":1},"number":3})",           // object round
           R"({"round":[1],"number":3})",                   // array round
           R"({"round":9223372036854775808,"number":3})",   // above int64
           R"({"round":1,"number":18446744073709551615})",  // uint64 max
       }) {
    const std::string input = R"({"typeName":"NoteEvent","competitionId":"c1","distanceId":"d1","heat":)" +
                              std::string(value) + "}";
    EXPECT_EQ(error_of(input), ParseError::kBadHeat) << input;
  }
}

TEST(EventParseErrors, BadHeatOnAKnownHeatType) {
  EXPECT_EQ(
      error_of(
          R"({"typeName":"HeatStartedEvent","competitionId":"c1","distanceId":"d1","heat":{"round":1}})"),
      ParseError::kBadHeat);
  EXPECT_EQ(error_of(R"({"typeName":"HeatStartedEvent","competitionId":"c1","distanceId":"d1","heat":3})"),
            ParseError::kBadHeat);
}

TEST(EventParseErrors, HeatWithoutDistanceId) {
  EXPECT_EQ(error_of(R"({"typeName":"HeatStartedEvent","competitionId":"c1","heat":{"round":1,"number":2}})"),
            ParseError::kMissingDistanceId);
  EXPECT_EQ(error_of(R"({"typeName":"RaceLapAddedEvent","competitionId":"c1","heat":{"round":1,"number":2},)"
                     R"("raceId":"r1"})"),
            ParseError::kMissingDistanceId);
  EXPECT_EQ(error_of(R"({"typeName":"NoteEvent","competitionId":"c1","heat":{"round":1,"number":2}})"),
            ParseError::kMissingDistanceId);
}

// ---------------------------------------------------------------------------------------------------------
// parse_error_name

bool is_snake_case(std::string_view name) {
  if (name.empty() || name.front() == '_' || name.back() == '_') return false;
  if (name.find("__") != std::string_view::npos) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
}

TEST(EventParseErrorNames, EveryErrorHasADistinctSnakeCaseName) {
  std::set<std::string_view> names;
  for (int i = 0; i < kParseErrorCount; ++i) {
    const std::string_view name = parse_error_name(static_cast<ParseError>(i));
    EXPECT_TRUE(is_snake_case(name)) << i << ": '" << name << "'";
    EXPECT_TRUE(names.insert(name).second) << i << ": duplicate '" << name << "'";
  }
  EXPECT_EQ(static_cast<int>(names.size()), kParseErrorCount);
}

TEST(EventParseErrorNames, NamesAreStable) {
  // Metric labels: changing one breaks dashboards.
  const std::map<ParseError, std::string_view> expected = {
      {ParseError::kNone, "none"},
      {ParseError::kTooLarge, "too_large"},
      {ParseError::kNotJson, "not_json"},
      {ParseError::kNotObject, "not_object"},
      {ParseError::kMissingTypeName, "missing_type_name"},
      {ParseError::kTypeNameNotString, "type_name_not_string"},
      {ParseError::kBadCompetitionId, "bad_competition_id"},
      {ParseError::kMissingCompetitionId, "missing_competition_id"},
      {ParseError::kBadDistanceId, "bad_distance_id"},
      {ParseError::kBadHeat, "bad_heat"},
      {ParseError::kBadRaceId, "bad_race_id"},
      {ParseError::kMissingDistanceId, "missing_distance_id"},
      {ParseError::kMissingHeat, "missing_heat"},
      {ParseError::kMissingRaceId, "missing_race_id"},
      {ParseError::kTooDeep, "too_deep"},
  };
  ASSERT_EQ(static_cast<int>(expected.size()), kParseErrorCount);
  for (const auto& [error, name] : expected) EXPECT_EQ(parse_error_name(error), name);
}

// ---------------------------------------------------------------------------------------------------------
// The real recording

constexpr std::string_view kRealCompetition = "30913459-50b1-4df7-8e1b-a078472f9e9b";
constexpr std::string_view kRealDistance = "240faddd-31cf-4292-a63c-d6e5b38ef3e6";
constexpr std::string_view kRealRaceA = "fd01d3d5-47c6-4c88-9887-4be10d0d8781";
constexpr std::string_view kRealRaceB = "fd525c53-bce1-4b63-9f8e-efa4b2d7431e";

TEST(EventParseRealRecording, SampleOfEvents) {
  const auto events = testing::load_recording(testing::kRealRecordingName);
  SKIP_WITHOUT_RECORDING(events);
  ASSERT_EQ(events->size(), 555u);
  const auto header = [&](std::size_t position) -> const RoutingHeader& {
    return (*events)[position - 1].event.header;
  };
  const HeatKey heat{.round = 1, .number = 3};

  for (std::size_t position : {1u, 2u, 3u, 4u}) {
    SCOPED_TRACE(position);
    EXPECT_EQ(header(position).type, EventType::kCompetitionActivated);
    EXPECT_EQ(header(position).type_name, "CompetitionActivatedEvent");
    EXPECT_EQ(header(position).competition_id, kRealCompetition);
    EXPECT_FALSE(header(position).distance_id.has_value());
    EXPECT_FALSE(header(position).heat.has_value());
    EXPECT_FALSE(header(position).race_id.has_value());
    EXPECT_EQ(header(position).level(), Level::kCompetition);
  }

  EXPECT_EQ(header(5).type, EventType::kDistanceActivated);
  EXPECT_EQ(header(5).distance_id, std::optional<std::string>(kRealDistance));
  EXPECT_FALSE(header(5).heat.has_value());
  EXPECT_EQ(header(5).level(), Level::kDistance);

  // Position 6 holds nested competitor typeNames before its own.
  EXPECT_EQ(header(6).type, EventType::kHeatActivated);
  EXPECT_EQ(header(6).type_name, "HeatActivatedEvent");
  EXPECT_EQ(header(6).heat, std::optional<HeatKey>(heat));
  EXPECT_FALSE(header(6).race_id.has_value());
  EXPECT_EQ(header(6).level(), Level::kHeat);

  EXPECT_EQ(header(7).type, EventType::kLastRaceSpeedChanged);
  EXPECT_EQ(header(7).race_id, std::optional<std::string>(kRealRaceA));
  EXPECT_EQ(header(8).type, EventType::kRacePassingAdded);
  EXPECT_EQ(header(8).race_id, std::optional<std::string>(kRealRaceB));
  EXPECT_EQ(header(27).type, EventType::kRaceLapAdded);
  EXPECT_EQ(header(28).type, EventType::kLastPresentedRaceLapChanged);
  EXPECT_EQ(header(40).type, EventType::kHeatNextLapIndexChanged);
  EXPECT_FALSE(header(40).race_id.has_value());
  EXPECT_EQ(header(41).type, EventType::kRaceNextLapIndexChanged);
  EXPECT_EQ(header(41).race_id, std::optional<std::string>(kRealRaceB));

  EXPECT_EQ(header(554).type, EventType::kHeatCommitted);
  EXPECT_EQ(header(554).type_name, "HeatCommittedEvent");
  EXPECT_EQ(header(554).heat, std::optional<HeatKey>(heat));
  EXPECT_EQ(header(554).level(), Level::kHeat);
  EXPECT_EQ(header(555).type, EventType::kHeatDeactivated);
  EXPECT_EQ(header(555).heat, std::optional<HeatKey>(heat));
}

TEST(EventParseRealRecording, EveryEventIsKnownAndRoutedToTheOneHeat) {
  const auto events = testing::load_recording(testing::kRealRecordingName);
  SKIP_WITHOUT_RECORDING(events);
  std::map<std::string, int> type_counts;
  std::map<std::string, int> race_counts;
  for (const auto& positioned : *events) {
    const RoutingHeader& header = positioned.event.header;
    SCOPED_TRACE(positioned.position);
    ++type_counts[header.type_name];
    EXPECT_NE(header.type, EventType::kUnknown);
    EXPECT_EQ(event_type_name(header.type), header.type_name);
    EXPECT_EQ(header.competition_id, kRealCompetition);
    if (positioned.position >= 5) {
      EXPECT_EQ(header.distance_id, std::optional<std::string>(kRealDistance));
    }
    if (positioned.position >= 6) {
      EXPECT_EQ(header.heat, (std::optional<HeatKey>(HeatKey{1, 3})));
      EXPECT_EQ(header.level(), Level::kHeat);
    }
    if (header.race_id) ++race_counts[*header.race_id];
    EXPECT_EQ(header.race_id.has_value(), required_ids(header.type).race);
    ASSERT_NE(positioned.event.bytes, nullptr);
    // The raw bytes parse again to the same header.
    const ParseResult again = parse_event(positioned.event.bytes);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->bytes.get(), positioned.event.bytes.get());
    EXPECT_EQ(again->header.type_name, header.type_name);
    EXPECT_EQ(again->header.heat, header.heat);
  }
  const std::map<std::string, int> expected_types = {
      {"RacePassingAddedEvent", 216},
      {"LastRaceSpeedChangedEvent", 215},
      {"RaceLapAddedEvent", 37},
      {"LastPresentedRaceLapChangedEvent", 34},
      {"RaceNextLapIndexChangedEvent", 30},
      {"HeatNextLapIndexChangedEvent", 15},
      {"CompetitionActivatedEvent", 4},
      {"DistanceActivatedEvent", 1},
      {"HeatActivatedEvent", 1},
      {"HeatCommittedEvent", 1},
      {"HeatDeactivatedEvent", 1},
  };
  EXPECT_EQ(type_counts, expected_types);
  const std::map<std::string, int> expected_races = {{std::string(kRealRaceA), 264},
                                                     {std::string(kRealRaceB), 268}};
  EXPECT_EQ(race_counts, expected_races);
}

TEST(EventParseRealRecording, ASmallerBoundRejectsTheLargeHeatEvents) {
  const auto events = testing::load_recording(testing::kRealRecordingName);
  SKIP_WITHOUT_RECORDING(events);
  // The HeatCommittedEvent is about 84 KB; a 64 KiB bound refuses it and nothing small.
  const ParseOptions options{.max_bytes = 64 * 1024};
  int too_large = 0;
  for (const auto& positioned : *events) {
    const ParseResult result = parse_event(positioned.event.bytes, options);
    if (positioned.event.bytes->size() > options.max_bytes) {
      EXPECT_EQ(error_of(result), ParseError::kTooLarge);
      ++too_large;
    } else {
      EXPECT_TRUE(result.ok());
    }
  }
  EXPECT_GE(too_large, 1);
  EXPECT_EQ(error_of(parse_event((*events)[553].event.bytes, options)), ParseError::kTooLarge);
}

// A multi-byte UTF-8 sequence cut off at the very end of the bytes: RapidJSON's validation read past the end
// of the buffer on a NUL-terminated stream (found by the fuzzer; visible under ASan). Each cut of a 3- and a
// 4-byte sequence, with and without the closing quote and brace.
TEST(EventParse, TruncatedUtf8AtTheEndIsNotJson) {
  for (const std::string tail : {"\xe4", "\xe4\xb8", "\xf0", "\xf0\x9f", "\xf0\x9f\x98"}) {
    const std::string prefix = R"({"typeName":"X","competitionId":"c","s":"ab)";
    EXPECT_EQ(error_of(parse_event(std::string_view(prefix + tail))), ParseError::kNotJson)
        << "tail of " << tail.size();
    EXPECT_EQ(error_of(parse_event(std::string_view(prefix + tail + "\"}"))), ParseError::kNotJson)
        << "tail of " << tail.size();
  }
}

}  // namespace
}  // namespace ovalstream::core
