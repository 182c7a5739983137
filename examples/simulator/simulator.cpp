#include "simulator/simulator.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <set>
#include <utility>

#include "ovalstream/core/record_codec.hpp"
#include "simulator/distances.hpp"
#include "simulator/nations.hpp"
#include "simulator/random.hpp"
#include "simulator/sorted_json.hpp"

namespace ovalstream::simulator {
namespace {

// ---------------------------------------------------------------------------------------------------------
// JSON (sorted_json.hpp): every object with its keys sorted.

using Member = JsonMember;
const Json kNull = Json::null();

// Appends `more` to `members`.
std::vector<JsonMember> with(std::vector<JsonMember> members, std::vector<JsonMember> more) {
  for (auto& member : more) members.push_back(std::move(member));
  return members;
}

// ---------------------------------------------------------------------------------------------------------
// Times. Inside events: 100 ns ticks since the race's start. "when": UTC with 7 fraction digits, trailing
// zeros trimmed (the real recording: "2020-01-12T13:45:16.6829Z"). Local times: no offset.

using Ticks = std::int64_t;
constexpr Ticks kTicksPerSecond = 10'000'000;
constexpr Ticks kTicksPerCentisecond = 100'000;
constexpr std::int64_t kMicrosPerSecond = 1'000'000;

constexpr Ticks cs(std::int64_t centiseconds) {
  return centiseconds * kTicksPerCentisecond;
}
constexpr std::int64_t seconds_us(std::int64_t seconds) {
  return seconds * kMicrosPerSecond;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

// Seven fraction digits of `ticks` within a second; trimmed of trailing zeros when `trim`.
std::string fraction(std::int64_t ticks_in_second, bool trim) {
  std::array<char, 16> buffer{};
  std::snprintf(buffer.data(), buffer.size(), "%07lld", static_cast<long long>(ticks_in_second));
  std::string digits = buffer.data();
  if (trim) {
    while (!digits.empty() && digits.back() == '0') digits.pop_back();
  }
  return digits.empty() ? "" : "." + digits;
}

// UTC "when" of an instant given in ticks since the epoch.
std::string utc_when(Ticks unix_ticks) {
  const std::int64_t seconds = floor_div(unix_ticks, kTicksPerSecond);
  return core::format_date_time(seconds) + fraction(unix_ticks - seconds * kTicksPerSecond, true) + "Z";
}

// ---------------------------------------------------------------------------------------------------------
// The rink: 400 m, the finish line (line A) and the opposite line (line B, 200 m on); positions counted in
// 100 m units from line A. Transponder loops lie every kLoopSpacing units, at the lines and between them.

// Loops at both lines: "where" 1 at line B, 2 at line A. (Thialf has 12; two keep a 20-skater mass start
// recording small, and every lap of every distance still ends at a loop.)
constexpr int kLoopSpacing = 2;
constexpr int kUnitsPerLap = 4;
// How far the loop antenna is from its 100 m mark (centimeters), per position: "passed" is where the loop is.
constexpr std::array<int, 4> kLoopOffsetCm = {-472, -165, -338, 190};

bool is_loop(int position) {
  return position % kLoopSpacing == 0;
}
int loop_where(int position) {
  return position == 0 ? kUnitsPerLap / kLoopSpacing : position / kLoopSpacing;
}

Json presentation_source(std::string_view how) {
  if (how == "Photofinish") {
    return Json::object({{"applianceInstanceName", Json::string("Filtered-FL")},
                         {"applianceName", Json::string("MYLAPS Orbits")},
                         {"how", Json::string("Photofinish")}});
  }
  return Json::object({{"applianceInstanceName", Json::string("Main")},
                       {"applianceName", Json::string("MYLAPS X2")},
                       {"how", Json::string(how)}});
}

// ---------------------------------------------------------------------------------------------------------
// The simulator.

// One competitor (skater or team) in a race of a heat.
struct Entrant {
  std::string race_id;
  Json competitor;
  std::vector<Json> transponders;
  int ability = 1000;  // per mille of the model's times (lower is faster)
  std::optional<Ticks> personal_best;
  std::optional<Ticks> season_best;
  int lane = 0;
};

// A race as skated: when each 100 m mark was passed.
struct RaceRun {
  const Entrant* entrant = nullptr;
  int start_position = 0;
  std::vector<Ticks> marks;       // marks[m]: ticks at m x 100 m; marks[0] = 0
  std::vector<int> lap_end_mark;  // the mark each lap ends at
  std::vector<Ticks> post_marks;  // after the finish, slowing down
  Ticks photo = 0;                // the photo-finish time
  std::vector<int> lap_points;    // mass start: points per lap (0 none)
  std::vector<int> lap_ranking;   // ranking at each lap among the distance's races
};

struct Pending {
  std::int64_t micros = 0;
  std::uint64_t sequence = 0;
  std::string bytes;
};

class CompetitionSimulator {
 public:
  explicit CompetitionSimulator(const SimulationOptions& options) : options_(options), random_(options.seed) {
    competition_id_ = random_.guid();
    // Every distance of the weekend is listed; the program skates some of them.
    for (int number = 1; number <= 12; ++number) {
      const auto kind = static_cast<SimulatedDistance>((number - 1) / 2);
      DistanceSpec spec = make_spec(kind, number % 2 == 1);
      spec.id = random_.guid();
      spec.list_id = random_.guid();
      distances_.push_back(std::move(spec));
    }
  }

  std::vector<SimulatedEvent> run() {
    std::int64_t now = options_.start.unix_micros;
    emit(now, competition_activated());
    now += random_.between(seconds_us(2), seconds_us(5));
    for (const auto& [kind, ladies] : kProgram) {
      if (options_.only && *options_.only != kind) continue;
      now = run_distance(find_spec(kind, ladies), now);
      now += random_.between(seconds_us(60), seconds_us(100));
    }
    std::stable_sort(pending_.begin(), pending_.end(), [](const Pending& a, const Pending& b) {
      return a.micros != b.micros ? a.micros < b.micros : a.sequence < b.sequence;
    });
    std::vector<SimulatedEvent> events;
    events.reserve(pending_.size());
    std::int64_t last = 0;
    for (auto& item : pending_) {
      const std::int64_t micros = events.empty() ? item.micros : std::max(item.micros, last + 1);
      last = micros;
      events.push_back({std::move(item.bytes), core::RecordTime{micros, options_.start.utc_offset_minutes}});
    }
    return events;
  }

 private:
  const DistanceSpec& find_spec(SimulatedDistance kind, bool ladies) const {
    for (const auto& spec : distances_)
      if (spec.kind == kind && spec.ladies == ladies) return spec;
    return distances_.front();
  }

  void emit(std::int64_t micros, Json event) {
    pending_.push_back({micros, sequence_++, std::move(event).release()});
  }

  std::int64_t local_seconds(std::int64_t unix_micros) const {
    return floor_div(unix_micros, kMicrosPerSecond) + options_.start.utc_offset_minutes * 60LL;
  }

  // ---- competition and distances ----

  Json distance_json(const DistanceSpec& spec, std::int64_t starts_micros) const {
    const Json weather = Json::object({{"airPressure", kNull},
                                       {"airTemperature", kNull},
                                       {"humidity", kNull},
                                       {"trackTemperature", kNull},
                                       {"windSpeed", kNull}});
    const std::int64_t starts = local_seconds(starts_micros) / 300 * 300;
    return Json::object({{"classificationPrecision", Json::integer(100000)},
                         {"combinations", Json::array({})},
                         {"competitionId", Json::string(competition_id_)},
                         {"continuousNumbering", Json::boolean(false)},
                         {"discipline", Json::string(spec.discipline)},
                         {"distancePointsTableId", kNull},
                         {"endWeather", weather},
                         {"firstHeat", Json::integer(1)},
                         {"id", Json::string(spec.id)},
                         {"lastRaceCommitted", kNull},
                         {"name", Json::string(spec.name)},
                         {"number", Json::integer(spec.number)},
                         {"referee1", Json::string("Ruud Veldkamp (NED)")},
                         {"referee2", Json::string("Kari Lindqvist (FIN)")},
                         {"rounds", Json::integer(1)},
                         {"startMode", Json::integer(0)},
                         {"startWeather", weather},
                         {"starter", Json::string("Georg Hallwachs (GER)")},
                         {"starts", Json::string(core::format_date_time(starts))},
                         {"trackLength", Json::integer(400)},
                         {"value", Json::integer(spec.value)},
                         {"valueQuantity", Json::integer(spec.value_quantity)},
                         {"venueCode", Json::string("NRV")},
                         {"venueDiscipline", Json::string("SpeedSkating.LongTrack")}});
  }

  Json competition_activated() {
    std::vector<Json> combinations;
    std::vector<Json> distances;
    const std::int64_t day = local_seconds(options_.start.unix_micros) / 86400 * 86400;
    for (const auto& spec : distances_) {
      const bool team = spec.kind == SimulatedDistance::kTeamPursuit;
      combinations.push_back(
          Json::object({{"categoryFilter", Json::string(team ? "T" : (spec.ladies ? "D*" : "H*"))},
                        {"classFilter", kNull},
                        {"classificationWeight", Json::integer(500)},
                        {"competitorsConfirmed", Json::integer(0)},
                        {"competitorsPending", Json::integer(0)},
                        {"competitorsTotal", Json::integer(0)},
                        {"competitorsWithdrawn", Json::integer(0)},
                        {"distances", Json::array({})},
                        {"id", Json::string(random_.guid())},
                        {"name", Json::string(spec.name)},
                        {"number", Json::integer(spec.number)},
                        {"starts", kNull}}));
      distances.push_back(distance_json(spec, options_.start.unix_micros));
    }
    const Json address = Json::object({{"city", Json::string("Noorderveld")},
                                       {"countryCode", Json::string("NED")},
                                       {"line1", kNull},
                                       {"line2", kNull},
                                       {"postalCode", kNull},
                                       {"stateOrProvince", Json::string("Drenthe")}});
    const Json venue = Json::object({{"address", address},
                                     {"code", Json::string("NRV")},
                                     {"continentCode", Json::string("EUR")},
                                     {"discipline", Json::string("SpeedSkating.LongTrack")},
                                     {"name", Json::string("IJsstadion Noorderveld")},
                                     {"tracks", Json::array({})}});
    const Json competition =
        Json::object({{"class", Json::integer(50)},
                      {"code", Json::string("")},
                      {"culture", Json::string("en-US")},
                      {"defaultReferee1", kNull},
                      {"defaultReferee2", kNull},
                      {"defaultStarter", kNull},
                      {"discipline", Json::string("SpeedSkating.LongTrack")},
                      {"distanceCombinations", Json::array(combinations)},
                      {"distances", Json::array(distances)},
                      {"ends", Json::string(core::format_date_time(day + 86400 + 18 * 3600))},
                      {"extra", kNull},
                      {"id", Json::string(competition_id_)},
                      {"licenseIssuerId", Json::string("ISU")},
                      {"location", kNull},
                      {"locationFlags", Json::integer(0)},
                      {"madeOfficial", kNull},
                      {"name", Json::string("ovalstream Simulated World Cup Noorderveld")},
                      {"providerKey", kNull},
                      {"reportTemplateName", Json::string("Simulated World Cup")},
                      {"resultsStatus", Json::integer(0)},
                      {"serie", kNull},
                      {"sponsor", Json::string("")},
                      {"starts", Json::string(core::format_date_time(day + 12 * 3600))},
                      {"test", Json::boolean(true)},
                      {"timeZone", Json::string("W. Europe Standard Time")},
                      {"venue", venue}});
    return Json::object({{"competition", competition},
                         {"competitionId", Json::string(competition_id_)},
                         {"typeName", Json::string("CompetitionActivatedEvent")}});
  }

  Json heat_json(int number) const {
    return Json::object({{"number", Json::integer(number)}, {"round", Json::integer(1)}});
  }

  std::vector<Member> heat_members(const DistanceSpec& spec, int heat, std::string_view type_name) const {
    return {{"competitionId", Json::string(competition_id_)},
            {"distanceId", Json::string(spec.id)},
            {"heat", heat_json(heat)},
            {"typeName", Json::string(type_name)}};
  }

  std::vector<Member> race_members(const DistanceSpec& spec, int heat, const Entrant& entrant,
                                   std::string_view type_name) const {
    auto members = heat_members(spec, heat, type_name);
    members.emplace_back("raceId", Json::string(entrant.race_id));
    return members;
  }

  // ---- people ----

  Person new_person(bool lady, const Nation* nation = nullptr) {
    for (int attempt = 0;; ++attempt) {
      const Nation& from = nation ? *nation : pick_nation(random_);
      const auto& firsts = lady ? from.ladies : from.men;
      Person person;
      person.first_name = firsts[static_cast<std::size_t>(random_.between(0, 4))];
      const std::string surname = from.surnames[static_cast<std::size_t>(random_.between(0, 5))];
      if (const auto bar = surname.find('|'); bar != std::string::npos) {
        person.prefix = surname.substr(0, bar);
        person.surname = surname.substr(bar + 1);
      } else {
        person.surname = surname;
      }
      person.nation = from.code;
      person.lady = lady;
      if (used_names_.insert(person.full_name()).second || attempt > 50) {
        person.person_id = random_.guid();
        return person;
      }
    }
  }

  std::string added_stamp() {
    // Entries were made in the days before the competition.
    const std::int64_t seconds =
        local_seconds(options_.start.unix_micros) - random_.between(2 * 86400, 9 * 86400);
    return core::format_date_time(seconds) + fraction(random_.between(0, kTicksPerSecond - 1), false);
  }

  Json person_competitor(const Person& person, const DistanceSpec& spec, int start_number) {
    const std::string initial = person.first_name.substr(0, 1) + ".";
    return Json::object(
        {{"added", Json::string(added_stamp())},
         {"category", Json::string(person.lady ? "DSA" : "HSA")},
         {"class", kNull},
         {"clubCode", kNull},
         {"clubCountryCode", Json::string(person.nation)},
         {"clubFullName", kNull},
         {"clubShortName", kNull},
         {"from", kNull},
         {"fullName", Json::string(person.full_name())},
         {"gender", Json::integer(person.lady ? 1 : 0)},
         {"id", Json::string(random_.guid())},
         {"legNumber", kNull},
         {"licenseDiscipline", Json::string("SpeedSkating.LongTrack")},
         {"licenseFlags", Json::integer(0)},
         {"licenseKey", Json::string(std::to_string(random_.between(10100000, 10999999)))},
         {"listId", Json::string(spec.list_id)},
         {"name",
          Json::object({{"firstName", Json::string(person.first_name)},
                        {"initials", Json::string(initial)},
                        {"surname", Json::string(person.surname)},
                        {"surnamePrefix", person.prefix.empty() ? kNull : Json::string(person.prefix)}})},
         {"nationalityCode", Json::string(person.nation)},
         {"personId", Json::string(person.person_id)},
         {"shortName", Json::string(person.short_name())},
         {"source", Json::integer(0)},
         {"sponsor", kNull},
         {"startNumber", Json::integer(start_number)},
         {"status", Json::integer(1)},
         {"transponder1", kNull},
         {"transponder2", kNull},
         {"typeName", Json::string("PersonCompetitor")}});
  }

  // Two transponders per skater (one on each skate).
  void add_transponders(const Person& person, Entrant& entrant) {
    const std::int64_t set = random_.between(10, 99);
    for (int i = 0; i < 2; ++i) {
      entrant.transponders.push_back(
          Json::object({{"code", Json::integer(random_.between(100000000, 119999999))},
                        {"label", kNull},
                        {"personId", Json::string(person.person_id)},
                        {"set", Json::integer(set)},
                        {"type", Json::string("MYLAPS ProChip")}}));
    }
  }

  Ticks model_total(const DistanceSpec& spec, int ability) const {
    Ticks total = 0;
    for (const auto lap : spec.men_lap_cs) total += model_lap(spec, lap, ability);
    return total;
  }

  Ticks model_lap(const DistanceSpec& spec, std::int64_t men_cs, int ability) const {
    const std::int64_t gendered = spec.ladies ? men_cs * 109 / 100 : men_cs;
    return cs(gendered * ability / 1000);
  }

  std::vector<Entrant> individual_entrants(const DistanceSpec& spec, int count) {
    std::vector<Entrant> entrants;
    for (int i = 0; i < count; ++i) {
      const Person person = new_person(spec.ladies);
      Entrant entrant;
      entrant.race_id = random_.guid();
      // Pairs are drawn slowest first, as a World Cup division: the ability improves along the list.
      entrant.ability = static_cast<int>(random_.around(1012 - 20 * i / std::max(1, count - 1), 6));
      if (spec.kind != SimulatedDistance::kMassStart) {
        const Ticks expected = model_total(spec, entrant.ability);
        entrant.personal_best = expected * random_.between(975, 998) / 1000 / 10000 * 10000;
        if (random_.chance(70)) {
          entrant.season_best = *entrant.personal_best + random_.between(0, 150) * kTicksPerCentisecond;
        }
      }
      entrant.competitor = person_competitor(person, spec, i + 1);
      add_transponders(person, entrant);
      entrants.push_back(std::move(entrant));
    }
    return entrants;
  }

  std::vector<Entrant> team_entrants(const DistanceSpec& spec, int count) {
    std::vector<int> nations(kTeamNations.begin(), kTeamNations.end());
    for (std::size_t i = nations.size(); i > 1; --i) {
      std::swap(nations[i - 1],
                nations[static_cast<std::size_t>(random_.between(0, static_cast<std::int64_t>(i) - 1))]);
    }
    std::vector<Entrant> entrants;
    for (int i = 0; i < count; ++i) {
      const Nation& nation =
          kNations[static_cast<std::size_t>(nations[static_cast<std::size_t>(i) % nations.size()])];
      Entrant entrant;
      entrant.race_id = random_.guid();
      entrant.ability = static_cast<int>(random_.around(1010 - 20 * i / std::max(1, count - 1), 5));
      std::vector<Json> members;
      for (int m = 0; m < 3; ++m) {
        const Person person = new_person(spec.ladies, &nation);
        members.push_back(person_competitor(person, spec, 100 + i * 10 + m));
        add_transponders(person, entrant);
      }
      std::string upper = nation.name;
      for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      entrant.competitor = Json::object({{"added", Json::string(added_stamp())},
                                         {"category", Json::string("T")},
                                         {"class", kNull},
                                         {"clubCode", kNull},
                                         {"clubCountryCode", kNull},
                                         {"clubFullName", kNull},
                                         {"clubShortName", kNull},
                                         {"from", kNull},
                                         {"fullName", Json::string(nation.name)},
                                         {"gender", Json::integer(spec.ladies ? 1 : 0)},
                                         {"id", Json::string(random_.guid())},
                                         {"legNumber", kNull},
                                         {"licenseDiscipline", kNull},
                                         {"licenseFlags", Json::integer(0)},
                                         {"licenseKey", kNull},
                                         {"listId", Json::string(spec.list_id)},
                                         {"members", Json::array(members)},
                                         {"name", Json::string(nation.name)},
                                         {"nationalityCode", Json::string(nation.code)},
                                         {"shortName", Json::string(upper)},
                                         {"source", Json::integer(1)},
                                         {"sponsor", kNull},
                                         {"startNumber", Json::integer(20 + i)},
                                         {"status", Json::integer(1)},
                                         {"transponder1", kNull},
                                         {"transponder2", kNull},
                                         {"typeName", Json::string("TeamCompetitor")}});
      entrants.push_back(std::move(entrant));
    }
    return entrants;
  }

  // ---- races ----

  // How a lap of `units` x 100 m divides over its 100 m segments (weights in per mille).
  std::vector<std::int64_t> segment_weights(const DistanceSpec& spec, std::size_t lap, int units) {
    std::vector<std::int64_t> weights;
    if (lap == 0 && units == 2) {
      weights = {590, 410};  // from a standing start
    } else if (lap == 0 && units == 3) {
      weights = {400, 310, 290};
    } else if (lap == 0 && units == 4 && spec.kind == SimulatedDistance::kMassStart) {
      weights = {280, 240, 240, 240};
    } else {
      weights.assign(static_cast<std::size_t>(units), 250);
    }
    for (auto& w : weights) w = random_.around(w, w / 60);
    return weights;
  }

  // Splits the lap times into the 100 m marks of `run`.
  void fill_marks(const DistanceSpec& spec, const std::vector<Ticks>& lap_times, RaceRun& run) {
    run.marks = {0};
    for (std::size_t lap = 0; lap < lap_times.size(); ++lap) {
      const int units = spec.laps_units[lap];
      const auto weights = segment_weights(spec, lap, units);
      std::int64_t weight_sum = 0;
      for (auto w : weights) weight_sum += w;
      const Ticks lap_start = run.marks.back();
      Ticks done = 0;
      std::int64_t weight_done = 0;
      for (int u = 0; u < units; ++u) {
        weight_done += weights[static_cast<std::size_t>(u)];
        done = u + 1 == units ? lap_times[lap] : lap_times[lap] * weight_done / weight_sum;
        // The timing system's resolution is 0.1 ms.
        run.marks.push_back((lap_start + done) / 1000 * 1000);
      }
      run.lap_end_mark.push_back(static_cast<int>(run.marks.size()) - 1);
    }
    // Photo finish: a few milliseconds before the transponder, to the millisecond.
    const Ticks finish = run.marks.back();
    run.photo = (finish - random_.between(0, 80) * 1000) / 10000 * 10000;
    // Slowing down after the finish: one more lap.
    if (spec.kind != SimulatedDistance::kMassStart) {
      Ticks t = finish;
      Ticks segment = (finish - run.marks[run.marks.size() - 2]) * 11 / 10;
      for (int u = 0; u < kUnitsPerLap; ++u) {
        segment = segment * random_.between(112, 135) / 100;
        t += segment;
        run.post_marks.push_back(t / 1000 * 1000);
      }
    }
  }

  std::vector<Ticks> lap_times_for(const DistanceSpec& spec, const Entrant& entrant) {
    std::vector<Ticks> laps;
    for (std::size_t lap = 0; lap < spec.men_lap_cs.size(); ++lap) {
      const Ticks model = model_lap(spec, spec.men_lap_cs[lap], entrant.ability);
      // Openers vary less than laps; a team's laps are steadier than a skater's.
      const std::int64_t spread_cs =
          spec.laps_units[lap] < 4 ? 8 : (spec.kind == SimulatedDistance::kTeamPursuit ? 12 : 25);
      laps.push_back(model + cs(random_.around(0, spread_cs)) + random_.between(0, kTicksPerCentisecond - 1));
    }
    return laps;
  }

  // The mass start: the pack's pace, each skater's gap to it, a breakaway, the sprints.
  std::vector<RaceRun> mass_start_runs(const DistanceSpec& spec, const std::vector<Entrant>& entrants) {
    const std::size_t laps = spec.men_lap_cs.size();
    std::vector<Ticks> pace;  // the pack's time at each lap line
    Ticks t = 0;
    for (std::size_t lap = 0; lap < laps; ++lap) {
      t += model_lap(spec, spec.men_lap_cs[lap], 1000) + cs(random_.around(0, 40));
      pace.push_back(t);
    }
    const std::size_t breakaway =
        static_cast<std::size_t>(random_.between(0, static_cast<std::int64_t>(entrants.size()) - 1));
    std::vector<RaceRun> runs;
    for (std::size_t i = 0; i < entrants.size(); ++i) {
      RaceRun run;
      run.entrant = &entrants[i];
      run.start_position = spec.start_position[0];
      std::int64_t gap_cs = random_.between(10, 250);
      std::vector<Ticks> crossings;
      for (std::size_t lap = 0; lap < laps; ++lap) {
        gap_cs = std::clamp<std::int64_t>(gap_cs + random_.around(0, 60), 5, 450);
        std::int64_t lap_gap = gap_cs;
        if (i == breakaway && lap >= 5 && lap <= 10) {
          // Out front for a few laps, caught again before the last sprint.
          const std::int64_t lead =
              lap <= 8 ? static_cast<std::int64_t>(lap - 4) * 180 : static_cast<std::int64_t>(11 - lap) * 200;
          lap_gap = gap_cs - lead;
        }
        if (lap + 2 >= laps) {
          // The final sprint spreads the field by ability.
          lap_gap += (run.entrant->ability - 985) * (lap + 2 == laps ? 6 : 14);
        }
        crossings.push_back(pace[lap] + cs(lap_gap));
      }
      std::vector<Ticks> lap_times;
      Ticks previous = 0;
      for (auto c : crossings) {
        lap_times.push_back(std::max<Ticks>(c - previous, cs(2500)) +
                            random_.between(0, kTicksPerCentisecond - 1));
        previous += lap_times.back();
      }
      fill_marks(spec, lap_times, run);
      runs.push_back(std::move(run));
    }
    // Points: 3, 2, 1 at the intermediate sprints (laps 4, 8, 12), 60, 40, 20 at the finish.
    for (auto& run : runs) run.lap_points.assign(laps, 0);
    for (const std::size_t lap : {std::size_t{3}, std::size_t{7}, std::size_t{11}, laps - 1}) {
      std::vector<std::size_t> order(runs.size());
      for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
      std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return runs[a].marks[static_cast<std::size_t>(runs[a].lap_end_mark[lap])] <
               runs[b].marks[static_cast<std::size_t>(runs[b].lap_end_mark[lap])];
      });
      const bool final_lap = lap + 1 == laps;
      const std::array<int, 3> points =
          final_lap ? std::array<int, 3>{60, 40, 20} : std::array<int, 3>{3, 2, 1};
      for (std::size_t p = 0; p < 3 && p < order.size(); ++p) runs[order[p]].lap_points[lap] = points[p];
    }
    return runs;
  }

