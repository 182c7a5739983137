#pragma once
// The two clocks of the hub, as int64 nanoseconds: steady for deadlines and liveness, system for the
// publish-to-write latency (publishers stamp frames with the Unix time).

#include <chrono>
#include <cstdint>

namespace ovalstream::hub {

inline std::int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline std::int64_t system_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace ovalstream::hub
