// The embedded JSON Schemas of the routing fields: the real recording validates, and for every known type
// each required routing field, missing or of the wrong type, is rejected with its keyword and pointer.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "ovalstream/core/schema.hpp"
#include "support/recording.hpp"
#include "support/skips.hpp"

namespace ovalstream::core {
namespace {

// One member of a JSON object: its name and its value as raw JSON.
struct Member {
  std::string name;
  std::string value;
};
using Members = std::vector<Member>;

std::string object_of(const Members& members) {
  std::string json = "{";
  for (const Member& member : members) {
    if (json.size() > 1) json += ',';
    json += '"' + member.name + "\":" + member.value;
  }
  return json + '}';
}

Members without(Members members, const std::string& name) {
  std::erase_if(members, [&](const Member& member) { return member.name == name; });
  return members;
}

Members with(Members members, const std::string& name, const std::string& value) {
  const auto it =
      std::find_if(members.begin(), members.end(), [&](const Member& m) { return m.name == name; });
  if (it != members.end()) {
    it->value = value;
  } else {
    members.push_back({name, value});
  }
  return members;
}

// An event whose header names `type`; the bytes are not run through parse_event(), so tests can hand the
// validator events the parser would reject and check that the schema rejects them on its own.
Event event_of(EventType type, const std::string& json) {
  Event event;
  event.bytes = std::make_shared<const std::string>(json);
  event.header.type = type;
  return event;
}

// A wrong value for a field and the keyword and pointer its rejection must report.
struct WrongValue {
  std::string value;
  std::string reason;
  std::string pointer;
};

// What each known type requires, written out here from the protocol rather than taken from the core, so
// a schema that drifts from it fails.
struct TypeCase {
  std::string type_name;
  bool distance = false;
  bool heat = false;
  bool race = false;
  Member payload;                         // the member the type carries besides the ids
  std::vector<WrongValue> payload_wrong;  // values of the wrong type for it
};

// Names the parameter in failure messages (gtest would otherwise print its bytes).
void PrintTo(const TypeCase& type_case, std::ostream* out) {
  *out << type_case.type_name;
}

std::vector<TypeCase> known_type_cases() {
  const std::vector<WrongValue> not_object = {{"[]", "type", ""}, {"null", "type", ""}};
  const std::vector<WrongValue> not_array = {{"{}", "type", ""}, {"\"races\"", "type", ""}};
  return {
      {"CompetitionActivatedEvent", false, false, false, {"competition", R"({"id":"x"})"}, not_object},
      {"DistanceActivatedEvent", true, false, false, {"distance", R"({"id":"x"})"}, not_object},
      {"DistanceDeactivatedEvent", true, false, false, {}, {}},
      {"HeatActivatedEvent", true, true, false, {"races", "[]"}, not_array},
      {"HeatClearedEvent", true, true, false, {}, {}},
      {"HeatStartedEvent", true, true, false, {}, {}},
      {"HeatNextLapIndexChangedEvent", true, true, false, {}, {}},
      {"HeatDeactivatedEvent", true, true, false, {}, {}},
      {"HeatCommittedEvent", true, true, false, {"races", R"([{"id":"r1"}])"}, not_array},
      {"RacePassingAddedEvent", true, true, true, {"passing", R"({"time":1})"}, not_object},
      {"LastRaceSpeedChangedEvent", true, true, true, {"passing", R"({"speed":1.5})"}, not_object},
      {"RaceLapAddedEvent", true, true, true, {"lap", R"({"index":0})"}, not_object},
      {"LastPresentedRaceLapChangedEvent", true, true, true, {"lap", R"({"index":0})"}, not_object},
      {"RaceNextLapIndexChangedEvent",
       true,
       true,
       true,
       {"index", "3"},
       {{"\"3\"", "type", ""}, {"3.5", "type", ""}, {"null", "type", ""}}},
  };
}

Members minimal_members(const TypeCase& type_case) {
  Members members = {{"typeName", '"' + type_case.type_name + '"'}, {"competitionId", R"("c1")"}};
  if (type_case.distance) members.push_back({"distanceId", R"("d1")"});
  if (type_case.heat) members.push_back({"heat", R"({"round":1,"number":2})"});
  if (type_case.race) members.push_back({"raceId", R"("r1")"});
  if (!type_case.payload.name.empty()) members.push_back(type_case.payload);
  return members;
}

// Wrong values of each routing field, for a type that requires it.
std::vector<WrongValue> wrong_values_of(const std::string& field) {
  if (field == "typeName") return {{"7", "type", "/typeName"}, {R"("OtherEvent")", "enum", "/typeName"}};
  if (field == "competitionId") {
    return {{"42", "type", "/competitionId"},
            {"null", "type", "/competitionId"},
            {R"("")", "minLength", "/competitionId"}};
  }
  if (field == "distanceId") return {{"5", "type", "/distanceId"}, {"null", "type", "/distanceId"}};
  if (field == "raceId") return {{"5", "type", "/raceId"}, {"null", "type", "/raceId"}};
  if (field == "heat") {
    return {{R"("1/2")", "type", "/heat"},
            {"null", "type", "/heat"},
            {R"({"round":1})", "required", "/heat/number"},
            {R"({"number":2})", "required", "/heat/round"},
            {R"({"round":"1","number":2})", "type", "/heat/round"},
            {R"({"round":1,"number":2.5})", "type", "/heat/number"}};
  }
  return {};
}

class EventSchemasTest : public ::testing::Test {
 protected:
  static const EventSchemas& schemas() {
    static const EventSchemas compiled;
    return compiled;
  }
};

class KnownTypeSchemaTest : public EventSchemasTest, public ::testing::WithParamInterface<TypeCase> {
 protected:
  EventType type() const { return event_type_from_name(GetParam().type_name); }
  SchemaResult validate(const Members& members) const {
    return schemas().validate(event_of(type(), object_of(members)));
  }
};

TEST_F(EventSchemasTest, EveryEventOfTheRealRecordingValidates) {
  const auto events = testing::load_recording(testing::kRealRecordingName);
  SKIP_WITHOUT_RECORDING(events);
  ASSERT_FALSE(events->empty());
  for (const PositionedEvent& item : *events) {
    const SchemaResult result = schemas().validate(item.event);
    EXPECT_TRUE(result.ok()) << "event " << item.position << " (" << item.event.header.type_name
                             << "): " << result.reason << " at '" << result.pointer << "'";
  }
}

TEST_F(EventSchemasTest, HasOneSchemaPerKnownTypeAndOneForUnknownTypes) {
  std::vector<std::string> expected = {"UnknownEvent"};
  for (int i = 1; i < kEventTypeCount; ++i) expected.emplace_back(event_type_name(static_cast<EventType>(i)));
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(EventSchemas::type_names(), expected);
}

TEST_F(EventSchemasTest, UnknownTypeWithOnlyCompetitionIdValidates) {
  const SchemaResult result = schemas().validate(
      event_of(EventType::kUnknown, R"({"typeName":"CompetitionNoteEvent","competitionId":"c1"})"));
  EXPECT_TRUE(result.ok()) << result.reason << " at '" << result.pointer << "'";
}

TEST_F(EventSchemasTest, UnknownTypeIdsMayBeNullOrOfTheirShape) {
  const std::vector<std::string> valid_events = {
      R"({"typeName":"X","competitionId":"c1","distanceId":null,"heat":null,"raceId":null})",
      R"({"typeName":"X","competitionId":"c1","distanceId":"d1"})",
      R"({"typeName":"X","competitionId":"c1","distanceId":"d1","heat":{"round":1,"number":2},"raceId":"r"})",
  };
  for (const std::string& json : valid_events) {
    const SchemaResult result = schemas().validate(event_of(EventType::kUnknown, json));
    EXPECT_TRUE(result.ok()) << json << ": " << result.reason << " at '" << result.pointer << "'";
  }
}

TEST_F(EventSchemasTest, UnknownTypeRejectsMissingOrMistypedRoutingFields) {
  struct Case {
    std::string json;
    std::string reason;
    std::string pointer;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"typeName":"X"})", "required", "/competitionId"},
           {R"({"competitionId":"c1"})", "required", "/typeName"},
           {R"({"typeName":7,"competitionId":"c1"})", "type", "/typeName"},
           {R"({"typeName":"X","competitionId":""})", "minLength", "/competitionId"},
           {R"({"typeName":"X","competitionId":"c1","distanceId":5})", "type", "/distanceId"},
           {R"({"typeName":"X","competitionId":"c1","raceId":[]})", "type", "/raceId"},
           {R"({"typeName":"X","competitionId":"c1","distanceId":"d1","heat":"h"})", "type", "/heat"},
           {R"({"typeName":"X","competitionId":"c1","distanceId":"d1","heat":{"round":1}})", "required",
            "/heat/number"},
           // A heat's subject names its distance, so a heat without a distanceId cannot be routed.
           {R"({"typeName":"X","competitionId":"c1","heat":{"round":1,"number":2}})", "dependencies",
            "/heat"},
           {R"({"typeName":"X","competitionId":"c1","distanceId":null,"heat":{"round":1,"number":2}})",
            "dependencies", "/heat"},
       }) {
    const SchemaResult result = schemas().validate(event_of(EventType::kUnknown, c.json));
    EXPECT_EQ(result.reason, c.reason) << c.json;
    EXPECT_EQ(result.pointer, c.pointer) << c.json;
  }
}