  // Rankings at every lap among the races of the distance so far (earlier heats and this group).
  void rank(std::vector<RaceRun>& runs) {
    for (auto& run : runs) {
      run.lap_ranking.clear();
      for (std::size_t lap = 0; lap < run.lap_end_mark.size(); ++lap) {
        const Ticks mine = run.marks[static_cast<std::size_t>(run.lap_end_mark[lap])];
        int ranking = 1;
        for (const auto& earlier : distance_lap_times_)
          if (lap < earlier.size() && earlier[lap] < mine) ++ranking;
        for (const auto& other : runs)
          if (&other != &run && other.marks[static_cast<std::size_t>(other.lap_end_mark[lap])] < mine)
            ++ranking;
        run.lap_ranking.push_back(ranking);
      }
    }
    for (const auto& run : runs) {
      std::vector<Ticks> times;
      for (const int mark : run.lap_end_mark) times.push_back(run.marks[static_cast<std::size_t>(mark)]);
      distance_lap_times_.push_back(std::move(times));
    }
  }

  static Ticks truncated(Ticks ticks) { return ticks / kTicksPerCentisecond * kTicksPerCentisecond; }

  Json lap_position_json(const DistanceSpec& spec, std::size_t index, Ticks time, Ticks previous,
                         const Json& ranking) const {
    return Json::object(with(lap_distance_members(spec, index),
                             {{"lapTime", Json::integer(truncated(time) - truncated(previous))},
                              {"ranking", ranking},
                              {"time", Json::integer(time)}}));
  }

