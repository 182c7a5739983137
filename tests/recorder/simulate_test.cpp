// `recorder simulate` and the simulator behind it: every event parses with the core and passes the proto/
// schemas, the snapshot property holds, the output is deterministic, the committed examples are what the
// commands in examples/README.md make, and the races are plausible (lap times per distance and category,
// lap counts, passings in time order, a mass start of ~20 races and 16 laps, two heats at once, a clear).
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "commands/commands.hpp"
#include "ovalstream/core/competition_state.hpp"
#include "ovalstream/core/event.hpp"
#include "ovalstream/core/record_codec.hpp"
#include "ovalstream/core/schema.hpp"
#include "recorder/support/recorder_process.hpp"
#include "simulator/simulator.hpp"
#include "support/snapshot_property.hpp"

namespace ovalstream::recorder {
namespace {

using namespace ovalstream::simulator;

namespace fs = std::filesystem;

// The repository root, from this file's path (tests/recorder/simulate_test.cpp).
// From CMake, not __FILE__: with ccache's base_dir (or -ffile-prefix-map) __FILE__ is relative.
fs::path source_root() {
  return fs::path(OVALSTREAM_SOURCE_DIR);
}

std::vector<SimulatedEvent> simulate(std::uint64_t seed, std::optional<SimulatedDistance> only = std::nullopt,
                                     int heats = 0) {
  SimulationOptions options;
  options.seed = seed;
  options.only = only;
  options.heats = heats;
  return simulate_competition(options);
}

std::string recording_text(const std::vector<SimulatedEvent>& events) {
  std::string text;
  for (const auto& e : events) text += core::write_record_line(e.bytes, e.time) + "\n";
  return text;
}

std::vector<core::PositionedEvent> positioned(const std::vector<SimulatedEvent>& events) {
  std::vector<core::PositionedEvent> out;
  core::Position position = 0;
  for (const auto& e : events) {
    auto parsed = core::parse_event(std::string_view(e.bytes));
    if (!parsed.ok()) throw std::runtime_error("unparsable simulated event");
    out.push_back({++position, std::move(parsed).value()});
  }
  return out;
}

rapidjson::Document dom(const std::string& bytes) {
  rapidjson::Document document;
  document.Parse(bytes.data(), bytes.size());
  return document;
}

// Every event: a valid recording line, parsed by the core, valid against its schema; times increase.
void expect_well_formed(const std::vector<SimulatedEvent>& events) {
  static const core::EventSchemas schemas;
  ASSERT_FALSE(events.empty());
  std::int64_t last = 0;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    const std::string line = core::write_record_line(e.bytes, e.time);
    const core::RecordLineResult read = core::read_record_line(line);
    ASSERT_TRUE(read.ok()) << "line " << i + 1 << ": " << core::record_error_name(read.error());
    ASSERT_EQ(read->event_bytes, e.bytes) << "line " << i + 1;
    const auto parsed = core::parse_event(std::string_view(e.bytes));
    ASSERT_TRUE(parsed.ok()) << "line " << i + 1 << ": " << core::parse_error_name(parsed.error()) << "\n"
                             << e.bytes.substr(0, 300);
    const core::SchemaResult valid = schemas.validate(*parsed);
    ASSERT_TRUE(valid.ok()) << "line " << i + 1 << " (" << parsed->header.type_name << "): " << valid.reason
                            << " at " << valid.pointer;
    if (i > 0) {
      ASSERT_GT(e.time.unix_micros, last) << "recorded times must increase, line " << i + 1;
    }
    last = e.time.unix_micros;
  }
  EXPECT_EQ(dom(events.front().bytes)["typeName"].GetString(), std::string("CompetitionActivatedEvent"));
}

TEST(Simulate, EveryEventParsesAndPassesTheSchemas) {
  expect_well_formed(simulate(1, std::nullopt, 2));
  for (const auto d :
       {SimulatedDistance::k500, SimulatedDistance::k1000, SimulatedDistance::k1500, SimulatedDistance::k5000,
        SimulatedDistance::kTeamPursuit, SimulatedDistance::kMassStart}) {
    SCOPED_TRACE(std::string(simulated_distance_name(d)));
    expect_well_formed(simulate(3, d));
  }
}

// Every cut point of a distance with a cleared heat (the 500 m has a false start in a later pair) and of
// quartet starts (two heats at once).
TEST(Simulate, SnapshotPropertyEveryCutPoint) {
  EXPECT_TRUE(testing::snapshot_property_holds(positioned(simulate(5, SimulatedDistance::k500, 3))));
  EXPECT_TRUE(testing::snapshot_property_holds(positioned(simulate(5, SimulatedDistance::k5000, 2))));
  EXPECT_TRUE(testing::snapshot_property_holds(positioned(simulate(5, SimulatedDistance::kTeamPursuit, 2))));
}

// The whole competition (thousands of events): the same property at every 37th cut point and around every
// heat-level event, to stay quick; the full check of every cut point runs on the distances above.
TEST(Simulate, SnapshotPropertyOverTheWholeCompetition) {
  const auto events = positioned(simulate(1, std::nullopt, 2));
  const std::string competition = events.front().event.header.competition_id;
  core::CompetitionState full = core::make_longtrack_state(competition);
  for (const auto& e : events) full.apply(e.event, e.position);
  std::set<std::size_t> cuts = {0, events.size()};
  for (std::size_t cut = 0; cut <= events.size(); cut += 37) cuts.insert(cut);
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (!events[i].event.header.race_id) {
      cuts.insert(i);
      cuts.insert(i + 1);
    }
  }
  core::CompetitionState prefix = core::make_longtrack_state(competition);
  std::size_t applied = 0;
  for (const std::size_t cut : cuts) {
    for (; applied < cut; ++applied) prefix.apply(events[applied].event, events[applied].position);
    core::CompetitionState joined = core::make_longtrack_state(competition);
    for (const auto& e : *prefix.snapshot()) {
      ASSERT_EQ(joined.apply(e.event, e.position), core::ApplyResult::kApplied) << "cut " << cut;
    }
    ASSERT_TRUE(testing::same_view(prefix, joined)) << "after the snapshot, cut " << cut;
    for (std::size_t i = cut; i < events.size(); ++i) joined.apply(events[i].event, events[i].position);
    ASSERT_TRUE(testing::same_view(full, joined)) << "at the end, cut " << cut;
  }
}

