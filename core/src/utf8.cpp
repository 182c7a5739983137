#include "ovalstream/core/utf8.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace ovalstream::core {

namespace {

// The length of the valid sequence at the start of `text`, 0 when it does not start with one.
std::size_t valid_sequence_length(std::string_view text) noexcept {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const unsigned char lead = bytes[0];
  if (lead < 0x80) return 1;
  for (std::size_t length = 2; length <= 4 && length <= text.size(); ++length) {
    if (is_valid_utf8(text.substr(0, length))) return length;
  }
  return 0;
}

}  // namespace

std::string to_valid_utf8(std::string_view text) {
  if (is_valid_utf8(text)) return std::string(text);
  std::string valid;
  valid.reserve(text.size() + 8);
  while (!text.empty()) {
    const std::size_t length = valid_sequence_length(text);
    if (length == 0) {
      valid.append("\xEF\xBF\xBD");  // U+FFFD REPLACEMENT CHARACTER
      text.remove_prefix(1);
    } else {
      valid.append(text.substr(0, length));
      text.remove_prefix(length);
    }
  }
  return valid;
}

bool is_valid_utf8(std::string_view text) noexcept {
  const auto* next = reinterpret_cast<const unsigned char*>(text.data());
  const auto* const end = next + text.size();
  while (next < end) {
    // ASCII runs eight bytes at a time: most of an event.
    while (end - next >= 8) {
      std::uint64_t word;
      std::memcpy(&word, next, sizeof word);
      if ((word & 0x8080808080808080ULL) != 0) break;
      next += 8;
    }
    if (next == end) break;
    const unsigned char lead = *next;
    if (lead < 0x80) {
      ++next;
      continue;
    }
    // The lead byte fixes the length and the range of the second byte (which excludes overlong forms,
    // surrogates and code points above U+10FFFF); later bytes are plain continuation bytes.
    std::ptrdiff_t length = 0;
    unsigned char second_min = 0x80;
    unsigned char second_max = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead == 0xE0) {
      length = 3;
      second_min = 0xA0;
    } else if ((lead >= 0xE1 && lead <= 0xEC) || lead == 0xEE || lead == 0xEF) {
      length = 3;
    } else if (lead == 0xED) {
      length = 3;
      second_max = 0x9F;
    } else if (lead == 0xF0) {
      length = 4;
      second_min = 0x90;
    } else if (lead >= 0xF1 && lead <= 0xF3) {
      length = 4;
    } else if (lead == 0xF4) {
      length = 4;
      second_max = 0x8F;
    } else {
      return false;  // a continuation byte, C0/C1 (overlong), or F5..FF
    }
    if (end - next < length) return false;
    if (next[1] < second_min || next[1] > second_max) return false;
    for (std::ptrdiff_t i = 2; i < length; ++i) {
      if ((next[i] & 0xC0) != 0x80) return false;
    }
    next += length;
  }
  return true;
}

}  // namespace ovalstream::core