  std::vector<Json> estimated_laps(const DistanceSpec& spec, const Entrant& entrant) const {
    std::vector<Json> laps;
    Ticks time = 0;
    for (std::size_t lap = 0; lap < spec.men_lap_cs.size(); ++lap) {
      const Ticks previous = time;
      time += model_lap(spec, spec.men_lap_cs[lap], entrant.ability);
      laps.push_back(lap_position_json(spec, lap, time, previous, kNull));
    }
    return laps;
  }

  Json race_json(const DistanceSpec& spec, int heat, const Entrant& entrant, const Json& laps,
                 const Json& result, const Json& time) const {
    const int lane = spec.kind == SimulatedDistance::kMassStart ? 0 : entrant.lane;
    return Json::object(
        {{"color", Json::integer(lane)},
         {"competitor", entrant.competitor},
         {"distanceId", Json::string(spec.id)},
         {"heat", Json::integer(heat)},
         {"id", Json::string(entrant.race_id)},
         {"lane", Json::integer(lane)},
         {"laps", laps},
         {"personalBest", entrant.personal_best ? Json::integer(*entrant.personal_best) : kNull},
         {"result", result},
         {"round", Json::integer(1)},
         {"seasonBest", entrant.season_best ? Json::integer(*entrant.season_best) : kNull},
         {"time", time},
         {"transponders", Json::array(entrant.transponders)}});
  }

