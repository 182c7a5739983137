#pragma once
// Pings every connection every ping_interval, closes a peer silent for pong_timeout, and tears down
// connections whose close did not finish within kCloseTimeout.
//
// Why one hub-wide timer instead of a steady_timer per connection: a per-connection timer costs ~100
// bytes of timer state per idle connection plus a timer-queue insertion, a cancellation and a handler
// allocation per connection per interval. The sweep costs nothing per connection but two atomics and a
// deadline; each tick reads them for every connection under the registry lock (a few ns each, so ~1 ms
// for 100k connections once a second) and acts only on the connections that are due.

#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>

#include "hub_state.hpp"

namespace ovalstream::hub {

class LivenessSweep final : public std::enable_shared_from_this<LivenessSweep> {
 public:
  LivenessSweep(boost::asio::io_context& io, std::shared_ptr<HubState> hub);

  void start();  // any thread
  void stop();   // any thread

  // A quarter of the shorter of ping_interval and pong_timeout, within [10 ms, 1 s]: pings go out at most
  // one tick late, silent peers are closed at most one tick after pong_timeout.
  static std::chrono::milliseconds tick_for(const ServerOptions& options);

 private:
  void schedule();
  void on_tick(boost::system::error_code error);

  const std::shared_ptr<HubState> hub_;
  boost::asio::steady_timer timer_;  // on its own strand
  const std::chrono::milliseconds tick_;
  bool stopped_ = false;  // strand only
};

}  // namespace ovalstream::hub
