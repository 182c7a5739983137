#include "support/event_builder.hpp"

#include <cstdlib>
#include <iostream>

namespace ovalstream::testing {

std::string make_event_json(const std::string& type_name, const std::string& distance_id, int heat_number,
                            const std::string& race_id, const std::string& extra,
                            const std::string& competition_id) {
  std::string json = "{\"typeName\":\"" + type_name + "\",\"competitionId\":\"" + competition_id + "\"";
  if (!distance_id.empty()) json += ",\"distanceId\":\"" + distance_id + "\"";
  if (heat_number > 0) json += ",\"heat\":{\"round\":1,\"number\":" + std::to_string(heat_number) + "}";
  if (!race_id.empty()) json += ",\"raceId\":\"" + race_id + "\"";
  if (!extra.empty()) json += "," + extra;
  return json + "}";
}

EventSequence& EventSequence::add(const std::string& json) {
  auto parsed = core::parse_event(std::string_view(json));
  if (!parsed.ok()) {
    std::cerr << "test event does not parse (" << core::parse_error_name(parsed.error()) << "): " << json
              << "\n";
    std::abort();
  }
  events_.push_back({events_.size() + 1, std::move(parsed).value()});
  return *this;
}

EventSequence& EventSequence::competition_activated() {
  return add(make_event_json("CompetitionActivatedEvent", "", 0, "",
                             R"("competition":{"name":"Test Cup","discipline":"SpeedSkating.LongTrack"})",
                             competition_id_));
}

EventSequence& EventSequence::distance_activated(const std::string& distance_id) {
  return add(make_event_json("DistanceActivatedEvent", distance_id, 0, "",
                             R"("distance":{"name":"500m","id":")" + distance_id + R"("})", competition_id_));
}

EventSequence& EventSequence::distance_deactivated(const std::string& distance_id) {
  return add(make_event_json("DistanceDeactivatedEvent", distance_id, 0, "", "", competition_id_));
}

EventSequence& EventSequence::heat_activated(const std::string& distance_id, int heat,
                                             const std::vector<std::string>& races) {
  std::string list;
  int lane = 0;
  for (const auto& race : races) {
    if (!list.empty()) list += ",";
    list += R"({"laps":[],"passings":[],"race":{"id":")" + race + R"(","lane":)" + std::to_string(lane++) +
            R"(,"competitor":{"name":"Skater )" + race + R"(","nationalityCode":"NED"}}})";
  }
  return add(make_event_json("HeatActivatedEvent", distance_id, heat, "", "\"races\":[" + list + "]",
                             competition_id_));
}

EventSequence& EventSequence::heat_event(const std::string& type_name, const std::string& distance_id,
                                         int heat, const std::string& extra) {
  return add(make_event_json(type_name, distance_id, heat, "", extra, competition_id_));
}

EventSequence& EventSequence::race_event(const std::string& type_name, const std::string& distance_id,
                                         int heat, const std::string& race, const std::string& extra) {
  return add(make_event_json(type_name, distance_id, heat, race, extra, competition_id_));
}

EventSequence& EventSequence::heat_committed(const std::string& distance_id, int heat,
                                             const std::string& extra) {
  return add(make_event_json("HeatCommittedEvent", distance_id, heat, "",
                             extra.empty() ? "\"races\":[]" : extra, competition_id_));
}

void apply_range(core::CompetitionState& state, const std::vector<core::PositionedEvent>& events,
                 std::size_t begin, std::size_t end) {
  for (std::size_t i = begin; i < end; ++i) state.apply(events[i].event, events[i].position);
}

std::vector<std::string> type_names(const core::Snapshot& snapshot) {
  std::vector<std::string> names;
  for (const auto& item : snapshot) names.push_back(item.event.header.type_name);
  return names;
}

}  // namespace ovalstream::testing