  Json start_json(Ticks gun_unix_ticks) const {
    return Json::object({{"flags", Json::integer(0)},
                         {"instanceName", Json::string("Primary")},
                         {"presentationSource", presentation_source("Start")},
                         {"when", Json::string(utc_when(gun_unix_ticks))}});
  }

  // One heat's plan and what it produced.
  struct HeatRun {
    int number = 0;
    std::vector<const Entrant*> entrants;
    std::int64_t activate_us = 0;
    std::int64_t gun_us = 0;
    std::optional<std::int64_t> false_gun_us;
    std::vector<RaceRun> runs;
    // For the commit: per race, the passings and laps as JSON objects.
    std::vector<std::vector<Json>> passings;
    std::vector<std::vector<Json>> laps;
    std::vector<Json> photo_lap;
    std::int64_t last_event_us = 0;
  };

  Json heat_activated(const DistanceSpec& spec, const HeatRun& heat) const {
    std::vector<Json> races;
    for (const Entrant* entrant : heat.entrants) {
      races.push_back(
          Json::object({{"estimatedLaps", Json::array(estimated_laps(spec, *entrant))},
                        {"laps", Json::array({})},
                        {"passings", Json::array({})},
                        {"race", race_json(spec, heat.number, *entrant, Json::array({}), kNull, kNull)},
                        {"start", kNull}}));
    }
    auto members = heat_members(spec, heat.number, "HeatActivatedEvent");
    members.emplace_back("races", Json::array(races));
    return Json::object(std::move(members));
  }

