#pragma once
// Randomness: std::mt19937_64 (fully specified by the standard) mapped to ranges with integer arithmetic
// only, so every platform draws the same numbers. (std::uniform_int_distribution & co. are not portable.)
// Thread safety: one per simulation, not shared.

#include <cstdint>
#include <random>
#include <string>

namespace ovalstream::simulator {

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

}  // namespace ovalstream::simulator
