#include <gtest/gtest.h>

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
  EXPECT_EQ(classify_path("/v1/competitions/a%20b").kind, RouteTarget::Kind::kBadId);
  EXPECT_EQ(classify_path("/v1/competitions/a/b").kind, RouteTarget::Kind::kBadId);
  EXPECT_EQ(classify_path("/v1/competitions/" + std::string(65, 'a')).kind, RouteTarget::Kind::kBadId);
  EXPECT_EQ(classify_path("/").kind, RouteTarget::Kind::kNotFound);
  EXPECT_EQ(classify_path("/v1/competition").kind, RouteTarget::Kind::kNotFound);
  EXPECT_EQ(classify_path("/v1/competitionsX").kind, RouteTarget::Kind::kNotFound);
  EXPECT_EQ(classify_path("/v2/competitions").kind, RouteTarget::Kind::kNotFound);
}

TEST(Routes, WellFormedIds) {
  EXPECT_TRUE(is_well_formed_competition_id("abc-DEF_123"));
  EXPECT_TRUE(is_well_formed_competition_id(std::string(64, 'x')));
  EXPECT_FALSE(is_well_formed_competition_id(""));
  EXPECT_FALSE(is_well_formed_competition_id(std::string(65, 'x')));
  EXPECT_FALSE(is_well_formed_competition_id("a>b"));
  EXPECT_FALSE(is_well_formed_competition_id("a b"));
}

}  // namespace
}  // namespace ovalstream::aggregator
