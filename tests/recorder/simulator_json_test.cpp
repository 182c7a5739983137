// The simulator's JSON values (examples/simulator/sorted_json.hpp): RapidJSON's Writer, keys sorted, numbers
// as the hand-written text had them (examples/*.jsonl are compared byte for byte in simulate_test.cpp).
#include <gtest/gtest.h>

#include "simulator/sorted_json.hpp"

namespace ovalstream::simulator {
namespace {

TEST(SimulatorJson, ObjectKeysAreSorted) {
  const Json object =
      Json::object({{"typeName", Json::string("X")},
                    {"competitionId", Json::string("c")},
                    {"heat", Json::object({{"round", Json::integer(1)}, {"number", Json::integer(2)}})}});
  EXPECT_EQ(object.text(), R"({"competitionId":"c","heat":{"number":2,"round":1},"typeName":"X"})");
}

TEST(SimulatorJson, ScalarsAndArrays) {
  EXPECT_EQ(Json::null().text(), "null");
  EXPECT_EQ(Json().text(), "null");
  EXPECT_EQ(Json::boolean(true).text(), "true");
  EXPECT_EQ(Json::boolean(false).text(), "false");
  EXPECT_EQ(Json::integer(-9007199254740993).text(), "-9007199254740993");
  EXPECT_EQ(Json::array({}).text(), "[]");
  EXPECT_EQ(Json::array({Json::integer(1), Json::null(), Json::array({})}).text(), "[1,null,[]]");
}

// Shortest round trip, integral values without ".0" (RapidJSON's own Double would write "1.0").
TEST(SimulatorJson, RealsAreShortestWithoutTrailingZero) {
  EXPECT_EQ(Json::real(1.0).text(), "1");
  EXPECT_EQ(Json::real(12.5).text(), "12.5");
  EXPECT_EQ(Json::real(0.1 + 0.2).text(), "0.30000000000000004");
  EXPECT_EQ(Json::real(1095.28).text(), "1095.28");
  EXPECT_EQ(Json::real(-0.25).text(), "-0.25");
}

TEST(SimulatorJson, StringsAreEscapedAndUtf8PassesThrough) {
  EXPECT_EQ(Json::string("Håkon \"H\" \\").text(), R"("Håkon \"H\" \\")");
  EXPECT_EQ(Json::string(std::string_view("a\x01z", 3)).text(), R"("a\u0001z")");
}

}  // namespace
}  // namespace ovalstream::simulator
