#pragma once
// How many data frames (heartbeats) a client may send: a token bucket of capacity
// frames_per_second x kDataFrameRateWindow, refilled at frames_per_second. A client keeps to the rate on
// average over the window, and an app that was paused (a phone's browser in the background) may catch up
// a window's worth at once. Kept as one time, the theoretical arrival of the next frame (the generic cell
// rate algorithm, equivalent to the bucket), so it costs a connection a few bytes and no timer.
// Pure: the caller gives the time.

#include <chrono>
#include <cstdint>
#include <limits>

namespace ovalstream::hub {

inline constexpr std::chrono::seconds kDataFrameRateWindow{10};

class DataFrameRateLimit {
 public:
  // 0: no limit.
  explicit DataFrameRateLimit(std::uint32_t frames_per_second) noexcept;

  // Takes a token for a frame that arrived at `now_ns` (a steady clock); false when the bucket is empty.
  bool admit(std::int64_t now_ns) noexcept;

 private:
  std::int64_t interval_ns_ = 0;   // between two frames at the rate; 0: no limit
  std::int64_t tolerance_ns_ = 0;  // how far ahead of now the next arrival may be: the bucket's capacity
  std::int64_t next_arrival_ns_ = std::numeric_limits<std::int64_t>::min();
};

}  // namespace ovalstream::hub