TEST(Simulate, SameSeedSameBytesOtherSeedOtherBytes) {
  const std::string a = recording_text(simulate(42, std::nullopt, 1));
  EXPECT_EQ(a, recording_text(simulate(42, std::nullopt, 1)));
  EXPECT_NE(a, recording_text(simulate(43, std::nullopt, 1)));
  EXPECT_NE(recording_text(simulate(42, SimulatedDistance::k1500)),
            recording_text(simulate(43, SimulatedDistance::k1500)));
}

// (Known bytes across platforms: ExamplesAreWhatTheReadmeCommandsMake compares with the committed files.)
TEST(Simulate, StartTimeAndOffsetAreThoseGiven) {
  SimulationOptions options;
  options.only = SimulatedDistance::k500;
  options.heats = 1;
  options.start = *core::parse_rfc3339("2025-11-30T09:30:00-05:00");
  const auto events = simulate_competition(options);
  EXPECT_EQ(core::format_rfc3339(events.front().time), "2025-11-30T09:30:00-05:00");
  for (const auto& e : events) EXPECT_EQ(e.time.utc_offset_minutes, -300);
}

// ---- plausibility ----

struct Range {
  double low;
  double high;
};

struct LapRule {
  Range first;  // the opener (or the first lap of a mass start)
  Range other;  // every other lap
};

// What a fan expects, per distance and category (seconds per lap or opener; team pursuit: per half lap).
LapRule lap_rule(const std::string& name) {
  if (name == "Men 500 meter") return {{9.2, 10.3}, {24.0, 26.5}};
  if (name == "Ladies 500 meter") return {{10.0, 11.3}, {26.2, 29.0}};
  if (name == "Men 1000 meter") return {{15.8, 17.5}, {25.0, 28.8}};
  if (name == "Ladies 1000 meter") return {{17.2, 19.3}, {27.0, 31.5}};
  if (name == "Men 1500 meter") return {{23.0, 25.6}, {25.5, 30.5}};
  if (name == "Ladies 1500 meter") return {{25.0, 28.0}, {28.0, 33.0}};
  if (name == "Men 5000 meter") return {{18.5, 21.0}, {28.0, 32.0}};
  if (name == "Ladies 5000 meter") return {{20.0, 23.0}, {30.5, 35.0}};
  if (name == "Men Team Pursuit") return {{17.0, 19.5}, {12.8, 15.0}};
  if (name == "Ladies Team Pursuit") return {{18.5, 21.5}, {13.8, 16.2}};
  if (name == "Men Mass Start") return {{30.0, 37.0}, {26.0, 34.5}};
  if (name == "Ladies Mass Start") return {{33.0, 40.0}, {28.0, 37.5}};
  ADD_FAILURE() << "no rule for " << name;
  return {};
}

