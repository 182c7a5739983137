#include "data_frame_rate_limit.hpp"

#include <algorithm>

namespace ovalstream::hub {

DataFrameRateLimit::DataFrameRateLimit(std::uint32_t frames_per_second) noexcept {
  if (frames_per_second == 0) return;
  constexpr std::int64_t kSecondNs = 1'000'000'000;
  interval_ns_ = std::max<std::int64_t>(1, kSecondNs / frames_per_second);
  // Full bucket: the capacity's frames at once take the next arrival a window ahead; the last of them
  // finds it one interval short of that.
  tolerance_ns_ = std::chrono::nanoseconds(kDataFrameRateWindow).count() - interval_ns_;
}

bool DataFrameRateLimit::admit(std::int64_t now_ns) noexcept {
  if (interval_ns_ == 0) return true;
  const std::int64_t arrival = std::max(next_arrival_ns_, now_ns);
  if (arrival - now_ns > tolerance_ns_) return false;
  next_arrival_ns_ = arrival + interval_ns_;
  return true;
}

}  // namespace ovalstream::hub
