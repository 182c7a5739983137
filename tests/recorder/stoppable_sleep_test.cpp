// The recorders' retry waits end early when they are told to stop.

#include "common/stoppable_sleep.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace ovalstream::recorder {
namespace {

using namespace std::chrono_literals;

TEST(StoppableSleep, ReturnsTrueAfterTheFullDuration) {
  std::atomic<bool> stop{false};
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(sleep_unless_stopped(stop, 30ms));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 30ms);
}

TEST(StoppableSleep, ReturnsFalseAtOnceWhenStopped) {
  std::atomic<bool> stop{true};
  EXPECT_FALSE(sleep_unless_stopped(stop, 1h));
}

TEST(StoppableSleep, AStopFromAnotherThreadEndsTheWait) {
  std::atomic<bool> stop{false};
  std::thread stopper([&] {
    std::this_thread::sleep_for(50ms);
    stop = true;
  });
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(sleep_unless_stopped(stop, 1h));  // the test would hang for an hour without the stop
  EXPECT_LT(std::chrono::steady_clock::now() - start, 30s);
  stopper.join();
}

}  // namespace
}  // namespace ovalstream::recorder