  Json heat_committed(const DistanceSpec& spec, const HeatRun& heat) const {
    const Ticks gun_ticks = heat.gun_us * 10;
    std::vector<Json> races;
    for (std::size_t r = 0; r < heat.runs.size(); ++r) {
      const RaceRun& run = heat.runs[r];
      const Entrant& entrant = *run.entrant;
      std::vector<Json> estimated;
      for (std::size_t lap = 0; lap < run.lap_end_mark.size(); ++lap) {
        const Ticks time = run.marks[static_cast<std::size_t>(run.lap_end_mark[lap])];
        const Ticks previous = lap == 0 ? 0 : run.marks[static_cast<std::size_t>(run.lap_end_mark[lap - 1])];
        estimated.push_back(lap_position_json(spec, lap, time, previous, kNull));
      }
      std::vector<Json> laps = heat.laps[r];
      laps.push_back(heat.photo_lap[r]);
      std::vector<Json> race_laps = heat.laps[r];
      race_laps.back() = heat.photo_lap[r];
      int points = 0;
      for (const int p : run.lap_points) points += p;
      const Json result = Json::object({{"instanceName", Json::string("Primary")},
                                        {"points", run.lap_points.empty() ? kNull : Json::integer(points)},
                                        {"status", Json::integer(4)},
                                        {"timeInvalidReason", kNull}});
      const Json time = Json::object({{"applianceInstanceName", Json::string("Filtered-FL")},
                                      {"applianceName", Json::string("MYLAPS Orbits")},
                                      {"how", Json::string("Photofinish")},
                                      {"instanceName", Json::string("Primary")},
                                      {"time", Json::integer(run.photo)},
                                      {"timeInfo", Json::integer(0)}});
      races.push_back(
          Json::object({{"estimatedLaps", Json::array(estimated)},
                        {"laps", Json::array(laps)},
                        {"passings", Json::array(heat.passings[r])},
                        {"race", race_json(spec, heat.number, entrant, Json::array(race_laps), result, time)},
                        {"start", start_json(gun_ticks)}}));
    }
    auto members = heat_members(spec, heat.number, "HeatCommittedEvent");
    members.emplace_back("races", Json::array(races));
    return Json::object(std::move(members));
  }

