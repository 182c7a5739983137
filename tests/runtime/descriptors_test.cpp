// The descriptor limit raised at start: the soft limit becomes the hard one, both logged.

#include "ovalstream/runtime/descriptors.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <sstream>

namespace ovalstream::runtime {
namespace {

TEST(DescriptorLimit, SoftIsRaisedToHardOnceAndLogged) {
  const DescriptorLimit& limit = raise_descriptor_limit();
  ASSERT_TRUE(limit.error.empty()) << limit.error;
  rlimit now{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &now), 0);
  EXPECT_EQ(now.rlim_cur, now.rlim_max);
  EXPECT_EQ(limit.soft, limit.hard);
  EXPECT_LE(limit.soft_before, limit.soft);
  EXPECT_EQ(&raise_descriptor_limit(), &limit) << "once per process";

  std::ostringstream out;
  Logger logger("test", out);
  log_descriptor_limit(logger, limit);
  EXPECT_NE(out.str().find("\"softBefore\":"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("\"hard\":"), std::string::npos) << out.str();
}

}  // namespace
}  // namespace ovalstream::runtime
