#pragma once
// A hub server with the test router, and clients that write websocket bytes by hand (RawClient): the
// fixture of the tests of what clients may send (client_frames_test.cpp, client_data_frames_test.cpp).

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>

#include "hub/support/hub_harness.hpp"
#include "hub/support/raw_client.hpp"

namespace ovalstream::hub::testing {

class RawClientTest : public ::testing::Test {
 protected:
  explicit RawClientTest(ServerOptions options = test_options())
      : server_(std::move(options), websocket_router(log_)) {}

  // A client past its upgrade.
  RawClient open_client() {
    RawClient client(server_.port());
    EXPECT_TRUE(client.handshake());
    return client;
  }

  // Sends `bytes` on a fresh connection and returns the server's close frame.
  std::optional<ServerFrame> close_after(const std::string& bytes) {
    RawClient client = open_client();
    EXPECT_TRUE(client.write_all(bytes));
    auto close = client.read_until_close(5s);
    EXPECT_TRUE(client.wait_for_eof(5s)) << "the server should end the connection after its close frame";
    return close;
  }

  ConnectionLog log_;
  TestServer server_;
};

}  // namespace ovalstream::hub::testing