  Json passing_object(const Entrant& entrant, std::string_view how, int flags, const Json& passed,
                      const Json& speed, Ticks time, Ticks gun_ticks, int where) const {
    return Json::object({{"flags", Json::integer(flags)},
                         {"instanceName", Json::string("Primary")},
                         {"passed", passed},
                         {"presentationSource", presentation_source(how)},
                         {"raceId", Json::string(entrant.race_id)},
                         {"speed", speed},
                         {"time", Json::integer(time)},
                         {"when", Json::string(utc_when(gun_ticks + time))},
                         {"where", Json::integer(where)}});
  }

  Json lap_object(const Entrant& entrant, std::string_view how, int flags, Ticks time, Ticks gun_ticks,
                  const Json& fixed_index, const Json& points) const {
    return Json::object({{"fixedIndex", fixed_index},
                         {"fixedRanking", kNull},
                         {"flags", Json::integer(flags)},
                         {"instanceName", Json::string("Primary")},
                         {"points", points},
                         {"presentationSource", presentation_source(how)},
                         {"raceId", Json::string(entrant.race_id)},
                         {"time", Json::integer(time)},
                         {"when", Json::string(utc_when(gun_ticks + time))}});
  }

  // Emits one race's events; returns the recorded time of its last event.
  std::int64_t emit_race(const DistanceSpec& spec, HeatRun& heat, std::size_t r,
                         std::vector<std::int64_t>& next_lap_us) {
    RaceRun& run = heat.runs[r];
    const Entrant& entrant = *run.entrant;
    const Ticks gun_ticks = heat.gun_us * 10;
    const int finish_mark = static_cast<int>(run.marks.size()) - 1;
    const int last_lap_units = spec.laps_units.back();
    std::vector<Ticks> all_marks(run.marks);
    all_marks.insert(all_marks.end(), run.post_marks.begin(), run.post_marks.end());
    std::vector<Json>& passings = heat.passings[r];
    std::vector<Json>& laps = heat.laps[r];
    int loop_passings = 0;
    int previous_loop_mark = 0;
    std::int64_t last_us = heat.gun_us;
    std::size_t lap_index = 0;
    for (int m = 1; m < static_cast<int>(all_marks.size()); ++m) {
      const int position = (run.start_position + m) % kUnitsPerLap;
      const bool after_finish = m > finish_mark;
      const bool lap_line = !after_finish
                                ? (lap_index < run.lap_end_mark.size() && run.lap_end_mark[lap_index] == m)
                                : (m - finish_mark) % last_lap_units == 0;
      if (!is_loop(position)) continue;
      const Ticks time = all_marks[static_cast<std::size_t>(m)];
      std::int64_t us = heat.gun_us + time / 10 + random_.between(250'000, 650'000);
      // The loop's distance along the race ("passed"), in centimeters.
      const std::int64_t passed_cm = m * 10000 + kLoopOffsetCm[static_cast<std::size_t>(position)];
      Json speed = kNull;
      if (loop_passings >= 1) {
        const double meters = (m - previous_loop_mark) * 100.0;
        const double seconds =
            static_cast<double>(time - all_marks[static_cast<std::size_t>(previous_loop_mark)]) /
            static_cast<double>(kTicksPerSecond);
        speed = Json::real(meters / seconds);
      }
      ++loop_passings;
      previous_loop_mark = m;
      const Json passed = Json::real(static_cast<double>(passed_cm) / 100.0);
      const int where = loop_where(position);
      Json passing = passing_object(entrant, "Transponder", 33, passed, speed, time, gun_ticks, where);
      passings.push_back(passing);
      auto added = race_members(spec, heat.number, entrant, "RacePassingAddedEvent");
      added.emplace_back("passing", passing);
      emit(us, Json::object(std::move(added)));
      if (lap_line) {
        us += random_.between(200, 2500);
        const Json points = !after_finish && !run.lap_points.empty() && run.lap_points[lap_index] > 0
                                ? Json::integer(run.lap_points[lap_index])
                                : kNull;
        Json lap = lap_object(entrant, "Transponder", after_finish ? 49 : 33, time, gun_ticks, kNull, points);
        auto lap_added = race_members(spec, heat.number, entrant, "RaceLapAddedEvent");
        lap_added.emplace_back("lap", lap);
        emit(us, Json::object(std::move(lap_added)));
        if (!after_finish) {
          laps.push_back(lap);
          us += random_.between(30'000, 70'000);
          const Ticks previous =
              lap_index == 0 ? 0 : run.marks[static_cast<std::size_t>(run.lap_end_mark[lap_index - 1])];
          auto presented = race_members(spec, heat.number, entrant, "LastPresentedRaceLapChangedEvent");
          presented.emplace_back("lap", lap_position_json(spec, lap_index, time, previous,
                                                          Json::integer(run.lap_ranking[lap_index])));
          presented.emplace_back("timeDifference", kNull);
          emit(us, Json::object(std::move(presented)));
          // The next lap index changes a little into the next lap (not after the last one).
          if (lap_index + 1 < run.lap_end_mark.size())
            emit_next_lap_index(spec, heat, run, lap_index + 1, time, next_lap_us);
          ++lap_index;
        }
      }
      us += random_.between(40'000, 70'000);
      auto speed_changed = race_members(spec, heat.number, entrant, "LastRaceSpeedChangedEvent");
      speed_changed.emplace_back("passing", Json::object({{"passed", passed},
                                                          {"speed", speed},
                                                          {"time", Json::integer(time)},
                                                          {"where", Json::integer(where)}}));
      emit(us, Json::object(std::move(speed_changed)));
      last_us = std::max(last_us, us);
    }
    return std::max(last_us, emit_photo_finish(spec, heat, r));
  }

