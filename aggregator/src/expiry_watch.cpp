#include "expiry_watch.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <vector>

namespace ovalstream::aggregator {

ExpiryWatch::ExpiryWatch(boost::asio::io_context& io) : timer_(boost::asio::make_strand(io)) {}

void ExpiryWatch::start() {
  boost::asio::post(timer_.get_executor(), [self = shared_from_this()] {
    if (!self->stopped_) self->schedule();
  });
}

void ExpiryWatch::stop() {
  boost::asio::post(timer_.get_executor(), [self = shared_from_this()] {
    self->stopped_ = true;
    self->timer_.cancel();
  });
}

void ExpiryWatch::watch(const std::shared_ptr<hub::Connection>& connection,
                        std::chrono::system_clock::time_point deadline) {
  runtime::MutexLock lock(mutex_);
  const auto [existing, inserted] = by_id_.try_emplace(connection->id());
  if (!inserted) by_deadline_.erase(existing->second);
  existing->second = by_deadline_.emplace(deadline, connection);
}

void ExpiryWatch::forget(const hub::Connection& connection) {
  runtime::MutexLock lock(mutex_);
  const auto found = by_id_.find(connection.id());
  if (found == by_id_.end()) return;
  by_deadline_.erase(found->second);
  by_id_.erase(found);
}

std::size_t ExpiryWatch::watched() const {
  runtime::MutexLock lock(mutex_);
  return by_deadline_.size();
}

void ExpiryWatch::schedule() {
  timer_.expires_after(kTick);
  timer_.async_wait([self = shared_from_this()](boost::system::error_code error) { self->on_tick(error); });
}

void ExpiryWatch::on_tick(boost::system::error_code error) {
  if (error || stopped_) return;
  std::vector<std::shared_ptr<hub::Connection>> due;
  {
    runtime::MutexLock lock(mutex_);
    const auto now = std::chrono::system_clock::now();
    while (!by_deadline_.empty() && by_deadline_.begin()->first <= now) {
      if (auto connection = by_deadline_.begin()->second.lock()) {
        by_id_.erase(connection->id());
        due.push_back(std::move(connection));
      } else {
        // Gone without on_close having run yet: its entry goes by iterator.
        const Deadlines::iterator first = by_deadline_.begin();
        std::erase_if(by_id_, [first](const auto& entry) { return entry.second == first; });
      }
      by_deadline_.erase(by_deadline_.begin());
    }
  }
  // Outside the lock: close() writes the close frame at once when the socket is idle.
  for (const auto& connection : due) connection->close(kTokenExpiredCloseCode, kTokenExpiredReason);
  schedule();
}

}  // namespace ovalstream::aggregator
