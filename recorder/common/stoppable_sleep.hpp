#pragma once
// Waiting in a loop that another thread may stop (retry backoffs of the recorders): sleeps in short steps
// so a stop is noticed within 50 ms.
// Thread safety: `stop` may be set from any thread.

#include <atomic>
#include <chrono>

namespace ovalstream::recorder {

// Sleeps up to `duration`; false (at once) when `stop` is or becomes set, true after the full duration.
bool sleep_unless_stopped(const std::atomic<bool>& stop, std::chrono::milliseconds duration);

}  // namespace ovalstream::recorder
