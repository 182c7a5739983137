#pragma once
// Closes each websocket admitted with a token when the token stops being valid (its exp plus
// --auth-clock-skew), with 4001 "token expired" (docs/protocol.md), so that the client reconnects with a
// new token. One timer for all of them, ticking every kTick while the watch runs: a connection costs a map
// entry, not a timer of its own, and is closed at most one tick late.
// Thread safety: every member may be called from any thread.

#include <utility>  // before Asio: Boost 1.74 with C++20 needs it

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <unordered_map>

#include "ovalstream/hub/connection.hpp"
#include "ovalstream/runtime/mutex.hpp"

namespace ovalstream::aggregator {

inline constexpr std::uint16_t kTokenExpiredCloseCode = 4001;
inline constexpr std::string_view kTokenExpiredReason = "token expired";

class ExpiryWatch final : public std::enable_shared_from_this<ExpiryWatch> {
 public:
  static constexpr std::chrono::milliseconds kTick{250};

  explicit ExpiryWatch(boost::asio::io_context& io);

  void start();
  void stop();

  // Closes `connection` at `deadline` (system clock) unless forgotten before.
  void watch(const std::shared_ptr<hub::Connection>& connection,
             std::chrono::system_clock::time_point deadline);
  void forget(const hub::Connection& connection);
  std::size_t watched() const;

 private:
  using Deadlines = std::multimap<std::chrono::system_clock::time_point, std::weak_ptr<hub::Connection>>;

  void schedule();
  void on_tick(boost::system::error_code error);

  boost::asio::steady_timer timer_;  // on its own strand
  bool stopped_ = false;             // the strand's

  mutable runtime::Mutex mutex_;
  Deadlines by_deadline_ GUARDED_BY(mutex_);
  std::unordered_map<std::uint64_t, Deadlines::iterator> by_id_ GUARDED_BY(mutex_);
};

}  // namespace ovalstream::aggregator