TEST_F(EventSchemasTest, OtherMembersPassThroughAndTheMissingMemberIsFoundInTheRightObject) {
  // Look-alike routing members nested in the payload are not the event's own: they neither satisfy nor
  // break the schema, and the missing member is reported in the object that lacks it.
  const std::string nested = R"("races":[{"heat":{"round":"x"},"raceId":5},[{"distanceId":{}}]],)";
  const std::string base =
      R"({"typeName":"HeatActivatedEvent",)" + nested + R"("competitionId":"c1","distanceId":"d1",)";
  EXPECT_TRUE(schemas()
                  .validate(event_of(EventType::kHeatActivated, base + R"("heat":{"round":1,"number":2}})"))
                  .ok());

  const SchemaResult result =
      schemas().validate(event_of(EventType::kHeatActivated, base + R"("heat":{"round":1}})"));
  EXPECT_EQ(result.reason, "required");
  EXPECT_EQ(result.pointer, "/heat/number");
}

TEST_F(EventSchemasTest, BytesThatAreNotJsonAreRejected) {
  EXPECT_EQ(schemas().validate(event_of(EventType::kHeatStarted, R"({"typeName":)")).reason, "not_json");
  Event without_bytes;
  EXPECT_EQ(schemas().validate(without_bytes).reason, "not_json");
}

