#pragma once
// Server::close_all: closes a set of connections evenly over a duration (so that thousands of clients do
// not reconnect in the same instant), then waits until every one is torn down and calls `done`.

#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tracked_connection.hpp"

namespace ovalstream::hub {

class CloseAllOperation final : public std::enable_shared_from_this<CloseAllOperation> {
 public:
  CloseAllOperation(boost::asio::io_context& io, std::vector<std::shared_ptr<TrackedConnection>> connections,
                    std::uint16_t code, std::string reason, std::chrono::milliseconds spread,
                    std::function<void()> done);

  void start();  // any thread

 private:
  void close_due();
  void confirm_closed();
  void finish();
  std::chrono::steady_clock::time_point scheduled_close(std::size_t index) const;

  // How often the teardown of the closed connections is checked once all closes are sent.
  static constexpr std::chrono::milliseconds kConfirmInterval{20};

  boost::asio::steady_timer timer_;  // on its own strand
  std::vector<std::shared_ptr<TrackedConnection>> connections_;
  const std::uint16_t code_;
  const std::string reason_;
  const std::chrono::milliseconds spread_;
  std::function<void()> done_;
  std::chrono::steady_clock::time_point started_;
  std::size_t next_to_close_ = 0;
  std::size_t next_to_confirm_ = 0;
};

}  // namespace ovalstream::hub
