// StopSignals (recorder/common/stop_signals.hpp): SIGINT and SIGTERM as every recorder command takes them.
// The signals are raised in this process; a handler is in place before each raise.
#include <gtest/gtest.h>

#include <utility>  // before Asio: Boost 1.74 with C++20 needs it

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <csignal>
#include <future>
#include <optional>
#include <thread>
#include <vector>

#include "common/stop_signals.hpp"

namespace ovalstream::recorder {
namespace {

using namespace std::chrono_literals;

// Every signal reaches the handler, on the io_context's thread, until cancel(); then the io_context has
// nothing left to wait for.
TEST(StopSignals, EachSignalReachesTheHandlerUntilCancelled) {
  boost::asio::io_context io;
  std::vector<int> seen;
  std::optional<StopSignals> signals;
  signals.emplace(io, [&](int signal_number) {
    seen.push_back(signal_number);
    if (seen.size() == 1) std::raise(SIGINT);
    if (seen.size() == 2) signals->cancel();
  });
  std::raise(SIGTERM);
  io.run_for(10s);
  EXPECT_TRUE(io.stopped()) << "still waiting for a signal after cancel()";
  EXPECT_EQ(seen, (std::vector<int>{SIGTERM, SIGINT}));
}

TEST(StopSignals, CancelBeforeAnySignalLeavesNothingToWaitFor) {
  boost::asio::io_context io;
  int calls = 0;
  StopSignals signals(io, [&](int) { ++calls; });
  signals.cancel();
  signals.cancel();  // idempotent
  io.run_for(10s);
  EXPECT_TRUE(io.stopped());
  EXPECT_EQ(calls, 0);
}

// For a command whose run() blocks: the handler runs on the helper's own thread.
TEST(StopSignalThread, TakesTheSignalOnItsOwnThread) {
  std::promise<std::pair<int, std::thread::id>> taken;
  auto future = taken.get_future();
  {
    StopSignalThread signals([&](int signal_number) {
      taken.set_value({signal_number, std::this_thread::get_id()});
    });
    std::raise(SIGTERM);
    ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
  }
  const auto [signal_number, thread] = future.get();
  EXPECT_EQ(signal_number, SIGTERM);
  EXPECT_NE(thread, std::this_thread::get_id());
}

TEST(StopSignalThread, DestroyedWithoutASignalJoinsPromptly) {
  const auto started = std::chrono::steady_clock::now();
  {
    StopSignalThread signals([](int) {});
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

}  // namespace
}  // namespace ovalstream::recorder
