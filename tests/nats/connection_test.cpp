// Connection against a real nats-server: state callbacks on kill -9 and restart, connecting before the
// server is up, closing while it is down.

#include <atomic>
#include <mutex>
#include <vector>

#include "nats/nats_test_support.hpp"
#include "support/skips.hpp"

namespace ovalstream::testing {
namespace {

// Records on_connection_change calls.
class ConnectionEvents {
 public:
  std::function<void(bool)> handler() {
    return [this](bool connected) {
      std::lock_guard lock(mutex_);
      events_.push_back(connected);
    };
  }
  std::vector<bool> events() const {
    std::lock_guard lock(mutex_);
    return events_;
  }
  bool last_is(bool connected) const {
    std::lock_guard lock(mutex_);
    return !events_.empty() && events_.back() == connected;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<bool> events_;
};

using NatsConnectionTest = NatsFixture;

TEST_F(NatsConnectionTest, ReportsDisconnectOnKillAndReconnectOnRestart) {
  ConnectionEvents events;
  nats::ConnectionOptions options;
  options.name = "connection-test";
  options.on_connection_change = events.handler();
  auto connection = connect(options);
  ASSERT_NE(connection, nullptr);
  ASSERT_TRUE(connection->connected());
  EXPECT_TRUE(events.events().empty()) << "an immediate connect is not reported as a change";

  server_->kill9();
  ASSERT_TRUE(eventually([&] { return events.last_is(false); })) << "no disconnect reported";
  EXPECT_FALSE(connection->connected());

  server_->restart();
  ASSERT_TRUE(eventually([&] { return events.last_is(true); })) << "no reconnect reported";
  EXPECT_TRUE(connection->connected());
  EXPECT_EQ(events.events(), (std::vector<bool>{false, true}));
}

TEST_F(NatsConnectionTest, ConnectsInTheBackgroundWhenTheServerStartsLater) {
  server_->stop();
  ConnectionEvents events;
  nats::ConnectionOptions options;
  options.on_connection_change = events.handler();
  options.reconnect_wait = 100ms;
  auto connection = connect(options);
  ASSERT_NE(connection, nullptr) << "connect() must not fail while the server is down";
  EXPECT_FALSE(connection->connected());

  server_->restart();
  ASSERT_TRUE(eventually([&] { return events.last_is(true); })) << "the delayed connect was not reported";
  EXPECT_TRUE(connection->connected());
  // JetStream works on the late connection.
  auto info = nats::stream_info(*connection, "absent");
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_FALSE(info->exists);
}

TEST_F(NatsConnectionTest, ClosesPromptlyWhileTheServerIsDown) {
  ConnectionEvents events;
  nats::ConnectionOptions options;
  options.on_connection_change = events.handler();
  auto connection = connect(options);
  ASSERT_NE(connection, nullptr);
  server_->kill9();
  ASSERT_TRUE(eventually([&] { return events.last_is(false); }));

  const auto started = std::chrono::steady_clock::now();
  connection.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  const auto events_at_close = events.events();
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(events.events(), events_at_close) << "a callback ran after the destructor returned";
}

// --nats-url takes a comma-separated list (a cluster's servers): the connection uses every one of them, so
// it connects while the first is down. natsOptions_SetURL alone read the list as one server and never
// connected.
TEST_F(NatsConnectionTest, ConnectsToAnyServerOfACommaSeparatedList) {
  const std::string down = "nats://127.0.0.1:" + std::to_string(reserve_free_loopback_port());
  for (const std::string& list : {down + "," + server_->url(), server_->url() + ", " + down}) {
    nats::ConnectionOptions options;
    options.url = list;
    options.reconnect_wait = 100ms;
    auto connection = nats::Connection::connect(options);
    ASSERT_TRUE(connection.ok()) << connection.error().message;
    EXPECT_TRUE(eventually([&] { return connection.value()->connected(); }))
        << "never connected with " << list;
    auto info = nats::stream_info(*connection.value(), "absent");
    EXPECT_TRUE(info.ok()) << list << ": " << info.error().message;
  }
}

TEST_F(NatsConnectionTest, FailsForAnUnreadableCredentialsFile) {
  nats::ConnectionOptions options;
  options.url = server_->url();
  options.credentials_file = server_->store_dir() + "/missing.creds";
  auto connection = nats::Connection::connect(options);
  ASSERT_FALSE(connection.ok());
  EXPECT_NE(connection.error().code, NATS_OK);
  EXPECT_FALSE(connection.error().message.empty());
}

TEST(NatsServerProcessTest, RestartKeepsPortAndStore) {
  SKIP_WITHOUT_NATS();
  NatsServerProcess server(NatsServerOptions{.websocket = true});
  const std::string url = server.url();
  const std::string store = server.store_dir();
  EXPECT_NE(server.websocket_port(), 0);
  EXPECT_EQ(server.websocket_url().rfind("ws://127.0.0.1:", 0), 0u);
  server.kill9();
  EXPECT_FALSE(server.running());
  server.restart();
  EXPECT_TRUE(server.running());
  EXPECT_EQ(server.url(), url);
  EXPECT_EQ(server.store_dir(), store);
  server.stop();
  EXPECT_FALSE(server.running());
}

}  // namespace
}  // namespace ovalstream::testing
