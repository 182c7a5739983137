#include "simulator/simulator.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <random>
#include <set>
#include <utility>

namespace ovalstream::recorder {
namespace {

// ---------------------------------------------------------------------------------------------------------
// Randomness: std::mt19937_64 (fully specified by the standard) mapped to ranges with integer arithmetic
// only, so every platform draws the same numbers. (std::uniform_int_distribution & co. are not portable.)

class Random {
 public:
  explicit Random(std::uint64_t seed) : engine_(seed) {}
  std::uint64_t next() { return engine_(); }
  // Uniform in [lo, hi]; the modulo bias is below 2^-40 for the ranges used here.
  std::int64_t between(std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(hi - lo + 1));
  }
  // Bell-shaped in [center - spread, center + spread]: the mean of three uniform draws.
  std::int64_t around(std::int64_t center, std::int64_t spread) {
    const std::int64_t sum = between(-spread, spread) + between(-spread, spread) + between(-spread, spread);
    return center + sum / 3;
  }
  bool chance(int percent) { return between(0, 99) < percent; }
  // A version-4 GUID, as Vantage's ids.
  std::string guid() {
    static constexpr char kHex[] = "0123456789abcdef";
    const std::uint64_t a = next();
    const std::uint64_t b = next();
    std::string digits;
    for (int i = 15; i >= 0; --i) digits += kHex[(a >> (i * 4)) & 0xF];
    for (int i = 15; i >= 0; --i) digits += kHex[(b >> (i * 4)) & 0xF];
    digits[12] = '4';
    digits[16] = kHex[8 + (b >> 62)];
    return digits.substr(0, 8) + "-" + digits.substr(8, 4) + "-" + digits.substr(12, 4) + "-" +
           digits.substr(16, 4) + "-" + digits.substr(20, 12);
  }