// The bytes are untrusted and nesting is bounded only by their size: validation must neither recurse per
// level (a crash) nor visit every open level for each value (minutes at this depth; the alarm ends it).
TEST(EventSchemasDeathTest, DeeplyNestedEventValidatesWithoutRecursionInLinearTime) {
  constexpr std::size_t kDepth = 400000;
  const std::string prefix = R"({"typeName":"NoteEvent","competitionId":"c1","a":)";
  const std::string nested = prefix + std::string(kDepth, '[') + std::string(kDepth, ']') + "}";
  const std::string unterminated = prefix + std::string(kDepth, '[');
  const std::string without_competition =
      R"({"typeName":"NoteEvent","a":)" + std::string(kDepth, '[') + std::string(kDepth, ']') + "}";
  EXPECT_EXIT(
      {
        alarm(30);
        const EventSchemas schemas;
        const bool nested_ok = schemas.validate(event_of(EventType::kUnknown, nested)).ok();
        const bool unterminated_rejected =
            schemas.validate(event_of(EventType::kUnknown, unterminated)).reason == "not_json";
        const SchemaResult missing = schemas.validate(event_of(EventType::kUnknown, without_competition));
        std::exit(nested_ok && unterminated_rejected && missing.pointer == "/competitionId" ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST_P(KnownTypeSchemaTest, MinimalEventValidates) {
  const SchemaResult result = validate(minimal_members(GetParam()));
  EXPECT_TRUE(result.ok()) << result.reason << " at '" << result.pointer << "'";
}

TEST_P(KnownTypeSchemaTest, EachRequiredFieldMissingIsRejected) {
  const Members minimal = minimal_members(GetParam());
  for (const Member& member : minimal) {
    const SchemaResult result = validate(without(minimal, member.name));
    EXPECT_EQ(result.reason, "required") << "without " << member.name;
    EXPECT_EQ(result.pointer, "/" + member.name) << "without " << member.name;
  }
}

TEST_P(KnownTypeSchemaTest, EachRequiredFieldOfTheWrongTypeIsRejected) {
  const TypeCase& type_case = GetParam();
  const Members minimal = minimal_members(type_case);
  for (const Member& member : minimal) {
    std::vector<WrongValue> wrong_values = wrong_values_of(member.name);
    if (member.name == type_case.payload.name) {
      wrong_values = type_case.payload_wrong;
      for (WrongValue& wrong : wrong_values) wrong.pointer = "/" + member.name;
    }
    ASSERT_FALSE(wrong_values.empty()) << member.name;
    for (const WrongValue& wrong : wrong_values) {
      const SchemaResult result = validate(with(minimal, member.name, wrong.value));
      EXPECT_EQ(result.reason, wrong.reason) << member.name << " = " << wrong.value;
      EXPECT_EQ(result.pointer, wrong.pointer) << member.name << " = " << wrong.value;
    }
  }
}

TEST_P(KnownTypeSchemaTest, IdsItDoesNotRequireMayBeNullButNotOfAnotherType) {
  const TypeCase& type_case = GetParam();
  const Members minimal = minimal_members(type_case);
  struct Optional {
    bool required;
    std::string name;
    std::string wrong_value;
  };
  for (const Optional& id :
       {Optional{type_case.distance, "distanceId", "5"}, Optional{type_case.heat, "heat", "\"h\""},
        Optional{type_case.race, "raceId", "5"}}) {
    if (id.required) continue;
    const SchemaResult null_result = validate(with(minimal, id.name, "null"));
    EXPECT_TRUE(null_result.ok()) << id.name << ": " << null_result.reason << " at '" << null_result.pointer
                                  << "'";
    const SchemaResult wrong_result = validate(with(minimal, id.name, id.wrong_value));
    EXPECT_EQ(wrong_result.reason, "type") << id.name;
    EXPECT_EQ(wrong_result.pointer, "/" + id.name) << id.name;
  }
  if (!type_case.distance) {
    // Where distanceId is optional, a heat still needs one.
    const Members with_heat = with(minimal, "heat", R"({"round":1,"number":2})");
    const SchemaResult without_distance = validate(with_heat);
    EXPECT_EQ(without_distance.reason, "dependencies");
    EXPECT_EQ(without_distance.pointer, "/heat");
    EXPECT_TRUE(validate(with(with_heat, "distanceId", R"("d1")")).ok());
  }
}

INSTANTIATE_TEST_SUITE_P(AllKnownTypes, KnownTypeSchemaTest, ::testing::ValuesIn(known_type_cases()),
                         [](const ::testing::TestParamInfo<TypeCase>& info) { return info.param.type_name; });

}  // namespace
}  // namespace ovalstream::core