  // The race's next lap index changes to `next_index`, a little into that lap (which the heat's change, the
  // earliest of its races', follows: `next_lap_us`).
  void emit_next_lap_index(const DistanceSpec& spec, const HeatRun& heat, const RaceRun& run,
                           std::size_t next_index, Ticks time, std::vector<std::int64_t>& next_lap_us) {
    const Ticks next_lap = run.marks[static_cast<std::size_t>(run.lap_end_mark[next_index])] - time;
    const std::int64_t index_us =
        heat.gun_us + (time + next_lap * 35 / 100) / 10 + random_.between(0, 60'000);
    emit(index_us,
         Json::object(with(race_members(spec, heat.number, *run.entrant, "RaceNextLapIndexChangedEvent"),
                           lap_distance_members(spec, next_index))));
    if (next_index >= next_lap_us.size()) next_lap_us.resize(next_index + 1, 0);
    if (next_lap_us[next_index] == 0 || index_us < next_lap_us[next_index])
      next_lap_us[next_index] = index_us;
  }

  // Emits the photo finish of race `r`: read a little later, it replaces the transponder's finish time.
  // Returns the recorded time of its last event.
  std::int64_t emit_photo_finish(const DistanceSpec& spec, HeatRun& heat, std::size_t r) {
    const RaceRun& run = heat.runs[r];
    const Entrant& entrant = *run.entrant;
    const Ticks gun_ticks = heat.gun_us * 10;
    std::int64_t us = heat.gun_us + run.marks.back() / 10 + random_.between(6'000'000, 18'000'000);
    const Json photo = passing_object(entrant, "Photofinish", 1, kNull, kNull, run.photo, gun_ticks, 0);
    heat.passings[r].push_back(photo);
    auto added = race_members(spec, heat.number, entrant, "RacePassingAddedEvent");
    added.emplace_back("passing", photo);
    emit(us, Json::object(std::move(added)));
    const std::size_t last_lap = run.lap_end_mark.size() - 1;
    heat.photo_lap[r] = lap_object(
        entrant, "Photofinish", 33, run.photo, gun_ticks, Json::integer(static_cast<std::int64_t>(last_lap)),
        run.lap_points.empty() || run.lap_points[last_lap] == 0 ? kNull
                                                                : Json::integer(run.lap_points[last_lap]));
    us += random_.between(2'000, 6'000);
    auto lap_added = race_members(spec, heat.number, entrant, "RaceLapAddedEvent");
    lap_added.emplace_back("lap", heat.photo_lap[r]);
    emit(us, Json::object(std::move(lap_added)));
    us += random_.between(30'000, 70'000);
    const Ticks previous =
        last_lap == 0 ? 0 : run.marks[static_cast<std::size_t>(run.lap_end_mark[last_lap - 1])];
    auto presented = race_members(spec, heat.number, entrant, "LastPresentedRaceLapChangedEvent");
    presented.emplace_back("lap", lap_position_json(spec, last_lap, run.photo, previous,
                                                    Json::integer(run.lap_ranking[last_lap])));
    presented.emplace_back("timeDifference", kNull);
    emit(us, Json::object(std::move(presented)));
    return us;
  }

  // Skates a group of heats that run at once (one heat, or the two of a quartet start).
  std::int64_t run_group(const DistanceSpec& spec, std::vector<HeatRun>& group) {
    std::vector<RaceRun> all_runs;
    for (auto& heat : group) {
      emit(heat.activate_us, heat_activated(spec, heat));
      if (heat.false_gun_us) {
        // A false start: the clock runs, the skaters are called back, the heat is cleared and started again.
        auto started = heat_members(spec, heat.number, "HeatStartedEvent");
        started.emplace_back("start", start_json(*heat.false_gun_us * 10));
        emit(*heat.false_gun_us + random_.between(150'000, 400'000), Json::object(std::move(started)));
        emit(*heat.false_gun_us + random_.between(3'000'000, 6'000'000),
             Json::object(heat_members(spec, heat.number, "HeatClearedEvent")));
      }
      auto started = heat_members(spec, heat.number, "HeatStartedEvent");
      started.emplace_back("start", start_json(heat.gun_us * 10));
      emit(heat.gun_us + random_.between(150'000, 400'000), Json::object(std::move(started)));
    }
    std::int64_t end_us = 0;
    // Rank the group's races together, then emit them.
    std::vector<RaceRun> ranked;
    for (auto& heat : group)
      for (auto& run : heat.runs) ranked.push_back(run);
    rank(ranked);
    std::size_t k = 0;
    for (auto& heat : group)
      for (auto& run : heat.runs) run.lap_ranking = ranked[k++].lap_ranking;
    for (auto& heat : group) {
      heat.passings.assign(heat.runs.size(), {});
      heat.laps.assign(heat.runs.size(), {});
      heat.photo_lap.assign(heat.runs.size(), {});
      std::vector<std::int64_t> next_lap_us;
      std::int64_t last_us = heat.gun_us;
      for (std::size_t r = 0; r < heat.runs.size(); ++r)
        last_us = std::max(last_us, emit_race(spec, heat, r, next_lap_us));
      for (std::size_t index = 1; index < next_lap_us.size(); ++index) {
        if (next_lap_us[index] == 0) continue;
        emit(next_lap_us[index] - random_.between(300, 1500),
             Json::object(with(heat_members(spec, heat.number, "HeatNextLapIndexChangedEvent"),
                               lap_distance_members(spec, index))));
      }
      const std::int64_t commit_us = std::max(last_us, end_us) + random_.between(5'000'000, 12'000'000);
      emit(commit_us, heat_committed(spec, heat));
      end_us = commit_us + random_.between(3'000, 40'000);
      emit(end_us, Json::object(heat_members(spec, heat.number, "HeatDeactivatedEvent")));
    }
    return end_us;
  }

  std::int64_t run_distance(const DistanceSpec& spec, std::int64_t now) {
    used_names_.clear();
    distance_lap_times_.clear();
    auto activated = std::vector<Member>{{"competitionId", Json::string(competition_id_)},
                                         {"distance", distance_json(spec, now)},
                                         {"distanceId", Json::string(spec.id)},
                                         {"typeName", Json::string("DistanceActivatedEvent")}};
    emit(now, Json::object(std::move(activated)));
    now += random_.between(seconds_us(8), seconds_us(15));

    const bool mass_start = spec.kind == SimulatedDistance::kMassStart;
    const bool team = spec.kind == SimulatedDistance::kTeamPursuit;
    const bool quartets = spec.kind == SimulatedDistance::k5000;
    const int heats = mass_start ? 1 : (options_.heats > 0 ? options_.heats : spec.default_heats);
    const int per_heat = mass_start ? 20 : 2;
    std::vector<Entrant> entrants =
        team ? team_entrants(spec, heats * per_heat) : individual_entrants(spec, heats * per_heat);
    for (std::size_t i = 0; i < entrants.size(); ++i) entrants[i].lane = static_cast<int>(i % 2);
    // Which heat has a false start: now and then one in a sprint distance (never the first).
    int false_start_heat = 0;
    if ((spec.kind == SimulatedDistance::k500 || spec.kind == SimulatedDistance::k1000) && heats >= 2) {
      if (spec.kind == SimulatedDistance::k500 || random_.chance(40))
        false_start_heat = static_cast<int>(random_.between(2, heats));
    }

    int number = 1;
    while (number <= heats) {
      const int in_group = quartets && number < heats ? 2 : 1;
      std::vector<HeatRun> group(static_cast<std::size_t>(in_group));
      for (int g = 0; g < in_group; ++g) {
        HeatRun& heat = group[static_cast<std::size_t>(g)];
        heat.number = number + g;
        for (int i = 0; i < per_heat; ++i)
          heat.entrants.push_back(&entrants[static_cast<std::size_t>((heat.number - 1) * per_heat + i)]);
        heat.activate_us = now + g * random_.between(500'000, 2'000'000);
        std::int64_t gun = now + random_.between(seconds_us(25), seconds_us(40));
        if (g == 1) gun = group[0].gun_us + random_.between(seconds_us(14), seconds_us(18));
        if (heat.number == false_start_heat) {
          heat.false_gun_us = gun / 1000 * 1000;
          gun += random_.between(seconds_us(35), seconds_us(55));
        }
        heat.gun_us = gun / 1000 * 1000;  // the start signal's clock has milliseconds
        if (mass_start) {
          heat.runs = mass_start_runs(spec, entrants);
        } else {
          for (const Entrant* entrant : heat.entrants) {
            RaceRun run;
            run.entrant = entrant;
            run.start_position = spec.start_position[static_cast<std::size_t>(entrant->lane)];
            fill_marks(spec, lap_times_for(spec, *entrant), run);
            heat.runs.push_back(std::move(run));
          }
        }
      }
      now = run_group(spec, group) + random_.between(seconds_us(5), seconds_us(12));
      number += in_group;
    }
    now += random_.between(seconds_us(20), seconds_us(40));
    emit(now, Json::object({{"competitionId", Json::string(competition_id_)},
                            {"distanceId", Json::string(spec.id)},
                            {"typeName", Json::string("DistanceDeactivatedEvent")}}));
    return now;
  }

  SimulationOptions options_;
  Random random_;
  std::string competition_id_;
  std::vector<DistanceSpec> distances_;
  std::vector<Pending> pending_;
  std::uint64_t sequence_ = 0;
  std::set<std::string> used_names_;
  std::vector<std::vector<Ticks>> distance_lap_times_;
};

}  // namespace

std::vector<SimulatedEvent> simulate_competition(const SimulationOptions& options) {
  return CompetitionSimulator(options).run();
}

}  // namespace ovalstream::simulator