 private:
  std::mt19937_64 engine_;
};

// ---------------------------------------------------------------------------------------------------------
// JSON text. Objects are written with their keys sorted, as the original recorder wrote every event.

using Member = std::pair<std::string_view, std::string>;
const std::string kNull = "null";

std::string quote(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out += kHex[(c >> 4) & 0xF];
      out += kHex[c & 0xF];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string num(std::int64_t value) {
  return std::to_string(value);
}

// Shortest round-trip form (std::to_chars is exact and portable); integral values print without ".0".
std::string real(double value) {
  std::array<char, 40> buffer{};
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  return std::string(buffer.data(), result.ptr);
}

std::string object(std::vector<Member> members) {
  std::sort(members.begin(), members.end(),
            [](const Member& a, const Member& b) { return a.first < b.first; });
  std::string out = "{";
  for (const auto& [key, value] : members) {
    if (out.size() > 1) out += ',';
    out += '"';
    out += key;
    out += "\":";
    out += value;
  }
  return out + "}";
}

std::string array(const std::vector<std::string>& items) {
  std::string out = "[";
  for (const auto& item : items) {
    if (out.size() > 1) out += ',';
    out += item;
  }
  return out + "]";
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

// Howard Hinnant's days-to-civil algorithm.
void civil_from_days(std::int64_t z, std::int64_t& year, int& month, int& day) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  year = yoe + era * 400 + (month <= 2 ? 1 : 0);
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

// "YYYY-MM-DDTHH:MM:SS" of whole seconds since the epoch.
std::string stamp(std::int64_t seconds) {
  const std::int64_t days = floor_div(seconds, 86400);
  const std::int64_t rest = seconds - days * 86400;
  std::int64_t year = 0;
  int month = 0;
  int day = 0;
  civil_from_days(days, year, month, day);
  std::array<char, 96> buffer{};
  std::snprintf(buffer.data(), buffer.size(), "%04lld-%02d-%02dT%02lld:%02lld:%02lld",
                static_cast<long long>(year), month, day, static_cast<long long>(rest / 3600),
                static_cast<long long>(rest / 60 % 60), static_cast<long long>(rest % 60));
  return buffer.data();
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
  return stamp(seconds) + fraction(unix_ticks - seconds * kTicksPerSecond, true) + "Z";
}

// ---------------------------------------------------------------------------------------------------------
// People. Invented combinations of common first names and surnames per nation ("de|Wit": prefix|surname).

struct Nation {
  const char* code;
  const char* name;
  std::array<const char*, 5> men;
  std::array<const char*, 5> ladies;
  std::array<const char*, 6> surnames;
  int weight;  // how many skaters a World Cup field has from it, roughly
};

const std::array<Nation, 15> kNations = {{
    {"NED",
     "Netherlands",
     {"Jorrit", "Thijs", "Bram", "Sjoerd", "Wouter"},
     {"Femke", "Lieke", "Marit", "Sanne", "Joyce"},
     {"de|Wit", "Hoekstra", "van der|Veen", "Bakker", "Dijkstra", "Koopmans"},
     5},
    {"NOR",
     "Norway",
     {"Håkon", "Sindre", "Eirik", "Magnus", "Vegard"},
     {"Ingrid", "Silje", "Marte", "Ida", "Ragnhild"},
     {"Solberg", "Haugen", "Lunde", "Bakken", "Strand", "Moe"},
     3},
    {"JPN",
     "Japan",
     {"Haruto", "Daiki", "Kenta", "Ryota", "Shota"},
     {"Yuka", "Aoi", "Miho", "Nanami", "Saki"},
     {"Sato", "Takeda", "Nakamura", "Kobayashi", "Ishikawa", "Morita"},
     4},
    {"CAN",
     "Canada",
     {"Liam", "Ethan", "Connor", "Mathieu", "Owen"},
     {"Chloe", "Emma", "Ariane", "Megan", "Julie"},
     {"Tremblay", "MacLeod", "Gagnon", "Fraser", "Bouchard", "Wilson"},
     3},
    {"USA",
     "United States",
     {"Tyler", "Jordan", "Austin", "Casey", "Ryan"},
     {"Brittany", "Kaitlyn", "Morgan", "Abby", "Hailey"},
     {"Miller", "Carter", "Hughes", "Bennett", "Foster", "Reid"},
     3},
    {"GER",
     "Germany",
     {"Felix", "Moritz", "Jonas", "Lukas", "Tobias"},
     {"Lea", "Anna", "Katrin", "Miriam", "Franziska"},
     {"Becker", "Hoffmann", "Schäfer", "Krüger", "Wagner", "Lorenz"},
     2},
    {"ITA",
     "Italy",
     {"Matteo", "Lorenzo", "Davide", "Andrea", "Riccardo"},
     {"Giulia", "Chiara", "Federica", "Martina", "Elisa"},
     {"Rossi", "Bianchi", "Colombo", "Ferrari", "Moretti", "Galli"},
     2},
    {"POL",
     "Poland",
     {"Piotr", "Kacper", "Marcin", "Damian", "Wojciech"},
     {"Natalia", "Karolina", "Zofia", "Magda", "Aleksandra"},
     {"Nowak", "Kowalczyk", "Zieliński", "Wójcik", "Mazur", "Krawiec"},
     2},
    {"KOR",
     "Korea",
     {"Min-jun", "Seo-jin", "Ji-hoon", "Hyun-woo", "Dong-hyun"},
     {"Ji-woo", "Seo-yeon", "Ha-eun", "Min-seo", "Yu-na"},
     {"Kim", "Park", "Lee", "Choi", "Jung", "Kang"},
     2},
    {"CHN",
     "China",
     {"Wei", "Hao", "Jun", "Tao", "Lei"},
     {"Mei", "Xin", "Yue", "Ling", "Fang"},
     {"Wang", "Li", "Zhang", "Liu", "Chen", "Zhao"},
     2},
    {"CZE",
     "Czechia",
     {"Jakub", "Tomáš", "Ondřej", "Petr", "Lukáš"},
     {"Tereza", "Klára", "Eliška", "Barbora", "Lucie"},
     {"Novák", "Svoboda", "Dvořák", "Černý", "Procházka", "Kučera"},
     1},
    {"BEL",
     "Belgium",
     {"Jens", "Pieter", "Wout", "Arne", "Stijn"},
     {"Hanne", "Lotte", "Fien", "Elke", "Nele"},
     {"Peeters", "Janssens", "Maes", "Claes", "Willems", "Wouters"},
     1},
    {"AUT",
     "Austria",
     {"Florian", "Stefan", "Jakob", "Paul", "Maximilian"},
     {"Verena", "Magdalena", "Julia", "Theresa", "Lena"},
     {"Gruber", "Huber", "Steiner", "Moser", "Hofer", "Leitner"},
     1},
    {"SUI",
     "Switzerland",
     {"Nico", "Luca", "Reto", "Fabian", "Simon"},
     {"Laura", "Nadine", "Seraina", "Jana", "Alina"},
     {"Meier", "Keller", "Frei", "Brunner", "Baumann", "Graf"},
     1},
    {"FRA",
     "France",
     {"Hugo", "Théo", "Baptiste", "Antoine", "Mathis"},
     {"Manon", "Camille", "Léa", "Pauline", "Margaux"},
     {"Girard", "Lefèvre", "Moreau", "Fontaine", "Rousseau", "Garnier"},
     1},
}};

// The nations with a team pursuit team.
constexpr std::array<int, 8> kTeamNations = {0, 1, 2, 3, 4, 5, 6, 7};

const Nation& pick_nation(Random& random) {
  int total = 0;
  for (const auto& nation : kNations) total += nation.weight;
  std::int64_t draw = random.between(0, total - 1);
  for (const auto& nation : kNations) {
    if (draw < nation.weight) return nation;
    draw -= nation.weight;
  }
  return kNations.front();
}

struct Person {
  std::string first_name;
  std::string prefix;  // "de", "van der", or empty
  std::string surname;
  std::string nation;
  std::string person_id;
  bool lady = false;

  std::string full_name() const { return first_name + " " + (prefix.empty() ? "" : prefix + " ") + surname; }
  std::string short_name() const { return (prefix.empty() ? "" : prefix + " ") + surname; }
};

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

std::string presentation_source(std::string_view how) {
  if (how == "Photofinish") {
    return object({{"applianceInstanceName", quote("Filtered-FL")},
                   {"applianceName", quote("MYLAPS Orbits")},
                   {"how", quote("Photofinish")}});
  }
  return object(
      {{"applianceInstanceName", quote("Main")}, {"applianceName", quote("MYLAPS X2")}, {"how", quote(how)}});
}

// ---------------------------------------------------------------------------------------------------------
// Distances.

struct DistanceSpec {
  SimulatedDistance kind;
  bool ladies = false;
  int number = 0;
  std::string name;
  int value = 0;           // meters, or laps
  int value_quantity = 0;  // 0 meters, 1 laps
  std::string discipline;
  std::vector<int> laps_units;           // each lap's length in 100 m units
  std::array<int, 2> start_position;     // by lane: where on the rink the race starts (units from line A)
  std::vector<std::int64_t> men_lap_cs;  // the model's lap times for men, centiseconds
  int default_heats = 1;
  std::string id;
  std::string list_id;
};

int race_meters(const DistanceSpec& spec) {
  int units = 0;
  for (int u : spec.laps_units) units += u;
  return units * 100;
}

DistanceSpec make_spec(SimulatedDistance kind, bool ladies) {
  DistanceSpec spec;
  spec.kind = kind;
  spec.ladies = ladies;
  const std::string gender = ladies ? "Ladies" : "Men";
  const std::string individual = "SpeedSkating.LongTrack.PairsDistance.Individual";
  switch (kind) {
    case SimulatedDistance::k500:
      spec.number = ladies ? 1 : 2;
      spec.value = 500;
      spec.discipline = individual;
      spec.laps_units = {1, 4};
      spec.start_position = {3, 3};
      spec.men_lap_cs = {960, 2500};
      spec.default_heats = 5;
      break;
    case SimulatedDistance::k1000:
      spec.number = ladies ? 3 : 4;
      spec.value = 1000;
      spec.discipline = individual;
      spec.laps_units = {2, 4, 4};
      spec.start_position = {2, 2};
      spec.men_lap_cs = {1640, 2570, 2740};
      spec.default_heats = 4;
      break;
    case SimulatedDistance::k1500:
      spec.number = ladies ? 5 : 6;
      spec.value = 1500;
      spec.discipline = individual;
      spec.laps_units = {3, 4, 4, 4};
      spec.start_position = {1, 1};
      spec.men_lap_cs = {2410, 2640, 2780, 2900};
      spec.default_heats = 4;
      break;
    case SimulatedDistance::k5000:
      spec.number = ladies ? 7 : 8;
      spec.value = 5000;
      spec.discipline = individual;
      spec.laps_units = {2};
      for (int i = 0; i < 12; ++i) spec.laps_units.push_back(4);
      spec.start_position = {2, 2};
      spec.men_lap_cs = {1950, 2920, 2940, 2960, 2980, 3000, 3010, 3020, 3030, 3040, 3050, 3060, 3040};
      spec.default_heats = 4;
      break;
    case SimulatedDistance::kTeamPursuit: {
      spec.number = ladies ? 9 : 10;
      const int laps = ladies ? 6 : 8;
      spec.value = laps;
      spec.value_quantity = 1;
      spec.discipline = "SpeedSkating.LongTrack.PairsDistance.TeamPursuit";
      // Timed every half lap; the teams start on opposite straights.
      spec.laps_units.assign(static_cast<std::size_t>(laps * 2), 2);
      spec.start_position = {0, 2};
      spec.men_lap_cs = {1810, 1330, 1335, 1340, 1345, 1350, 1355, 1360,
                         1365, 1370, 1375, 1380, 1390, 1400, 1410, 1420};
      spec.men_lap_cs.resize(spec.laps_units.size());
      spec.default_heats = 3;
      break;
    }
    case SimulatedDistance::kMassStart:
      spec.number = ladies ? 11 : 12;
      spec.value = 16;
      spec.value_quantity = 1;
      spec.discipline = "SpeedSkating.LongTrack.MassStartDistance";
      spec.laps_units.assign(16, 4);
      spec.start_position = {0, 0};
      // Tactical laps, sprints on laps 4, 8 and 12, the final sprint.
      spec.men_lap_cs = {3300, 3000, 3000, 2860, 2980, 2980, 2980, 2860,
                         2950, 2950, 2950, 2840, 2900, 2850, 2780, 2730};
      spec.default_heats = 1;
      break;
  }
  switch (kind) {
    case SimulatedDistance::kTeamPursuit:
      spec.name = gender + " Team Pursuit";
      break;
    case SimulatedDistance::kMassStart:
      spec.name = gender + " Mass Start";
      break;
    default:
      spec.name = gender + " " + std::to_string(spec.value) + " meter";
  }
  return spec;
}

// The day's program: which distances are skated, in order, and by whom.
constexpr std::array<std::pair<SimulatedDistance, bool>, 6> kProgram = {{
    {SimulatedDistance::k500, false},
    {SimulatedDistance::k1000, true},
    {SimulatedDistance::k1500, false},
    {SimulatedDistance::k5000, false},
    {SimulatedDistance::kTeamPursuit, true},
    {SimulatedDistance::kMassStart, false},
}};

// ---------------------------------------------------------------------------------------------------------
// The simulator.

// One competitor (skater or team) in a race of a heat.
struct Entrant {
  std::string race_id;
  std::string competitor;                 // the competitor JSON
  std::vector<std::string> transponders;  // JSON objects
  int ability = 1000;                     // per mille of the model's times (lower is faster)
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

  void emit(std::int64_t micros, std::string bytes) {
    pending_.push_back({micros, sequence_++, std::move(bytes)});
  }

  std::int64_t local_seconds(std::int64_t unix_micros) const {
    return floor_div(unix_micros, kMicrosPerSecond) + options_.start.utc_offset_minutes * 60LL;
  }

  // ---- competition and distances ----

  std::string distance_json(const DistanceSpec& spec, std::int64_t starts_micros) const {
    const std::string weather = object({{"airPressure", kNull},
                                        {"airTemperature", kNull},
                                        {"humidity", kNull},
                                        {"trackTemperature", kNull},
                                        {"windSpeed", kNull}});
    const std::int64_t starts = local_seconds(starts_micros) / 300 * 300;
    return object({{"classificationPrecision", num(100000)},
                   {"combinations", "[]"},
                   {"competitionId", quote(competition_id_)},
                   {"continuousNumbering", "false"},
                   {"discipline", quote(spec.discipline)},
                   {"distancePointsTableId", kNull},
                   {"endWeather", weather},
                   {"firstHeat", num(1)},
                   {"id", quote(spec.id)},
                   {"lastRaceCommitted", kNull},
                   {"name", quote(spec.name)},
                   {"number", num(spec.number)},
                   {"referee1", quote("Ruud Veldkamp (NED)")},
                   {"referee2", quote("Kari Lindqvist (FIN)")},
                   {"rounds", num(1)},
                   {"startMode", num(0)},
                   {"startWeather", weather},
                   {"starter", quote("Georg Hallwachs (GER)")},
                   {"starts", quote(stamp(starts))},
                   {"trackLength", num(400)},
                   {"value", num(spec.value)},
                   {"valueQuantity", num(spec.value_quantity)},
                   {"venueCode", quote("NRV")},
                   {"venueDiscipline", quote("SpeedSkating.LongTrack")}});
  }

  std::string competition_activated() {
    std::vector<std::string> combinations;
    std::vector<std::string> distances;
    const std::int64_t day = local_seconds(options_.start.unix_micros) / 86400 * 86400;
    for (const auto& spec : distances_) {
      const bool team = spec.kind == SimulatedDistance::kTeamPursuit;
      combinations.push_back(object({{"categoryFilter", quote(team ? "T" : (spec.ladies ? "D*" : "H*"))},
                                     {"classFilter", kNull},
                                     {"classificationWeight", num(500)},
                                     {"competitorsConfirmed", num(0)},
                                     {"competitorsPending", num(0)},
                                     {"competitorsTotal", num(0)},
                                     {"competitorsWithdrawn", num(0)},
                                     {"distances", "[]"},
                                     {"id", quote(random_.guid())},
                                     {"name", quote(spec.name)},
                                     {"number", num(spec.number)},
                                     {"starts", kNull}}));
      distances.push_back(distance_json(spec, options_.start.unix_micros));
    }
    const std::string address = object({{"city", quote("Noorderveld")},
                                        {"countryCode", quote("NED")},
                                        {"line1", kNull},
                                        {"line2", kNull},
                                        {"postalCode", kNull},
                                        {"stateOrProvince", quote("Drenthe")}});
    const std::string venue = object({{"address", address},
                                      {"code", quote("NRV")},
                                      {"continentCode", quote("EUR")},
                                      {"discipline", quote("SpeedSkating.LongTrack")},
                                      {"name", quote("IJsstadion Noorderveld")},
                                      {"tracks", "[]"}});
    const std::string competition = object({{"class", num(50)},
                                            {"code", quote("")},
                                            {"culture", quote("en-US")},
                                            {"defaultReferee1", kNull},
                                            {"defaultReferee2", kNull},
                                            {"defaultStarter", kNull},
                                            {"discipline", quote("SpeedSkating.LongTrack")},
                                            {"distanceCombinations", array(combinations)},
                                            {"distances", array(distances)},
                                            {"ends", quote(stamp(day + 86400 + 18 * 3600))},
                                            {"extra", kNull},
                                            {"id", quote(competition_id_)},
                                            {"licenseIssuerId", quote("ISU")},
                                            {"location", kNull},
                                            {"locationFlags", num(0)},
                                            {"madeOfficial", kNull},
                                            {"name", quote("ovalstream Simulated World Cup Noorderveld")},
                                            {"providerKey", kNull},
                                            {"reportTemplateName", quote("Simulated World Cup")},
                                            {"resultsStatus", num(0)},
                                            {"serie", kNull},
                                            {"sponsor", quote("")},
                                            {"starts", quote(stamp(day + 12 * 3600))},
                                            {"test", "true"},
                                            {"timeZone", quote("W. Europe Standard Time")},
                                            {"venue", venue}});
    return object({{"competition", competition},
                   {"competitionId", quote(competition_id_)},
                   {"typeName", quote("CompetitionActivatedEvent")}});
  }

  std::string heat_json(int number) const { return object({{"number", num(number)}, {"round", num(1)}}); }

  std::vector<Member> heat_members(const DistanceSpec& spec, int heat, std::string_view type_name) const {
    return {{"competitionId", quote(competition_id_)},
            {"distanceId", quote(spec.id)},
            {"heat", heat_json(heat)},
            {"typeName", quote(type_name)}};
  }

  std::vector<Member> race_members(const DistanceSpec& spec, int heat, const Entrant& entrant,
                                   std::string_view type_name) const {
    auto members = heat_members(spec, heat, type_name);
    members.emplace_back("raceId", quote(entrant.race_id));
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
    return stamp(seconds) + fraction(random_.between(0, kTicksPerSecond - 1), false);
  }

  std::string person_competitor(const Person& person, const DistanceSpec& spec, int start_number) {
    const std::string initial = person.first_name.substr(0, 1) + ".";
    return object(
        {{"added", quote(added_stamp())},
         {"category", quote(person.lady ? "DSA" : "HSA")},
         {"class", kNull},
         {"clubCode", kNull},
         {"clubCountryCode", quote(person.nation)},
         {"clubFullName", kNull},
         {"clubShortName", kNull},
         {"from", kNull},
         {"fullName", quote(person.full_name())},
         {"gender", num(person.lady ? 1 : 0)},
         {"id", quote(random_.guid())},
         {"legNumber", kNull},
         {"licenseDiscipline", quote("SpeedSkating.LongTrack")},
         {"licenseFlags", num(0)},
         {"licenseKey", quote(std::to_string(random_.between(10100000, 10999999)))},
         {"listId", quote(spec.list_id)},
         {"name", object({{"firstName", quote(person.first_name)},
                          {"initials", quote(initial)},
                          {"surname", quote(person.surname)},
                          {"surnamePrefix", person.prefix.empty() ? kNull : quote(person.prefix)}})},
         {"nationalityCode", quote(person.nation)},
         {"personId", quote(person.person_id)},
         {"shortName", quote(person.short_name())},
         {"source", num(0)},
         {"sponsor", kNull},
         {"startNumber", num(start_number)},
         {"status", num(1)},
         {"transponder1", kNull},
         {"transponder2", kNull},
         {"typeName", quote("PersonCompetitor")}});
  }

  // Two transponders per skater (one on each skate).
  void add_transponders(const Person& person, Entrant& entrant) {
    const std::int64_t set = random_.between(10, 99);
    for (int i = 0; i < 2; ++i) {
      entrant.transponders.push_back(object({{"code", num(random_.between(100000000, 119999999))},
                                             {"label", kNull},
                                             {"personId", quote(person.person_id)},
                                             {"set", num(set)},
                                             {"type", quote("MYLAPS ProChip")}}));
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
      std::vector<std::string> members;
      for (int m = 0; m < 3; ++m) {
        const Person person = new_person(spec.ladies, &nation);
        members.push_back(person_competitor(person, spec, 100 + i * 10 + m));
        add_transponders(person, entrant);
      }
      std::string upper = nation.name;
      for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      entrant.competitor = object({{"added", quote(added_stamp())},
                                   {"category", quote("T")},
                                   {"class", kNull},
                                   {"clubCode", kNull},
                                   {"clubCountryCode", kNull},
                                   {"clubFullName", kNull},
                                   {"clubShortName", kNull},
                                   {"from", kNull},
                                   {"fullName", quote(nation.name)},
                                   {"gender", num(spec.ladies ? 1 : 0)},
                                   {"id", quote(random_.guid())},
                                   {"legNumber", kNull},
                                   {"licenseDiscipline", kNull},
                                   {"licenseFlags", num(0)},
                                   {"licenseKey", kNull},
                                   {"listId", quote(spec.list_id)},
                                   {"members", array(members)},
                                   {"name", quote(nation.name)},
                                   {"nationalityCode", quote(nation.code)},
                                   {"shortName", quote(upper)},
                                   {"source", num(1)},
                                   {"sponsor", kNull},
                                   {"startNumber", num(20 + i)},
                                   {"status", num(1)},
                                   {"transponder1", kNull},
                                   {"transponder2", kNull},
                                   {"typeName", quote("TeamCompetitor")}});
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

  std::string lap_position_json(const DistanceSpec& spec, std::size_t index, Ticks time, Ticks previous,
                                const std::string& ranking) const {
    int units = 0;
    for (std::size_t i = 0; i <= index; ++i) units += spec.laps_units[i];
    const int passed_length = units * 100;
    const int total = race_meters(spec);
    return object({{"index", num(static_cast<std::int64_t>(index))},
                   {"lapTime", num(truncated(time) - truncated(previous))},
                   {"passedLength", num(passed_length)},
                   {"ranking", ranking},
                   {"rounds", real(passed_length / 400.0)},
                   {"roundsToGo", real((total - passed_length) / 400.0)},
                   {"time", num(time)}});
  }

  std::vector<std::string> estimated_laps(const DistanceSpec& spec, const Entrant& entrant) const {
    std::vector<std::string> laps;
    Ticks time = 0;
    for (std::size_t lap = 0; lap < spec.men_lap_cs.size(); ++lap) {
      const Ticks previous = time;
      time += model_lap(spec, spec.men_lap_cs[lap], entrant.ability);
      laps.push_back(lap_position_json(spec, lap, time, previous, kNull));
    }
    return laps;
  }

  std::string race_json(const DistanceSpec& spec, int heat, const Entrant& entrant, const std::string& laps,
                        const std::string& result, const std::string& time) const {
    const int lane = spec.kind == SimulatedDistance::kMassStart ? 0 : entrant.lane;
    return object({{"color", num(lane)},
                   {"competitor", entrant.competitor},
                   {"distanceId", quote(spec.id)},
                   {"heat", num(heat)},
                   {"id", quote(entrant.race_id)},
                   {"lane", num(lane)},
                   {"laps", laps},
                   {"personalBest", entrant.personal_best ? num(*entrant.personal_best) : kNull},
                   {"result", result},
                   {"round", num(1)},
                   {"seasonBest", entrant.season_best ? num(*entrant.season_best) : kNull},
                   {"time", time},
                   {"transponders", array(entrant.transponders)}});
  }

  std::string start_json(Ticks gun_unix_ticks) const {
    return object({{"flags", num(0)},
                   {"instanceName", quote("Primary")},
                   {"presentationSource", presentation_source("Start")},
                   {"when", quote(utc_when(gun_unix_ticks))}});
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
    std::vector<std::vector<std::string>> passings;
    std::vector<std::vector<std::string>> laps;
    std::vector<std::string> photo_lap;
    std::int64_t last_event_us = 0;
  };

  std::string heat_activated(const DistanceSpec& spec, const HeatRun& heat) const {
    std::vector<std::string> races;
    for (const Entrant* entrant : heat.entrants) {
      races.push_back(object({{"estimatedLaps", array(estimated_laps(spec, *entrant))},
                              {"laps", "[]"},
                              {"passings", "[]"},
                              {"race", race_json(spec, heat.number, *entrant, "[]", kNull, kNull)},
                              {"start", kNull}}));
    }
    auto members = heat_members(spec, heat.number, "HeatActivatedEvent");
    members.emplace_back("races", array(races));
    return object(std::move(members));
  }

  std::string heat_committed(const DistanceSpec& spec, const HeatRun& heat) const {
    const Ticks gun_ticks = heat.gun_us * 10;
    std::vector<std::string> races;
    for (std::size_t r = 0; r < heat.runs.size(); ++r) {
      const RaceRun& run = heat.runs[r];
      const Entrant& entrant = *run.entrant;
      std::vector<std::string> estimated;
      for (std::size_t lap = 0; lap < run.lap_end_mark.size(); ++lap) {
        const Ticks time = run.marks[static_cast<std::size_t>(run.lap_end_mark[lap])];
        const Ticks previous = lap == 0 ? 0 : run.marks[static_cast<std::size_t>(run.lap_end_mark[lap - 1])];
        estimated.push_back(lap_position_json(spec, lap, time, previous, kNull));
      }
      std::vector<std::string> laps = heat.laps[r];
      laps.push_back(heat.photo_lap[r]);
      std::vector<std::string> race_laps = heat.laps[r];
      race_laps.back() = heat.photo_lap[r];
      int points = 0;
      for (const int p : run.lap_points) points += p;
      const std::string result = object({{"instanceName", quote("Primary")},
                                         {"points", run.lap_points.empty() ? kNull : num(points)},
                                         {"status", num(4)},
                                         {"timeInvalidReason", kNull}});
      const std::string time = object({{"applianceInstanceName", quote("Filtered-FL")},
                                       {"applianceName", quote("MYLAPS Orbits")},
                                       {"how", quote("Photofinish")},
                                       {"instanceName", quote("Primary")},
                                       {"time", num(run.photo)},
                                       {"timeInfo", num(0)}});
      races.push_back(object({{"estimatedLaps", array(estimated)},
                              {"laps", array(laps)},
                              {"passings", array(heat.passings[r])},
                              {"race", race_json(spec, heat.number, entrant, array(race_laps), result, time)},
                              {"start", start_json(gun_ticks)}}));
    }
    auto members = heat_members(spec, heat.number, "HeatCommittedEvent");
    members.emplace_back("races", array(races));
    return object(std::move(members));
  }

  std::string passing_object(const Entrant& entrant, std::string_view how, int flags,
                             const std::string& passed, const std::string& speed, Ticks time, Ticks gun_ticks,
                             int where) const {
    return object({{"flags", num(flags)},
                   {"instanceName", quote("Primary")},
                   {"passed", passed},
                   {"presentationSource", presentation_source(how)},
                   {"raceId", quote(entrant.race_id)},
                   {"speed", speed},
                   {"time", num(time)},
                   {"when", quote(utc_when(gun_ticks + time))},
                   {"where", num(where)}});
  }

  std::string lap_object(const Entrant& entrant, std::string_view how, int flags, Ticks time, Ticks gun_ticks,
                         const std::string& fixed_index, const std::string& points) const {
    return object({{"fixedIndex", fixed_index},
                   {"fixedRanking", kNull},
                   {"flags", num(flags)},
                   {"instanceName", quote("Primary")},
                   {"points", points},
                   {"presentationSource", presentation_source(how)},
                   {"raceId", quote(entrant.race_id)},
                   {"time", num(time)},
                   {"when", quote(utc_when(gun_ticks + time))}});
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
    std::vector<std::string>& passings = heat.passings[r];
    std::vector<std::string>& laps = heat.laps[r];
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
      std::string speed = kNull;
      if (loop_passings >= 1) {
        const double meters = (m - previous_loop_mark) * 100.0;
        const double seconds =
            static_cast<double>(time - all_marks[static_cast<std::size_t>(previous_loop_mark)]) /
            static_cast<double>(kTicksPerSecond);
        speed = real(meters / seconds);
      }
      ++loop_passings;
      previous_loop_mark = m;
      const std::string passed = real(static_cast<double>(passed_cm) / 100.0);
      const int where = loop_where(position);
      std::string passing = passing_object(entrant, "Transponder", 33, passed, speed, time, gun_ticks, where);
      passings.push_back(passing);
      auto added = race_members(spec, heat.number, entrant, "RacePassingAddedEvent");
      added.emplace_back("passing", passing);
      emit(us, object(std::move(added)));
      if (lap_line) {
        us += random_.between(200, 2500);
        const std::string points = !after_finish && !run.lap_points.empty() && run.lap_points[lap_index] > 0
                                       ? num(run.lap_points[lap_index])
                                       : kNull;
        std::string lap =
            lap_object(entrant, "Transponder", after_finish ? 49 : 33, time, gun_ticks, kNull, points);
        auto lap_added = race_members(spec, heat.number, entrant, "RaceLapAddedEvent");
        lap_added.emplace_back("lap", lap);
        emit(us, object(std::move(lap_added)));
        if (!after_finish) {
          laps.push_back(lap);
          us += random_.between(30'000, 70'000);
          const Ticks previous =
              lap_index == 0 ? 0 : run.marks[static_cast<std::size_t>(run.lap_end_mark[lap_index - 1])];
          auto presented = race_members(spec, heat.number, entrant, "LastPresentedRaceLapChangedEvent");
          presented.emplace_back(
              "lap", lap_position_json(spec, lap_index, time, previous, num(run.lap_ranking[lap_index])));
          presented.emplace_back("timeDifference", kNull);
          emit(us, object(std::move(presented)));
          // The next lap index changes a little into the next lap (not after the last one).
          if (lap_index + 1 < run.lap_end_mark.size()) {
            const Ticks next_lap =
                run.marks[static_cast<std::size_t>(run.lap_end_mark[lap_index + 1])] - time;
            const std::int64_t index_us =
                heat.gun_us + (time + next_lap * 35 / 100) / 10 + random_.between(0, 60'000);
            const std::size_t next_index = lap_index + 1;
            int units = 0;
            for (std::size_t i = 0; i <= next_index; ++i) units += spec.laps_units[i];
            const int passed_length = units * 100;
            auto changed = race_members(spec, heat.number, entrant, "RaceNextLapIndexChangedEvent");
            changed.emplace_back("index", num(static_cast<std::int64_t>(next_index)));
            changed.emplace_back("passedLength", num(passed_length));
            changed.emplace_back("rounds", real(passed_length / 400.0));
            changed.emplace_back("roundsToGo", real((race_meters(spec) - passed_length) / 400.0));
            emit(index_us, object(std::move(changed)));
            if (next_index >= next_lap_us.size()) next_lap_us.resize(next_index + 1, 0);
            if (next_lap_us[next_index] == 0 || index_us < next_lap_us[next_index])
              next_lap_us[next_index] = index_us;
          }
          ++lap_index;
        }
      }
      us += random_.between(40'000, 70'000);
      auto speed_changed = race_members(spec, heat.number, entrant, "LastRaceSpeedChangedEvent");
      speed_changed.emplace_back(
          "passing",
          object({{"passed", passed}, {"speed", speed}, {"time", num(time)}, {"where", num(where)}}));
      emit(us, object(std::move(speed_changed)));
      last_us = std::max(last_us, us);
    }
    // The photo finish is read a little later and replaces the transponder's finish time.
    std::int64_t us = heat.gun_us + run.marks.back() / 10 + random_.between(6'000'000, 18'000'000);
    const std::string photo =
        passing_object(entrant, "Photofinish", 1, kNull, kNull, run.photo, gun_ticks, 0);
    passings.push_back(photo);
    auto added = race_members(spec, heat.number, entrant, "RacePassingAddedEvent");
    added.emplace_back("passing", photo);
    emit(us, object(std::move(added)));
    const std::size_t last_lap = run.lap_end_mark.size() - 1;
    heat.photo_lap[r] = lap_object(
        entrant, "Photofinish", 33, run.photo, gun_ticks, num(static_cast<std::int64_t>(last_lap)),
        run.lap_points.empty() || run.lap_points[last_lap] == 0 ? kNull : num(run.lap_points[last_lap]));
    us += random_.between(2'000, 6'000);
    auto lap_added = race_members(spec, heat.number, entrant, "RaceLapAddedEvent");
    lap_added.emplace_back("lap", heat.photo_lap[r]);
    emit(us, object(std::move(lap_added)));
    us += random_.between(30'000, 70'000);
    const Ticks previous =
        last_lap == 0 ? 0 : run.marks[static_cast<std::size_t>(run.lap_end_mark[last_lap - 1])];
    auto presented = race_members(spec, heat.number, entrant, "LastPresentedRaceLapChangedEvent");
    presented.emplace_back(
        "lap", lap_position_json(spec, last_lap, run.photo, previous, num(run.lap_ranking[last_lap])));
    presented.emplace_back("timeDifference", kNull);
    emit(us, object(std::move(presented)));
    return std::max(last_us, us);
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
        emit(*heat.false_gun_us + random_.between(150'000, 400'000), object(std::move(started)));
        emit(*heat.false_gun_us + random_.between(3'000'000, 6'000'000),
             object(heat_members(spec, heat.number, "HeatClearedEvent")));
      }
      auto started = heat_members(spec, heat.number, "HeatStartedEvent");
      started.emplace_back("start", start_json(heat.gun_us * 10));
      emit(heat.gun_us + random_.between(150'000, 400'000), object(std::move(started)));
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
        int units = 0;
        for (std::size_t i = 0; i <= index; ++i) units += spec.laps_units[i];
        const int passed_length = units * 100;
        auto changed = heat_members(spec, heat.number, "HeatNextLapIndexChangedEvent");
        changed.emplace_back("index", num(static_cast<std::int64_t>(index)));
        changed.emplace_back("passedLength", num(passed_length));
        changed.emplace_back("rounds", real(passed_length / 400.0));
        changed.emplace_back("roundsToGo", real((race_meters(spec) - passed_length) / 400.0));
        emit(next_lap_us[index] - random_.between(300, 1500), object(std::move(changed)));
      }
      const std::int64_t commit_us = std::max(last_us, end_us) + random_.between(5'000'000, 12'000'000);
      emit(commit_us, heat_committed(spec, heat));
      end_us = commit_us + random_.between(3'000, 40'000);
      emit(end_us, object(heat_members(spec, heat.number, "HeatDeactivatedEvent")));
    }
    return end_us;
  }

  std::int64_t run_distance(const DistanceSpec& spec, std::int64_t now) {
    used_names_.clear();
    distance_lap_times_.clear();
    auto activated = std::vector<Member>{{"competitionId", quote(competition_id_)},
                                         {"distance", distance_json(spec, now)},
                                         {"distanceId", quote(spec.id)},
                                         {"typeName", quote("DistanceActivatedEvent")}};
    emit(now, object(std::move(activated)));
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
    emit(now, object({{"competitionId", quote(competition_id_)},
                      {"distanceId", quote(spec.id)},
                      {"typeName", quote("DistanceDeactivatedEvent")}}));
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

std::optional<SimulatedDistance> parse_simulated_distance(std::string_view text) {
  if (text == "500") return SimulatedDistance::k500;
  if (text == "1000") return SimulatedDistance::k1000;
  if (text == "1500") return SimulatedDistance::k1500;
  if (text == "5000") return SimulatedDistance::k5000;
  if (text == "team-pursuit") return SimulatedDistance::kTeamPursuit;
  if (text == "mass-start") return SimulatedDistance::kMassStart;
  return std::nullopt;
}

std::string_view simulated_distance_name(SimulatedDistance distance) {
  switch (distance) {
    case SimulatedDistance::k500:
      return "500";
    case SimulatedDistance::k1000:
      return "1000";
    case SimulatedDistance::k1500:
      return "1500";
    case SimulatedDistance::k5000:
      return "5000";
    case SimulatedDistance::kTeamPursuit:
      return "team-pursuit";
    case SimulatedDistance::kMassStart:
      return "mass-start";
  }
  return "?";
}

std::vector<SimulatedEvent> simulate_competition(const SimulationOptions& options) {
  return CompetitionSimulator(options).run();
}

}  // namespace ovalstream::recorder
