#include "common/stoppable_sleep.hpp"

#include <algorithm>
#include <thread>

namespace ovalstream::recorder {

bool sleep_unless_stopped(const std::atomic<bool>& stop, std::chrono::milliseconds duration) {
  using namespace std::chrono_literals;
  const auto deadline = std::chrono::steady_clock::now() + duration;
  while (!stop.load()) {
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= 0ms) return true;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(left, 50ms));
  }
  return false;
}

}  // namespace ovalstream::recorder
