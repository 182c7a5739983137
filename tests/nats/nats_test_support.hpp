#pragma once
// Shared pieces of the NATS adapter tests: a fixture with a real server and a connection, a thread-safe
// collector of delivered messages, and bounded waits.

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ovalstream/nats/connection.hpp"
#include "ovalstream/nats/jetstream.hpp"
#include "ovalstream/nats/ordered_consumer.hpp"
#include "support/nats_server.hpp"

namespace ovalstream::testing {

using namespace std::chrono_literals;

// Polls `condition` until it holds or `timeout` passes; returns its last value.
inline bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 5000ms) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return condition();
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// Collects what an OrderedConsumer delivers, from its nats.c thread.
class MessageCollector {
 public:
  nats::OrderedConsumer::MessageHandler handler() {
    return [this](nats::Message message) {
      std::lock_guard lock(mutex_);
      messages_.push_back(std::move(message));
      changed_.notify_all();
    };
  }
  nats::OrderedConsumer::StatusHandler status_handler() {
    return [this](const nats::Error& status) {
      std::lock_guard lock(mutex_);
      statuses_.push_back(status);
    };
  }
  // True when at least `count` messages arrived within `timeout`.
  bool wait_for(std::size_t count, std::chrono::milliseconds timeout = 5000ms) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return messages_.size() >= count; });
  }
  std::vector<nats::Message> messages() const {
    std::lock_guard lock(mutex_);
    return messages_;
  }
  std::vector<std::uint64_t> sequences() const {
    std::lock_guard lock(mutex_);
    std::vector<std::uint64_t> sequences;
    for (const auto& message : messages_) sequences.push_back(message.stream_sequence);
    return sequences;
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return messages_.size();
  }
  std::vector<nats::Error> statuses() const {
    std::lock_guard lock(mutex_);
    return statuses_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<nats::Message> messages_;
  std::vector<nats::Error> statuses_;
};

inline constexpr const char* kTestStream = "competitions";

// A fresh server (random port, temporary store) and a connected client per test.
class NatsFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!NatsServerProcess::available()) GTEST_SKIP() << NatsServerProcess::unavailable_message();
    server_ = std::make_unique<NatsServerProcess>();
    connection_ = connect();
    ASSERT_TRUE(eventually([&] { return connection_->connected(); }));
  }
  void TearDown() override {
    connection_.reset();
    server_.reset();
  }

  std::unique_ptr<nats::Connection> connect(nats::ConnectionOptions options = {}) {
    options.url = server_->url();
    options.request_timeout = 2000ms;
    auto connected = nats::Connection::connect(options);
    if (!connected.ok()) {
      ADD_FAILURE() << connected.error().message;
      return nullptr;
    }
    return std::move(connected).value();
  }

  void create_test_stream() {
    auto created = nats::create_stream(*connection_, kTestStream, {"competition.>"});
    ASSERT_TRUE(created.ok()) << created.error().message;
  }

  std::uint64_t publish(const std::string& subject, const std::string& bytes) {
    auto sequence = nats::publish(*connection_, subject, bytes);
    EXPECT_TRUE(sequence.ok()) << sequence.error().message;
    return sequence.ok() ? sequence.value() : 0;
  }

  std::unique_ptr<nats::OrderedConsumer> consume(const std::string& filter, nats::StartPosition start,
                                                 MessageCollector& collector,
                                                 std::chrono::milliseconds heartbeat = 5000ms) {
    nats::OrderedConsumerOptions options;
    options.stream = kTestStream;
    options.filter_subject = filter;
    options.start = start;
    options.heartbeat = heartbeat;
    auto consumer =
        nats::OrderedConsumer::start(*connection_, options, collector.handler(), collector.status_handler());
    if (!consumer.ok()) {
      ADD_FAILURE() << consumer.error().message;
      return nullptr;
    }
    return std::move(consumer).value();
  }

  std::unique_ptr<NatsServerProcess> server_;
  std::unique_ptr<nats::Connection> connection_;
};

}  // namespace ovalstream::testing
