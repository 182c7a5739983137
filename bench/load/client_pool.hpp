#pragma once
// N load clients on one io_context run by one thread (event loop, not a thread per socket).
// Thread safety: the member functions are called from one driving thread; they post to the io thread.

#include <utility>  // before Asio (Boost 1.74 with C++20)

#include <boost/asio.hpp>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "load_client.hpp"
#include "run_shared.hpp"

namespace ovalstream::bench {

class ClientPool {
 public:
  explicit ClientPool(RunShared& shared);
  // Closes every client and stops the io thread.
  ~ClientPool();
  ClientPool(const ClientPool&) = delete;
  ClientPool& operator=(const ClientPool&) = delete;

  // Starts `count` more clients at once (one posted handler issues every connect).
  void start(std::size_t count);
  void close_all();
  // Runs `task` on the io thread and waits for it (up to 30 s; false when it did not run in time).
  bool run_on_io(const std::function<void(std::vector<std::shared_ptr<LoadClient>>&)>& task);

 private:
  RunShared& shared_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::vector<std::shared_ptr<LoadClient>> clients_;  // io thread only
  std::thread thread_;
};

}  // namespace ovalstream::bench
