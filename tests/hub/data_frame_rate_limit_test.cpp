// The data frame rate on its own, on a simulated clock: a bucket of 10 s worth of frames refilled at the
// rate, so a client keeps to the rate on average over 10 s.

#include "data_frame_rate_limit.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace ovalstream::hub {
namespace {

constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kSecond = 1000 * kMs;
// Any steady clock reading: the limit must not care where time starts.
constexpr std::int64_t kStart = 123'456 * kSecond;

// Frames admitted at one instant.
int burst(DataFrameRateLimit& limit, std::int64_t now, int attempts) {
  int admitted = 0;
  for (int i = 0; i < attempts; ++i) admitted += limit.admit(now) ? 1 : 0;
  return admitted;
}

TEST(DataFrameRateLimit, ByDefaultABurstOfTenSecondsWorthThenTheRate) {
  DataFrameRateLimit limit(10);
  EXPECT_EQ(burst(limit, kStart, 100), 100) << "capacity: 10 frames/s x 10 s";
  EXPECT_FALSE(limit.admit(kStart)) << "the 101st at once";
  EXPECT_FALSE(limit.admit(kStart + 99 * kMs));
  EXPECT_TRUE(limit.admit(kStart + 100 * kMs)) << "a token every 100 ms";
  EXPECT_FALSE(limit.admit(kStart + 150 * kMs));
  EXPECT_TRUE(limit.admit(kStart + 200 * kMs));
  EXPECT_EQ(burst(limit, kStart + 1200 * kMs, 100), 10) << "a second refills ten";
}

TEST(DataFrameRateLimit, HeartbeatsAtTheRateAreNeverRefused) {
  DataFrameRateLimit limit(10);
  for (int i = 0; i < 100'000; ++i) ASSERT_TRUE(limit.admit(kStart + i * 100 * kMs)) << "frame " << i;
  // And a first burst on top of a steady rate is still allowed a full bucket after a pause.
  const std::int64_t later = kStart + 100'000 * 100 * kMs + 10 * kSecond;
  EXPECT_EQ(burst(limit, later, 200), 100);
}

TEST(DataFrameRateLimit, ASustainedRateJustOverIsRefusedOnceTheBucketIsEmpty) {
  DataFrameRateLimit limit(10);
  // 11 frames per second: one more than the refill each second, so the bucket of 100 empties in about
  // 100 s (less the tokens each second's own refill lends).
  std::int64_t refused_at = -1;
  for (int i = 0; i < 11 * 200; ++i) {
    const std::int64_t now = kStart + i * kSecond / 11;
    if (!limit.admit(now)) {
      refused_at = now - kStart;
      break;
    }
  }
  ASSERT_GE(refused_at, 0) << "never refused at 11/s";
  EXPECT_GT(refused_at, 80 * kSecond);
  EXPECT_LT(refused_at, 110 * kSecond);
}

TEST(DataFrameRateLimit, ARefusedFrameTakesNoToken) {
  DataFrameRateLimit limit(1);
  EXPECT_EQ(burst(limit, kStart, 10), 10) << "1/s: a bucket of 10";
  EXPECT_EQ(burst(limit, kStart + 500 * kMs, 1000), 0);
  EXPECT_TRUE(limit.admit(kStart + kSecond)) << "the refused ones did not push the refill back";
}

TEST(DataFrameRateLimit, AnIdleClientHasAFullBucketAndNoMore) {
  DataFrameRateLimit limit(10);
  EXPECT_EQ(burst(limit, kStart, 5), 5);
  EXPECT_EQ(burst(limit, kStart + 3600 * kSecond, 1000), 100);
}

TEST(DataFrameRateLimit, ZeroIsNoLimit) {
  DataFrameRateLimit limit(0);
  EXPECT_EQ(burst(limit, kStart, 1'000'000), 1'000'000);
}

TEST(DataFrameRateLimit, RatesThatDoNotDivideASecondAndExtremeOnes) {
  DataFrameRateLimit three(3);
  EXPECT_EQ(burst(three, kStart, 100), 30);
  DataFrameRateLimit huge(std::numeric_limits<std::uint32_t>::max());
  EXPECT_EQ(burst(huge, kStart, 100'000), 100'000) << "no overflow, no zero interval";
  EXPECT_TRUE(huge.admit(std::numeric_limits<std::int64_t>::max() / 2));
}

}  // namespace
}  // namespace ovalstream::hub
