#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "routes.hpp"

namespace ovalstream::aggregator {
namespace {

TEST(Routes, ClassifiesPaths) {
  EXPECT_EQ(classify_path("/v1/competitions").kind, RouteTarget::Kind::kCompetitions);
  EXPECT_EQ(classify_path("/v1/competitions/").kind, RouteTarget::Kind::kCompetitions);
  const RouteTarget one = classify_path("/v1/competitions/30913459-50b1-4df7-8e1b-a078472f9e9b");
  EXPECT_EQ(one.kind, RouteTarget::Kind::kCompetition);
  EXPECT_EQ(one.competition_id, "30913459-50b1-4df7-8e1b-a078472f9e9b");
  EXPECT_EQ(classify_path("/v1/competitions/abc/").kind, RouteTarget::Kind::kCompetition);
  EXPECT_EQ(classify_path("/v1/competitions/a.b").kind, RouteTarget::Kind::kBadId);
  EXPECT_EQ(classify_path("/v1/competitions/a*").kind, RouteTarget::Kind::kBadId);
  EXPECT_EQ(classify_path("/v1/competitions/a>").kind, RouteTarget::Kind::kBadId);
  EXPECT_EQ(classify_path("/v1/competitions/a%20b").kind, RouteTarget::Kind::kBadId);
  EXPECT_EQ(classify_path("/v1/competitions/a%2Eb").kind, RouteTarget::Kind::kBadId) << "an escaped dot";
  EXPECT_EQ(classify_path("/v1/competitions/a%00b").kind, RouteTarget::Kind::kBadId);
  EXPECT_EQ(classify_path("/v1/competitions/a%01b").kind, RouteTarget::Kind::kBadId);
  EXPECT_EQ(classify_path("/v1/competitions/%ff").kind, RouteTarget::Kind::kBadId) << "not UTF-8";
  EXPECT_EQ(classify_path("/v1/competitions/a%").kind, RouteTarget::Kind::kBadId);
  EXPECT_EQ(classify_path("/v1/competitions/a%2").kind, RouteTarget::Kind::kBadId);
  EXPECT_EQ(classify_path("/v1/competitions/a%zz").kind, RouteTarget::Kind::kBadId);
  EXPECT_EQ(classify_path("/v1/competitions/a/b").kind, RouteTarget::Kind::kBadId);
  EXPECT_EQ(classify_path("/v1/competitions/activations").kind, RouteTarget::Kind::kBadId);
  EXPECT_EQ(classify_path("/v1/competitions/" + std::string(257, 'a')).kind, RouteTarget::Kind::kBadId);
  EXPECT_EQ(classify_path("/v1/competitions/" + std::string(10000, '%')).kind, RouteTarget::Kind::kBadId);
  // Anything that can be a subject token: upper case, longer than a GUID, punctuation, escapes, UTF-8.
  for (const auto& [path, id] : std::vector<std::pair<std::string, std::string>>{
           {"/v1/competitions/30913459-50B1-4DF7-8E1B-A078472F9E9B", "30913459-50B1-4DF7-8E1B-A078472F9E9B"},
           {"/v1/competitions/" + std::string(256, 'x'), std::string(256, 'x')},
           {"/v1/competitions/cup:2020~a+b", "cup:2020~a+b"},
           {"/v1/competitions/a%2Fb", "a/b"},
           {"/v1/competitions/%C3%A9t%C3%A9", "\xC3\xA9t\xC3\xA9"},
       }) {
    const RouteTarget target = classify_path(path);
    EXPECT_EQ(target.kind, RouteTarget::Kind::kCompetition) << path;
    EXPECT_EQ(target.competition_id, id) << path;
  }
  EXPECT_EQ(classify_path("/").kind, RouteTarget::Kind::kNotFound);
  EXPECT_EQ(classify_path("/v1/competition").kind, RouteTarget::Kind::kNotFound);
  EXPECT_EQ(classify_path("/v1/competitionsX").kind, RouteTarget::Kind::kNotFound);
  EXPECT_EQ(classify_path("/v2/competitions").kind, RouteTarget::Kind::kNotFound);
}

}  // namespace
}  // namespace ovalstream::aggregator
