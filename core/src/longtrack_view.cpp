// The JSON summary of the long-track state. A cold path (HTTP GET), so it parses the retained events with
// a DOM; the hot path never calls it.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>

#include "longtrack_view.hpp"

namespace ovalstream::core::longtrack {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;
using rapidjson::Value;

rapidjson::Document parse_dom(const PositionedEvent& event) {
  rapidjson::Document document;
  document.Parse(event.event.raw().data(), event.event.raw().size());
  if (document.HasParseError() || !document.IsObject()) document.SetObject();
  return document;
}

const Value* member(const Value& object, const char* name) {
  if (!object.IsObject()) return nullptr;
  const auto it = object.FindMember(name);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

// Copies object[name] (any JSON value) to the output as `key`, or null when absent.
void copy_field(Writer& out, const char* key, const Value& object, const char* name) {
  out.Key(key);
  const Value* value = member(object, name);
  if (value) {
    value->Accept(out);
  } else {
    out.Null();
  }
}

void write_competitor(Writer& out, const Value& race) {
  const Value* competitor = member(race, "competitor");
  out.Key("competitor");
  if (!competitor || !competitor->IsObject()) {
    out.Null();
    return;
  }
  out.StartObject();
  for (const char* name : {"name", "shortName", "nationalityCode", "startNumber", "category"}) {
    copy_field(out, name, *competitor, name);
  }
  out.EndObject();
}

std::optional<std::int64_t> int_field(const Value& object, const char* name) {
  const Value* value = member(object, name);
  if (value && value->IsInt64()) return value->GetInt64();
  return std::nullopt;
}

// Lap passing times (ticks of 100 ns) in order: the activation's laps unless the heat was cleared since,
// then every RaceLapAddedEvent.
std::vector<std::int64_t> lap_times(const Value* activation_race, bool cleared, const RaceState* race) {
  std::vector<std::int64_t> times;
  if (activation_race && !cleared) {
    const Value* laps = member(*activation_race, "laps");
    if (laps && laps->IsArray()) {
      for (const Value& lap : laps->GetArray()) {
        if (auto time = int_field(lap, "time")) times.push_back(*time);
      }
    }
  }
  if (race) {
    for (const PositionedEvent& event : race->laps) {
      const rapidjson::Document document = parse_dom(event);
      const Value* lap = member(document, "lap");
      if (lap) {
        if (auto time = int_field(*lap, "time")) times.push_back(*time);
      }
    }
  }
  return times;
}

void write_latest(Writer& out, const char* key, const std::optional<PositionedEvent>& latest,
                  const char* field) {
  out.Key(key);
  if (!latest) {
    out.Null();
    return;
  }
  const rapidjson::Document document = parse_dom(*latest);
  const Value* value = member(document, field);
  if (value) {
    value->Accept(out);
  } else {
    out.Null();
  }
}

void write_race(Writer& out, const std::string& race_id, const Value* activation_entry, bool cleared,
                const RaceState* race) {
  const Value* race_object = activation_entry ? member(*activation_entry, "race") : nullptr;
  out.StartObject();
  out.Key("id");
  out.String(race_id.c_str(), static_cast<rapidjson::SizeType>(race_id.size()));
  if (race_object) {
    copy_field(out, "lane", *race_object, "lane");
    copy_field(out, "color", *race_object, "color");
    write_competitor(out, *race_object);
  } else {
    out.Key("lane");
    out.Null();
    out.Key("color");
    out.Null();
    out.Key("competitor");
    out.Null();
  }
  const Value* embedded_passings = activation_entry ? member(*activation_entry, "passings") : nullptr;
  std::size_t passings = race ? race->passings.size() : 0;
  if (!cleared && embedded_passings && embedded_passings->IsArray()) passings += embedded_passings->Size();
  out.Key("passings");
  out.Uint64(passings);
  out.Key("laps");
  out.StartArray();
  std::int64_t previous = 0;
  for (const std::int64_t time : lap_times(activation_entry ? race_object : nullptr, cleared, race)) {
    out.StartObject();
    out.Key("time");
    out.Int64(time);
    out.Key("lapTime");
    out.Int64(time - previous);
    out.EndObject();
    previous = time;
  }
  out.EndArray();
  out.Key("lastSpeed");
  if (race && race->speed) {
    const rapidjson::Document document = parse_dom(*race->speed);
    const Value* passing = member(document, "passing");
    const Value* speed = passing ? member(*passing, "speed") : nullptr;
    if (speed) {
      speed->Accept(out);
    } else {
      out.Null();
    }
  } else {
    out.Null();
  }
  write_latest(out, "presentedLap", race ? race->presented_lap : std::nullopt, "lap");
  write_latest(out, "nextLapIndex", race ? race->next_lap_index : std::nullopt, "index");
  out.EndObject();
}

bool has_event(const HeatState& heat, EventType type) {
  return std::any_of(heat.events.begin(), heat.events.end(),
                     [&](const PositionedEvent& e) { return e.event.header.type == type; });
}

void write_heat(Writer& out, const HeatState& heat, const DistanceState& distance) {
  const bool cleared = has_event(heat, EventType::kHeatCleared);
  out.StartObject();
  out.Key("round");
  out.Int64(heat.key.round);
  out.Key("number");
  out.Int64(heat.key.number);
  out.Key("active");
  out.Bool(heat.active);
  out.Key("started");
  out.Bool(has_event(heat, EventType::kHeatStarted));
  out.Key("cleared");
  out.Bool(cleared);
  out.Key("committed");
  out.Bool(std::any_of(distance.committed.begin(), distance.committed.end(),
                       [&](const PositionedEvent& e) { return e.event.header.heat == heat.key; }));
  write_latest(out, "nextLapIndex", heat.next_lap_index, "index");
  out.Key("races");
  out.StartArray();
  const rapidjson::Document activation = parse_dom(heat.activation);
  std::vector<std::string> written;
  const Value* races = member(activation, "races");
  if (races && races->IsArray()) {
    for (const Value& entry : races->GetArray()) {
      const Value* race_object = member(entry, "race");
      const Value* id = race_object ? member(*race_object, "id") : nullptr;
      if (!id || !id->IsString()) continue;
      const std::string race_id(id->GetString(), id->GetStringLength());
      const auto state = std::find_if(heat.races.begin(), heat.races.end(),
                                      [&](const RaceState& r) { return r.id == race_id; });
      write_race(out, race_id, &entry, cleared, state == heat.races.end() ? nullptr : &*state);
      written.push_back(race_id);
    }
  }
  // Races the activation does not list, by id: the order their events first came in is not something a
  // snapshot keeps (a superseded first event is dropped), so it must not show in the view.
  std::vector<const RaceState*> unlisted;
  for (const RaceState& race : heat.races) {
    if (std::find(written.begin(), written.end(), race.id) == written.end()) unlisted.push_back(&race);
  }
  std::sort(unlisted.begin(), unlisted.end(),
            [](const RaceState* a, const RaceState* b) { return a->id < b->id; });
  for (const RaceState* race : unlisted) write_race(out, race->id, nullptr, cleared, race);
  out.EndArray();
  out.EndObject();
}

void write_committed(Writer& out, const PositionedEvent& committed) {
  const rapidjson::Document document = parse_dom(committed);
  out.StartObject();
  out.Key("round");
  out.Int64(committed.event.header.heat->round);
  out.Key("number");
  out.Int64(committed.event.header.heat->number);
  out.Key("races");
  out.StartArray();
  const Value* races = member(document, "races");
  if (races && races->IsArray()) {
    for (const Value& entry : races->GetArray()) {
      const Value* race = member(entry, "race");
      if (!race) continue;
      out.StartObject();
      copy_field(out, "id", *race, "id");
      copy_field(out, "lane", *race, "lane");
      write_competitor(out, *race);
      copy_field(out, "time", *race, "time");
      const Value* result = member(*race, "result");
      out.Key("status");
      if (result && member(*result, "status")) {
        member(*result, "status")->Accept(out);
      } else {
        out.Null();
      }
      out.EndObject();
    }
  }
  out.EndArray();
  out.EndObject();
}

}  // namespace

std::string state_view_json(const CompetitionView& view) {
  rapidjson::StringBuffer buffer;
  Writer out(buffer);
  out.StartObject();
  out.Key("competition");
  if (view.competition_activation) {
    const rapidjson::Document document = parse_dom(*view.competition_activation);
    const Value* competition = member(document, "competition");
    out.StartObject();
    copy_field(out, "id", document, "competitionId");
    for (const char* name : {"name", "discipline", "starts", "ends"}) {
      if (competition) {
        copy_field(out, name, *competition, name);
      } else {
        out.Key(name);
        out.Null();
      }
    }
    out.EndObject();
  } else {
    out.Null();
  }
  out.Key("competitionEvents");
  out.Uint64(view.competition_events.size());
  out.Key("distance");
  if (view.distance) {
    const DistanceState& distance = *view.distance;
    const rapidjson::Document document = parse_dom(distance.activation);
    const Value* object = member(document, "distance");
    static const Value kEmpty(rapidjson::kObjectType);
    out.StartObject();
    out.Key("id");
    out.String(distance.id.c_str(), static_cast<rapidjson::SizeType>(distance.id.size()));
    for (const char* name : {"name", "number", "discipline", "value", "trackLength"}) {
      copy_field(out, name, object ? *object : kEmpty, name);
    }
    out.Key("deactivated");
    out.Bool(std::any_of(distance.events.begin(), distance.events.end(), [](const PositionedEvent& e) {
      return e.event.header.type == EventType::kDistanceDeactivated;
    }));
    out.Key("committedHeats");
    out.StartArray();
    for (const PositionedEvent& committed : distance.committed) write_committed(out, committed);
    out.EndArray();
    out.Key("heats");
    out.StartArray();
    for (const HeatState& heat : distance.heats) write_heat(out, heat, distance);
    out.EndArray();
    out.EndObject();
  } else {
    out.Null();
  }
  out.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace ovalstream::core::longtrack
