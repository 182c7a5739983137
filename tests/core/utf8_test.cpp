// is_valid_utf8 decides whether parse_event may skip the reader's own UTF-8 validation, so it must accept
// exactly what RapidJSON's validation accepts: compared here over every sequence up to three bytes, every
// four-byte lead with every second byte, and random text.
#include <gtest/gtest.h>

#include <rapidjson/encodings.h>
#include <rapidjson/memorystream.h>

#include <cstdint>
#include <random>
#include <string>

#include "ovalstream/core/utf8.hpp"

namespace ovalstream::core {
namespace {

// RapidJSON's verdict on a whole text: code point by code point through UTF8<>::Validate, over a bounded
// stream (past the end it reads '\0', which fails a sequence cut short).
bool rapidjson_accepts(const std::string& text) {
  rapidjson::MemoryStream stream(text.data(), text.size());
  struct NullOutput {
    void Put(char) {}
  } output;
  while (stream.Tell() < text.size()) {
    if (!rapidjson::UTF8<>::Validate(stream, output)) return false;
  }
  return true;
}

TEST(Utf8, AgreesWithRapidJsonOnEverySequenceOfUpToThreeBytes) {
  std::string text;
  std::size_t disagreements = 0;
  for (std::uint32_t value = 0; value < (1u << 24); ++value) {
    for (int length = 1; length <= 3; ++length) {
      if (length < 3 && (value >> (8 * length)) != 0) continue;
      text.clear();
      for (int i = length - 1; i >= 0; --i) text.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
      if (is_valid_utf8(text) != rapidjson_accepts(text) && ++disagreements <= 5) {
        ADD_FAILURE() << "disagree on " << length << " bytes 0x" << std::hex << value;
      }
    }
  }
  EXPECT_EQ(disagreements, 0u);
}

TEST(Utf8, AgreesWithRapidJsonOnFourByteSequences) {
  const unsigned char tails[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0xBF, 0xC0, 0xF4, 0xFF};
  std::string text(4, '\0');
  for (unsigned lead = 0xF0; lead <= 0xFF; ++lead) {
    for (unsigned second = 0; second <= 0xFF; ++second) {
      for (unsigned char third : tails) {
        for (unsigned char fourth : tails) {
          text[0] = static_cast<char>(lead);
          text[1] = static_cast<char>(second);
          text[2] = static_cast<char>(third);
          text[3] = static_cast<char>(fourth);
          ASSERT_EQ(is_valid_utf8(text), rapidjson_accepts(text))
              << std::hex << lead << " " << second << " " << +third << " " << +fourth;
        }
      }
    }
  }
}

TEST(Utf8, AgreesWithRapidJsonOnRandomTextAroundTheAsciiFastPath) {
  std::mt19937_64 random(20200112);
  // Mostly ASCII with a few multi-byte pieces, valid and not, at every offset of the 8-byte stride.
  const std::string pieces[] = {"a",    "Sjinkie",         "\xc3\xa9",     "\xe2\x82\xac", "\xf0\x9f\x8f\x81",
                                "\xc3", "\xe2\x82",        "\xed\xa0\x80", "\xc0\xaf",     "\xff",
                                "\x80", "\xf4\x90\x80\x80"};
  std::size_t valid = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string text;
    const int count = static_cast<int>(random() % 12);
    for (int i = 0; i < count; ++i) {
      text += random() % 4 == 0 ? pieces[random() % std::size(pieces)] : std::string(random() % 11, 'x');
    }
    const bool ours = is_valid_utf8(text);
    valid += ours;
    ASSERT_EQ(ours, rapidjson_accepts(text)) << testing::PrintToString(text);
  }
  EXPECT_GT(valid, 1000u);  // both verdicts were exercised
  EXPECT_LT(valid, 19000u);
}

}  // namespace
}  // namespace ovalstream::core

namespace ovalstream::core {
namespace {

TEST(ToValidUtf8, ReplacesEachBadByteAndKeepsValidText) {
  EXPECT_EQ(to_valid_utf8("plain ascii"), "plain ascii");
  EXPECT_EQ(to_valid_utf8("caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_EQ(to_valid_utf8("a\xFF\xFE"
                          "b"),
            "a\xEF\xBF\xBD\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(to_valid_utf8("cut \xE2\x82"), "cut \xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(to_valid_utf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD") << "a surrogate";
  EXPECT_TRUE(is_valid_utf8(to_valid_utf8("\xC0\xAF\xF5\x80 ok")));
}

}  // namespace
}  // namespace ovalstream::core