struct Distance {
  std::string name;
  int value = 0;
  int value_quantity = 0;
};

struct Observed {
  std::map<std::string, Distance> distances;  // by id
  int races = 0;
  int mass_start_races = 0;
  bool two_heats_at_once = false;
  bool cleared_and_restarted = false;
};

Observed check_plausible(const std::vector<SimulatedEvent>& events) {
  Observed seen;
  std::map<std::string, std::int64_t> last_passing_time;  // by race
  std::map<std::string, std::set<std::int64_t>> active;   // distance -> heat numbers
  std::map<std::pair<std::string, std::int64_t>, std::vector<std::string>> heat_story;
  for (const auto& e : events) {
    const auto d = dom(e.bytes);
    const std::string type = d["typeName"].GetString();
    if (type == "DistanceActivatedEvent") {
      const auto& distance = d["distance"];
      seen.distances[d["distanceId"].GetString()] = {distance["name"].GetString(), distance["value"].GetInt(),
                                                     distance["valueQuantity"].GetInt()};
      continue;
    }
    if (!d.HasMember("heat") || d["heat"].IsNull()) continue;
    const std::string distance_id = d["distanceId"].GetString();
    const std::int64_t heat = d["heat"]["number"].GetInt64();
    auto& story = heat_story[{distance_id, heat}];
    if (type == "HeatActivatedEvent") {
      if (!active[distance_id].empty()) seen.two_heats_at_once = true;
      active[distance_id].insert(heat);
    }
    if (type == "HeatDeactivatedEvent") active[distance_id].erase(heat);
    if (type == "HeatStartedEvent" && !story.empty() && story.back() == "HeatClearedEvent")
      seen.cleared_and_restarted = true;
    if (type.rfind("Heat", 0) == 0 && type != "HeatNextLapIndexChangedEvent") story.push_back(type);
    if (type == "RacePassingAddedEvent") {
      const auto& passing = d["passing"];
      if (std::string(passing["presentationSource"]["how"].GetString()) != "Transponder") continue;
      const std::string race = d["raceId"].GetString();
      const std::int64_t time = passing["time"].GetInt64();
      if (last_passing_time.count(race)) {
        EXPECT_GT(time, last_passing_time[race]) << "passings of race " << race << " out of order";
      }
      last_passing_time[race] = time;
    }
    if (type != "HeatCommittedEvent") continue;
    const Distance& distance = seen.distances.at(distance_id);
    const LapRule rule = lap_rule(distance.name);
    const bool mass_start = distance.name.find("Mass Start") != std::string::npos;
    const bool team = distance.name.find("Team Pursuit") != std::string::npos;
    std::size_t expected_laps = 0;
    if (distance.value_quantity == 0)
      expected_laps = static_cast<std::size_t>((distance.value + 399) / 400);
    else
      expected_laps = static_cast<std::size_t>(team ? distance.value * 2 : distance.value);
    const auto& races = d["races"].GetArray();
    if (mass_start) {
      seen.mass_start_races += static_cast<int>(races.Size());
      EXPECT_EQ(distance.value, 16);
    } else {
      EXPECT_EQ(races.Size(), 2u) << distance.name << " heat " << heat;
    }
    for (const auto& race : races) {
      ++seen.races;
      const auto& laps = race["race"]["laps"].GetArray();
      EXPECT_EQ(laps.Size(), expected_laps) << distance.name;
      std::int64_t previous = 0;
      for (rapidjson::SizeType i = 0; i < laps.Size(); ++i) {
        const std::int64_t time = laps[i]["time"].GetInt64();
        const double seconds = static_cast<double>(time - previous) / 1e7;
        const Range range = i == 0 ? rule.first : rule.other;
        EXPECT_GE(seconds, range.low) << distance.name << " lap " << i;
        EXPECT_LE(seconds, range.high) << distance.name << " lap " << i;
        previous = time;
      }
      EXPECT_EQ(race["race"]["time"]["time"].GetInt64(), previous) << "the result is the photo-finish time";
      const auto& competitor = race["race"]["competitor"];
      EXPECT_GT(std::string(competitor["fullName"].GetString()).size(), 2u);
      EXPECT_EQ(std::string(competitor["nationalityCode"].GetString()).size(), 3u);
      if (!mass_start) {
        EXPECT_TRUE(race["race"]["lane"].GetInt() == 0 || race["race"]["lane"].GetInt() == 1);
      }
      if (team) {
        EXPECT_EQ(competitor["members"].Size(), 3u);
      }
    }
  }
  for (const auto& [key, story] : heat_story) {
    // Activated, (started, cleared,) started, committed, deactivated.
    EXPECT_GE(story.size(), 4u);
    if (story.size() < 4) continue;
    EXPECT_EQ(story.front(), "HeatActivatedEvent");
    EXPECT_EQ(story[1], "HeatStartedEvent");
    EXPECT_EQ(story[story.size() - 2], "HeatCommittedEvent");
    EXPECT_EQ(story.back(), "HeatDeactivatedEvent");
  }
  return seen;
}

