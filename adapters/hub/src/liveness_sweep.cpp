#include "liveness_sweep.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include "clock.hpp"

namespace ovalstream::hub {

LivenessSweep::LivenessSweep(boost::asio::io_context& io, std::shared_ptr<HubState> hub)
    : hub_(std::move(hub)), timer_(boost::asio::make_strand(io)), tick_(tick_for(hub_->options())) {}

std::chrono::milliseconds LivenessSweep::tick_for(const ServerOptions& options) {
  const auto shortest = std::min(options.ping_interval, options.pong_timeout);
  return std::clamp<std::chrono::milliseconds>(shortest / 4, std::chrono::milliseconds(10),
                                               std::chrono::milliseconds(1000));
}

void LivenessSweep::start() {
  boost::asio::post(timer_.get_executor(), [self = shared_from_this()] {
    if (!self->stopped_) self->schedule();
  });
}

void LivenessSweep::stop() {
  boost::asio::post(timer_.get_executor(), [self = shared_from_this()] {
    self->stopped_ = true;
    self->timer_.cancel();
  });
}

void LivenessSweep::schedule() {
  timer_.expires_after(tick_);
  timer_.async_wait([self = shared_from_this()](boost::system::error_code error) { self->on_tick(error); });
}

void LivenessSweep::on_tick(boost::system::error_code error) {
  if (error || stopped_) return;
  const std::int64_t now = steady_now_ns();
  // Outside the hub's registry lock: a due ping is written at once by check_liveness (a system call per
  // connection), and opening and closing connections must not wait for a whole sweep of them.
  for (const auto& connection : hub_->snapshot()) connection->check_liveness(now);
  schedule();
}

}  // namespace ovalstream::hub
