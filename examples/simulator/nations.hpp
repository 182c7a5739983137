#pragma once
// People. Invented combinations of common first names and surnames per nation ("de|Wit": prefix|surname).
// Thread safety: constant data and pure functions.

#include <array>
#include <string>

#include "simulator/random.hpp"

namespace ovalstream::simulator {

struct Nation {
  const char* code;
  const char* name;
  std::array<const char*, 5> men;
  std::array<const char*, 5> ladies;
  std::array<const char*, 6> surnames;
  int weight;  // how many skaters a World Cup field has from it, roughly
};

extern const std::array<Nation, 15> kNations;

// The nations with a team pursuit team.
constexpr std::array<int, 8> kTeamNations = {0, 1, 2, 3, 4, 5, 6, 7};

// A nation drawn by weight.
const Nation& pick_nation(Random& random);

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

}  // namespace ovalstream::simulator