TEST(Simulate, ACompetitionAFanWouldBelieve) {
  for (const std::uint64_t seed : {1u, 2u, 3u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const Observed seen = check_plausible(simulate(seed));
    std::set<std::string> names;
    for (const auto& [id, distance] : seen.distances) names.insert(distance.name);
    EXPECT_EQ(names, (std::set<std::string>{"Men 500 meter", "Ladies 1000 meter", "Men 1500 meter",
                                            "Men 5000 meter", "Ladies Team Pursuit", "Men Mass Start"}));
    EXPECT_GE(seen.mass_start_races, 18);
    EXPECT_LE(seen.mass_start_races, 24);
    EXPECT_TRUE(seen.two_heats_at_once) << "the 5000 m runs in quartet starts";
    EXPECT_TRUE(seen.cleared_and_restarted) << "the 500 m has a false start";
  }
}

TEST(Simulate, EveryDistanceAloneIsPlausible) {
  for (const auto d :
       {SimulatedDistance::k500, SimulatedDistance::k1000, SimulatedDistance::k1500, SimulatedDistance::k5000,
        SimulatedDistance::kTeamPursuit, SimulatedDistance::kMassStart}) {
    SCOPED_TRACE(std::string(simulated_distance_name(d)));
    const Observed seen = check_plausible(simulate(11, d, 6));
    EXPECT_EQ(seen.distances.size(), 1u);
    EXPECT_EQ(seen.races, d == SimulatedDistance::kMassStart ? 20 : 12);
  }
}

// ---- the command ----

struct CommandRun {
  int exit_code = 0;
  std::string out;
  std::string err;
};

CommandRun run_command(const std::vector<std::string>& args) {
  std::ostringstream out;
  std::ostringstream err;
  const int code = run_simulate(args, out, err);
  return {code, out.str(), err.str()};
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void expect_usage_error(const std::vector<std::string>& args, const std::string& message) {
  const CommandRun run = run_command(args);
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_NE(run.err.find(message), std::string::npos) << "expected \"" << message << "\" in:\n" << run.err;
}

TEST(SimulateCommand, BadFlagsExit2WithAClearMessage) {
  expect_usage_error({}, "--out is required");
  expect_usage_error({"--out", "-", "--scope", "day"}, "not \"competition\" or \"distance\"");
  expect_usage_error({"--out", "-", "--scope", "distance"}, "--scope distance needs --distance");
  expect_usage_error({"--out", "-", "--distance", "3000", "--scope", "distance"}, "not one of 500");
  expect_usage_error({"--out", "-", "--distance", "500", "--scope", "competition"},
                     "--distance is for --scope distance");
  expect_usage_error({"--out", "-", "--start", "yesterday"}, "not an RFC 3339 time");
  expect_usage_error({"--out", "-", "--seed", "-1"}, "seed");
  expect_usage_error({"--out", "-", "--heats", "41"}, "heats");
  expect_usage_error({"--out", "-", "extra"}, "unexpected argument");
}

TEST(SimulateCommand, HelpNamesTheFlags) {
  const CommandRun run = run_command({"--help"});
  EXPECT_EQ(run.exit_code, 0);
  for (const char* flag : {"--out", "--seed", "--scope", "--distance", "--start", "--heats"}) {
    EXPECT_NE((run.out + run.err).find(flag), std::string::npos) << flag;
  }
}

TEST(SimulateCommand, DistanceAloneImpliesTheDistanceScope) {
  const CommandRun alone = run_command({"--distance", "1000", "--out", "-"});
  ASSERT_EQ(alone.exit_code, 0) << alone.err;
  EXPECT_EQ(alone.out, run_command({"--scope", "distance", "--distance", "1000", "--out", "-"}).out);
  EXPECT_EQ(alone.out, recording_text(simulate(1, SimulatedDistance::k1000)));
}

TEST(SimulateCommand, StdoutAndFileGetTheSameBytes) {
  const std::vector<std::string> flags = {"--seed", "9", "--scope", "distance", "--distance", "team-pursuit"};
  std::vector<std::string> to_stdout = flags;
  to_stdout.insert(to_stdout.end(), {"--out", "-"});
  const CommandRun piped = run_command(to_stdout);
  ASSERT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_NE(piped.err.find("wrote a simulated competition"), std::string::npos) << piped.err;

  const fs::path file =
      fs::temp_directory_path() / ("ovalstream-simulate-" + std::to_string(::getpid()) + ".jsonl");
  std::vector<std::string> to_file = flags;
  to_file.insert(to_file.end(), {"--out", file.string()});
  const CommandRun written = run_command(to_file);
  ASSERT_EQ(written.exit_code, 0) << written.err;
  EXPECT_EQ(read_file(file), piped.out);
  EXPECT_EQ(piped.out, recording_text(simulate(9, SimulatedDistance::kTeamPursuit)));
  fs::remove(file);
}

TEST(SimulateCommand, UnwritableOutIsAnError) {
  const CommandRun run = run_command({"--out", "/nonexistent-dir/x.jsonl"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("cannot write /nonexistent-dir/x.jsonl"), std::string::npos) << run.err;
}

// The real executable dispatches to the command.
TEST(SimulateCommand, TheExecutableRunsIt) {
  const itest::RecorderRun run = itest::run_recorder(
      {"simulate", "--scope", "distance", "--distance", "500", "--heats", "1", "--out", "-"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("\"typeName\":\"HeatCommittedEvent\""), std::string::npos);
}

// examples/*.jsonl are exactly what the commands in examples/README.md write now: they cannot drift.
TEST(SimulateCommand, ExamplesAreWhatTheReadmeCommandsMake) {
  const fs::path examples = source_root() / "examples";
  std::ifstream readme(examples / "README.md");
  ASSERT_TRUE(readme) << "no " << (examples / "README.md");
  std::set<std::string> checked;
  std::string line;
  while (std::getline(readme, line)) {
    const auto at = line.find("recorder simulate ");
    if (at == std::string::npos || line.find("--out examples/") == std::string::npos) continue;
    std::istringstream words(line.substr(at + std::string("recorder simulate ").size()));
    std::vector<std::string> args;
    std::string out;
    for (std::string word; words >> word;) {
      if (word == "--out" && words >> out) continue;
      args.push_back(word);
    }
    ASSERT_EQ(out.rfind("examples/", 0), 0u) << line;
    args.insert(args.end(), {"--out", "-"});
    const CommandRun run = run_command(args);
    ASSERT_EQ(run.exit_code, 0) << line << "\n" << run.err;
    const std::string committed = read_file(source_root() / out);
    EXPECT_EQ(committed.size(), run.out.size()) << out << " differs from: " << line;
    EXPECT_TRUE(committed == run.out) << out << " differs from what its command makes now: " << line;
    checked.insert(out);
  }
  EXPECT_TRUE(checked.count("examples/competition.jsonl")) << "no command for examples/competition.jsonl";
  EXPECT_TRUE(checked.count("examples/500m-pair.jsonl")) << "no command for examples/500m-pair.jsonl";
}

}  // namespace
}  // namespace ovalstream::recorder
