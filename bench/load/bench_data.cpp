#include "bench_data.hpp"

#include <cstring>
#include <set>
#include <stdexcept>

#include "ovalstream/core/subject.hpp"
#include "support/event_builder.hpp"
#include "support/recording.hpp"

namespace ovalstream::bench {
namespace {

const std::set<std::string> kLiveTypes = {"LastRaceSpeedChangedEvent", "LastPresentedRaceLapChangedEvent",
                                          "RaceNextLapIndexChangedEvent", "HeatNextLapIndexChangedEvent"};

void add_events(BenchData& data, const std::vector<core::PositionedEvent>& events,
                std::size_t prefix_events) {
  core::HeatGroupAssigner groups;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const core::Event& event = events[i].event;
    const int group = groups.observe(event.header);
    auto subject = core::subject_for(event.header, group);
    if (!subject) throw std::runtime_error("event " + std::to_string(i) + " has no subject");
    SubjectEvent item{*subject, std::string(event.raw())};
    if (data.competition_id.empty()) data.competition_id = event.header.competition_id;
    if (i < prefix_events) {
      data.prefix.push_back(std::move(item));
    } else if (kLiveTypes.count(event.header.type_name) != 0 &&
               event.header.competition_id == data.competition_id) {
      data.live.push_back(std::move(item));
    }
  }
}

}  // namespace

BenchData load_bench_data(std::size_t prefix_events) {
  BenchData data;
  if (auto recording = testing::load_recording(testing::kRealRecordingName)) {
    data.source = std::string("recording ") + testing::kRealRecordingName;
    // The recording's first competition activations are of other competitions; the heat's is the last.
    for (const auto& positioned : *recording) {
      if (positioned.event.header.type_name == "HeatActivatedEvent") {
        data.competition_id = positioned.event.header.competition_id;
        break;
      }
    }
    add_events(data, *recording, std::min(prefix_events, recording->size() / 2));
  }
  if (data.live.empty()) {
    data = BenchData{};
    data.source = "built-in sample";
    testing::EventSequence sequence;
    sequence.competition_activated()
        .distance_activated(testing::kDistanceA)
        .heat_activated(testing::kDistanceA, 1, {"r1", "r2"});
    // About the size of a real LastRaceSpeedChangedEvent (350 to 570 bytes), with the "passing" object its
    // schema requires (proto/events/LastRaceSpeedChangedEvent.schema.json).
    const std::string padding =
        R"("speed":{"value":12.345,"unit":"m/s"},"instance":"c9b7d003-3fe6-4710-a5d0-55ecb54bc08c",)"
        R"("time":"2020-01-12T14:45:54.216352+01:00","passing":{"lap":3,"distance":1200,"remark":"bench padding bench padding bench padding"})";
    for (int i = 0; i < 8; ++i) {
      sequence.race_event("LastRaceSpeedChangedEvent", testing::kDistanceA, 1, i % 2 == 0 ? "r1" : "r2",
                          padding);
    }
    add_events(data, sequence.events(), 3);
    data.competition_id = testing::kCompetition;
  }
  return data;
}

std::uint64_t content_hash(std::string_view bytes) noexcept {
  // FNV-1a over 8-byte words (a word at a time keeps it cheap beside reading millions of frames/s), then
  // the tail bytes and the length; never 0, which marks "not published".
  std::uint64_t hash = 0xcbf29ce484222325ull;
  std::size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, bytes.data() + i, 8);
    hash = (hash ^ word) * 0x100000001b3ull;
    hash ^= hash >> 29;
  }
  for (; i < bytes.size(); ++i) hash = (hash ^ static_cast<unsigned char>(bytes[i])) * 0x100000001b3ull;
  hash = (hash ^ bytes.size()) * 0x100000001b3ull;
  return hash == 0 ? 1 : hash;
}

std::string with_bench_sequence(const std::string& json, std::uint64_t sequence) {
  std::string out;
  out.reserve(json.size() + 32);
  out += "{\"_bench\":";
  out += std::to_string(sequence);
  out += json.size() > 2 ? "," : "";
  out.append(json, 1, std::string::npos);
  return out;
}

}  // namespace ovalstream::bench
