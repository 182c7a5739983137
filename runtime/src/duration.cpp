#include "ovalstream/runtime/duration.hpp"

#include <cstdint>
#include <utility>

namespace ovalstream::runtime {
namespace {

// The arithmetic follows Go's time.ParseDuration step by step (unsigned accumulation up to 2^63, a
// float64 for the fraction) so that the same text gives the same nanoseconds as the Go original.
constexpr std::uint64_t kTwoTo63 = std::uint64_t{1} << 63;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Consumes leading digits into `value`; false on overflow past 2^63.
bool consume_leading_int(std::string_view& text, std::uint64_t& value) {
  value = 0;
  std::size_t i = 0;
  for (; i < text.size() && is_digit(text[i]); ++i) {
    if (value > kTwoTo63 / 10) return false;
    value = value * 10 + static_cast<std::uint64_t>(text[i] - '0');
    if (value > kTwoTo63) return false;
  }
  text.remove_prefix(i);
  return true;
}

// Consumes fraction digits; digits past int64 precision are dropped, as Go does.
void consume_leading_fraction(std::string_view& text, std::uint64_t& value, double& scale) {
  value = 0;
  scale = 1;
  bool overflow = false;
  std::size_t i = 0;
  for (; i < text.size() && is_digit(text[i]); ++i) {
    if (overflow) continue;
    if (value > (kTwoTo63 - 1) / 10) {
      overflow = true;
      continue;
    }
    const std::uint64_t next = value * 10 + static_cast<std::uint64_t>(text[i] - '0');
    if (next > kTwoTo63) {
      overflow = true;
      continue;
    }
    value = next;
    scale *= 10;
  }
  text.remove_prefix(i);
}

std::optional<std::uint64_t> unit_nanoseconds(std::string_view unit) {
  if (unit == "ns") return 1;
  if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs")
    return 1'000;  // us, µs (micro sign), μs (mu)
  if (unit == "ms") return 1'000'000;
  if (unit == "s") return 1'000'000'000;
  if (unit == "m") return 60'000'000'000;
  if (unit == "h") return 3'600'000'000'000;
  return std::nullopt;
}

// Writes the fraction of `value` with `precision` digits, trailing zeros (and a bare '.') omitted;
// returns the integer part. Prepends to `out`, which is built right to left like Go's buffer.
std::uint64_t prepend_fraction(std::string& out, std::uint64_t value, int precision) {
  bool print = false;
  for (int i = 0; i < precision; ++i) {
    const auto digit = static_cast<char>(value % 10);
    print = print || digit != 0;
    if (print) out.insert(out.begin(), static_cast<char>('0' + digit));
    value /= 10;
  }
  if (print) out.insert(out.begin(), '.');
  return value;
}

void prepend_int(std::string& out, std::uint64_t value) {
  out.insert(0, std::to_string(value));
}

}  // namespace

std::optional<std::chrono::nanoseconds> parse_go_duration(std::string_view text) {
  bool negative = false;
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text == "0") return std::chrono::nanoseconds{0};
  if (text.empty()) return std::nullopt;

  std::uint64_t total = 0;
  while (!text.empty()) {
    if (!(text.front() == '.' || is_digit(text.front()))) return std::nullopt;
    const std::size_t before_int = text.size();
    std::uint64_t whole = 0;
    if (!consume_leading_int(text, whole)) return std::nullopt;
    const bool had_int = before_int != text.size();

    std::uint64_t fraction = 0;
    double scale = 1;
    bool had_fraction = false;
    if (!text.empty() && text.front() == '.') {
      text.remove_prefix(1);
      const std::size_t before_fraction = text.size();
      consume_leading_fraction(text, fraction, scale);
      had_fraction = before_fraction != text.size();
    }
    if (!had_int && !had_fraction) return std::nullopt;  // "." or ".s"

    std::size_t unit_end = 0;
    while (unit_end < text.size() && text[unit_end] != '.' && !is_digit(text[unit_end])) ++unit_end;
    if (unit_end == 0) return std::nullopt;  // a number without a unit
    const auto unit = unit_nanoseconds(text.substr(0, unit_end));
    if (!unit) return std::nullopt;
    text.remove_prefix(unit_end);

    if (whole > kTwoTo63 / *unit) return std::nullopt;
    whole *= *unit;
    if (fraction > 0) {
      // A double is exact enough here: fraction * unit / scale is at most 3.6e12 (one hour in ns).
      whole +=
          static_cast<std::uint64_t>(static_cast<double>(fraction) * (static_cast<double>(*unit) / scale));
      if (whole > kTwoTo63) return std::nullopt;
    }
    total += whole;
    if (total > kTwoTo63) return std::nullopt;
  }
  if (negative) {
    // total <= 2^63: the most negative int64 is representable.
    return std::chrono::nanoseconds{static_cast<std::int64_t>(0 - total)};
  }
  if (total > kTwoTo63 - 1) return std::nullopt;
  return std::chrono::nanoseconds{static_cast<std::int64_t>(total)};
}

std::string format_go_duration(std::chrono::nanoseconds duration) {
  const std::int64_t count = duration.count();
  const bool negative = count < 0;
  // Unsigned negation handles the most negative value.
  std::uint64_t value = negative ? 0 - static_cast<std::uint64_t>(count) : static_cast<std::uint64_t>(count);
  std::string out;
  if (value < 1'000'000'000) {
    // Under a second: the largest unit below a second, e.g. "1.2ms".
    int precision = 0;
    if (value == 0) return "0s";
    if (value < 1'000) {
      out = "ns";
    } else if (value < 1'000'000) {
      precision = 3;
      out = "\xC2\xB5s";  // µs, as Go writes it
    } else {
      precision = 6;
      out = "ms";
    }
    value = prepend_fraction(out, value, precision);
    prepend_int(out, value);
  } else {
    out = "s";
    value = prepend_fraction(out, value, 9);
    prepend_int(out, value % 60);
    value /= 60;
    if (value > 0) {
      out.insert(out.begin(), 'm');
      prepend_int(out, value % 60);
      value /= 60;
      if (value > 0) {
        out.insert(out.begin(), 'h');
        prepend_int(out, value);
      }
    }
  }
  if (negative) out.insert(out.begin(), '-');
  return out;
}

}  // namespace ovalstream::runtime
