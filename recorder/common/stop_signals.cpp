#include <utility>  // before Asio: Boost 1.74 with C++20 needs it

#include "common/stop_signals.hpp"

#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>

namespace ovalstream::recorder {

struct StopSignals::State {
  State(boost::asio::io_context& io, Handler handler)
      : signals(io, SIGINT, SIGTERM), on_signal(std::move(handler)) {}
  boost::asio::signal_set signals;
  Handler on_signal;
  std::atomic<bool> cancelled{false};
};

StopSignals::StopSignals(boost::asio::io_context& io, Handler on_signal)
    : state_(std::make_shared<State>(io, std::move(on_signal))) {
  wait(state_);
}

StopSignals::~StopSignals() {
  cancel();
}

void StopSignals::cancel() {
  if (state_->cancelled.exchange(true)) return;
  boost::system::error_code ignored;
  state_->signals.cancel(ignored);
}

// The pending wait holds the state weakly: a StopSignals destroyed with a wait pending (completed later as
// aborted, or never when its io_context is gone first) leaves nothing behind.
void StopSignals::wait(const std::shared_ptr<State>& state) {
  state->signals.async_wait(
      [weak = std::weak_ptr<State>(state)](const boost::system::error_code& error, int signal_number) {
        const std::shared_ptr<State> current = weak.lock();
        if (error || !current || current->cancelled) return;
        current->on_signal(signal_number);
        if (!current->cancelled) wait(current);
      });
}

StopSignalThread::StopSignalThread(StopSignals::Handler on_signal)
    : signals_(io_, std::move(on_signal)), thread_([this] { io_.run(); }) {}

StopSignalThread::~StopSignalThread() {
  // Cancelled on its own thread, so that no handler is running on it meanwhile; then it runs out of work.
  boost::asio::post(io_, [this] { signals_.cancel(); });
  thread_.join();
}

}  // namespace ovalstream::recorder
