#include "close_all_operation.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

namespace ovalstream::hub {

CloseAllOperation::CloseAllOperation(boost::asio::io_context& io,
                                     std::vector<std::shared_ptr<TrackedConnection>> connections,
                                     std::uint16_t code, std::string reason, std::chrono::milliseconds spread,
                                     std::function<void()> done)
    : timer_(boost::asio::make_strand(io)),
      connections_(std::move(connections)),
      code_(code),
      reason_(std::move(reason)),
      spread_(std::max(spread, std::chrono::milliseconds(0))),
      done_(std::move(done)) {}

void CloseAllOperation::start() {
  boost::asio::post(timer_.get_executor(), [self = shared_from_this()] {
    self->started_ = std::chrono::steady_clock::now();
    self->close_due();
  });
}

std::chrono::steady_clock::time_point CloseAllOperation::scheduled_close(std::size_t index) const {
  // Connection i of n closes at i/n of the spread: the first at once, the last one step before the end.
  const auto spread_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(spread_);
  return started_ +
         spread_ns * static_cast<std::int64_t>(index) / static_cast<std::int64_t>(connections_.size());
}

void CloseAllOperation::close_due() {
  const auto now = std::chrono::steady_clock::now();
  while (next_to_close_ < connections_.size() && scheduled_close(next_to_close_) <= now) {
    connections_[next_to_close_]->close(code_, reason_);
    ++next_to_close_;
  }
  if (next_to_close_ < connections_.size()) {
    timer_.expires_at(scheduled_close(next_to_close_));
    timer_.async_wait([self = shared_from_this()](boost::system::error_code) { self->close_due(); });
    return;
  }
  confirm_closed();
}

void CloseAllOperation::confirm_closed() {
  // Connections mostly finish in the order they were closed, so the scan resumes where it stopped.
  while (next_to_confirm_ < connections_.size() && connections_[next_to_confirm_]->is_torn_down()) {
    connections_[next_to_confirm_].reset();
    ++next_to_confirm_;
  }
  if (next_to_confirm_ == connections_.size()) {
    finish();
    return;
  }
  timer_.expires_after(kConfirmInterval);
  timer_.async_wait([self = shared_from_this()](boost::system::error_code) { self->confirm_closed(); });
}

void CloseAllOperation::finish() {
  connections_.clear();
  if (auto done = std::move(done_)) {
    done_ = nullptr;
    try {
      done();
    } catch (...) {
      // The application's callback failing changes nothing here.
    }
  }
}

}  // namespace ovalstream::hub
