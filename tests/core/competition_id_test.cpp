// Competition ids as clients ask for them: which are accepted, and ASCII case-insensitive matching.
#include "ovalstream/core/competition_id.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace ovalstream::core {
namespace {

TEST(CompetitionId, AnyIdThatCanBeASubjectTokenMayBeAskedFor) {
  for (const std::string& id : std::vector<std::string>{
           "30913459-50b1-4df7-8e1b-a078472f9e9b", "30913459-50B1-4DF7-8E1B-A078472F9E9B", "cup:2020~a+b",
           "a/b", "\xC3\xA9t\xC3\xA9", std::string(256, 'x')}) {
    EXPECT_TRUE(is_requestable_competition_id(id)) << id;
  }
  for (const std::string id :
       {std::string(), std::string("a.b"), std::string("a*"), std::string("a>"), std::string("a b"),
        std::string("a\tb"),
        std::string("a\x01"
                    "b"),
        std::string("a\x7f"), std::string("\xff"), std::string(257, 'x'), std::string("activations"),
        std::string("ACTIVATIONS"), std::string("a\0b", 3)}) {
    EXPECT_FALSE(is_requestable_competition_id(id)) << id;
  }
}

TEST(CompetitionId, MatchesAsciiCaseInsensitively) {
  EXPECT_TRUE(same_competition_id("AbC-1", "aBc-1"));
  EXPECT_FALSE(same_competition_id("abc", "abcd"));
  EXPECT_FALSE(same_competition_id("\xC3\xA9", "\xC3\x89")) << "no Unicode folding: two distinct tokens";
  std::map<std::string, int, CompetitionIdLess> held;
  held["30913459-50b1-4df7-8e1b-a078472f9e9b"] = 1;
  EXPECT_EQ(held.count("30913459-50B1-4DF7-8E1B-A078472F9E9B"), 1u);
  EXPECT_EQ(held.count("30913459-50b1-4df7-8e1b-a078472f9e9c"), 0u);
  held["B"] = 2;
  held["a"] = 3;
  EXPECT_EQ(held.begin()->first, "30913459-50b1-4df7-8e1b-a078472f9e9b");
  EXPECT_EQ(std::next(held.begin())->first, "a") << "ordered as folded: a < B";
}

}  // namespace
}  // namespace ovalstream::core
