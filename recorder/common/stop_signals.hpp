#pragma once
// SIGINT and SIGTERM, the same way for every command: each signal calls `on_signal(number)` on the thread
// running `io`, and the next one is waited for, until cancel() or destruction. Asio's signal_set: the process
// handler only writes to a pipe, so any thread may take the signal (nats.c's threads too) and nothing needs
// blocking before threads start. A command whose run() blocks (record) uses StopSignalThread.
// Thread safety: `on_signal` runs on a thread running `io`; cancel() may be called from any of those (or when
// `io` is not running); destroy when `io` is not running or from its thread.

#include <utility>  // before Asio: Boost 1.74 with C++20 needs it

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <thread>

namespace ovalstream::recorder {

class StopSignals {
 public:
  using Handler = std::function<void(int signal_number)>;

  StopSignals(boost::asio::io_context& io, Handler on_signal);
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // No further signal reaches `on_signal`; the io_context no longer waits for one (the signals stay caught
  // until destruction). Idempotent; may be called from `on_signal`.
  void cancel();

 private:
  struct State;
  static void wait(const std::shared_ptr<State>& state);
  std::shared_ptr<State> state_;
};

// StopSignals on a thread and io_context of its own, for code that blocks the caller's thread: `on_signal`
// runs on that thread (it should only ask the blocking code to stop). The destructor stops and joins it.
class StopSignalThread {
 public:
  explicit StopSignalThread(StopSignals::Handler on_signal);
  ~StopSignalThread();
  StopSignalThread(const StopSignalThread&) = delete;
  StopSignalThread& operator=(const StopSignalThread&) = delete;

 private:
  boost::asio::io_context io_;
  StopSignals signals_;
  std::thread thread_;
};

}  // namespace ovalstream::recorder
