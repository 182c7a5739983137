// close_all: every open websocket is closed with the given code, the closes spread evenly over the given
// duration, and `done` runs once all are closed.

#include <gtest/gtest.h>

#include <poll.h>

#include <algorithm>

#include "hub/support/hub_harness.hpp"
#include "hub/support/raw_client.hpp"

namespace ovalstream::hub::testing {
namespace {

TEST(Drain, CloseAllSpreadsClosesEvenlyThenCallsDone) {
  ConnectionLog log;
  TestServer server(test_options(), websocket_router(log));
  constexpr std::size_t kClients = 20;
  std::vector<RawClient> clients;
  for (std::size_t i = 0; i < kClients; ++i) {
    clients.emplace_back(server.port());
    ASSERT_TRUE(clients.back().handshake());
  }
  ASSERT_TRUE(wait_until([&] { return server.server().open_connections() == kClients; }, 5s));

  std::atomic<bool> done{false};
  const auto started = std::chrono::steady_clock::now();
  server.server().close_all(close_code::kGoingAway, "server shutdown", 1000ms, [&] { done = true; });

  // Every client reads until its close frame, notes the time, and hangs up as a browser would.
  std::vector<std::chrono::milliseconds> close_times;
  std::vector<int> codes;
  std::vector<bool> finished(kClients, false);
  const auto deadline = started + 10s;
  while (close_times.size() < kClients && std::chrono::steady_clock::now() < deadline) {
    std::vector<pollfd> fds;
    for (std::size_t i = 0; i < kClients; ++i) fds.push_back({finished[i] ? -1 : clients[i].fd(), POLLIN, 0});
    if (::poll(fds.data(), fds.size(), 100) <= 0) continue;
    for (std::size_t i = 0; i < kClients; ++i) {
      if (finished[i] || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      auto frame = clients[i].read_frame(1s);
      if (!frame) {
        finished[i] = true;  // EOF without a close frame: counted as missing below
        continue;
      }
      if (frame->opcode() != 0x8) continue;
      close_times.push_back(
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started));
      codes.push_back(frame->close_code());
      EXPECT_EQ(frame->close_reason(), "server shutdown");
      finished[i] = true;
      clients[i].close();
    }
  }
  ASSERT_EQ(close_times.size(), kClients);
  for (int code : codes) EXPECT_EQ(code, close_code::kGoingAway);
  std::sort(close_times.begin(), close_times.end());
  const auto first = close_times.front();
  const auto last = close_times.back();
  std::printf("[hub] close_all over 1000 ms: first close at %lld ms, last at %lld ms\n",
              static_cast<long long>(first.count()), static_cast<long long>(last.count()));
  // Scheduled at i/20 of a second: 0 .. 950 ms. Tolerant bounds for a loaded machine.
  EXPECT_GE((last - first).count(), 600);
  EXPECT_LT(last.count(), 3000);
  const auto closed_in_first_quarter =
      std::count_if(close_times.begin(), close_times.end(), [&](auto time) { return time < first + 250ms; });
  EXPECT_LE(closed_in_first_quarter, static_cast<long>(kClients / 2)) << "closes not spread";

  EXPECT_TRUE(wait_until([&] { return done.load(); }, 5s));
  EXPECT_EQ(server.server().open_connections(), 0u);
  EXPECT_EQ(log.closed_count(), kClients);
  EXPECT_EQ(server.observer().closed_on("test"), kClients);
}

TEST(Drain, CloseAllWithoutConnectionsCallsDoneAtOnce) {
  ConnectionLog log;
  TestServer server(test_options(), websocket_router(log));
  bool done = false;
  server.server().close_all(close_code::kGoingAway, "server shutdown", 1000ms, [&] { done = true; });
  EXPECT_TRUE(done);
}

TEST(Drain, CloseAllFinishesEvenWhenAClientNeverAnswers) {
  ConnectionLog log;
  TestServer server(test_options(), websocket_router(log));
  RawClient mute(server.port());
  ASSERT_TRUE(mute.handshake());
  ASSERT_TRUE(wait_until([&] { return server.server().open_connections() == 1; }, 5s));
  std::atomic<bool> done{false};
  server.server().close_all(close_code::kGoingAway, "server shutdown", 0ms, [&] { done = true; });
  // The client reads the close frame but never closes its side: the close deadline ends it.
  auto close = mute.read_until_close(5s);
  ASSERT_TRUE(close);
  EXPECT_EQ(close->close_code(), close_code::kGoingAway);
  EXPECT_TRUE(wait_until([&] { return done.load(); }, 8s));
  EXPECT_EQ(server.server().open_connections(), 0u);
}

}  // namespace
}  // namespace ovalstream::hub::testing
