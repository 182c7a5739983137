// DurableConsumer against a real nats-server: explicit acknowledgements survive re-binding and a kill -9 of
// the server; unacknowledged messages come again, acknowledged ones do not.
#include "ovalstream/nats/durable_consumer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "nats/nats_test_support.hpp"

namespace ovalstream::testing {
namespace {

nats::DurableConsumerOptions durable_options(std::string durable, std::string filter = "competition.>") {
  nats::DurableConsumerOptions options;
  options.stream = kTestStream;
  options.durable = std::move(durable);
  options.filter_subject = std::move(filter);
  // Short so the redelivery tests wait ~1 s, not the 30 s default.
  options.ack_wait = 1000ms;
  return options;
}

class DurableConsumerTest : public NatsFixture {
 protected:
  std::unique_ptr<nats::DurableConsumer> open(const nats::DurableConsumerOptions& options) {
    auto opened = nats::DurableConsumer::open(*connection_, options);
    if (!opened.ok()) {
      ADD_FAILURE() << opened.error().message;
      return nullptr;
    }
    return std::move(opened).value();
  }

  // Fetches until `count` messages arrived or `timeout` passed (each fetch bounded by 500 ms).
  std::vector<nats::PulledMessage> fetch_n(nats::DurableConsumer& consumer, std::size_t count,
                                           std::chrono::milliseconds timeout = 10'000ms) {
    std::vector<nats::PulledMessage> all;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (all.size() < count && std::chrono::steady_clock::now() < deadline) {
      auto fetched = consumer.fetch(static_cast<int>(count - all.size()), 500ms);
      if (!fetched.ok()) {
        std::this_thread::sleep_for(100ms);
        continue;
      }
      for (auto& message : fetched.value()) all.push_back(std::move(message));
    }
    return all;
  }

  static std::vector<std::uint64_t> sequences(const std::vector<nats::PulledMessage>& messages) {
    std::vector<std::uint64_t> result;
    for (const auto& message : messages) result.push_back(message.stream_sequence);
    return result;
  }
};

TEST_F(DurableConsumerTest, DeliversAllWithSubjectBytesSequenceAndPending) {
  create_test_stream();
  publish("competition.c1", R"({"a":1})");
  publish("competition.c1.distances.d1", R"({"b":2})");
  publish("competition.c2", R"({"c":3})");
  auto consumer = open(durable_options("rec1", "competition.c1.>"));
  ASSERT_NE(consumer, nullptr);
  auto messages = fetch_n(*consumer, 1);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].subject, "competition.c1.distances.d1");
  EXPECT_EQ(*messages[0].data, R"({"b":2})");
  EXPECT_EQ(messages[0].stream_sequence, 2u);
  EXPECT_EQ(messages[0].pending, 0u);
  EXPECT_EQ(messages[0].delivery_count, 1u);
  EXPECT_GT(messages[0].timestamp_ns, 0);
  // Nothing more for this filter: an empty result, not an error.
  auto more = consumer->fetch(10, 300ms);
  ASSERT_TRUE(more.ok()) << more.error().message;
  EXPECT_TRUE(more->empty());
}

TEST_F(DurableConsumerTest, UnackedMessagesComeAgainAfterRebindingAckedOnesDoNot) {
  create_test_stream();
  for (int i = 1; i <= 6; ++i) publish("competition.c1", "{\"i\":" + std::to_string(i) + "}");
  {
    auto consumer = open(durable_options("rec2"));
    ASSERT_NE(consumer, nullptr);
    auto messages = fetch_n(*consumer, 6);
    ASSERT_EQ(sequences(messages), (std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6}));
    for (std::size_t i = 0; i < 3; ++i) ASSERT_TRUE(consumer->ack(messages[i]).ok());
    ASSERT_EQ(natsConnection_FlushTimeout(connection_->native(), 2000), NATS_OK);
  }  // destroyed with 4, 5, 6 unacknowledged; the server's consumer stays
  auto consumer = open(durable_options("rec2"));
  ASSERT_NE(consumer, nullptr);
  // After ack_wait (1 s) the unacknowledged ones are delivered again, the acknowledged ones never.
  auto again = fetch_n(*consumer, 3);
  ASSERT_EQ(sequences(again), (std::vector<std::uint64_t>{4, 5, 6}));
  for (auto& message : again) {
    EXPECT_GE(message.delivery_count, 2u);
    ASSERT_TRUE(consumer->ack(message).ok());
  }
  ASSERT_EQ(natsConnection_FlushTimeout(connection_->native(), 2000), NATS_OK);
  auto state = consumer->state();
  ASSERT_TRUE(state.ok()) << state.error().message;
  EXPECT_EQ(state->ack_floor_stream_sequence, 6u);
  EXPECT_EQ(state->ack_pending, 0);
  // Nothing comes again (waiting beyond ack_wait).
  auto none = consumer->fetch(10, 1500ms);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(DurableConsumerTest, SurvivesKill9OfTheServer) {
  create_test_stream();
  for (int i = 1; i <= 4; ++i) publish("competition.c1", "{\"i\":" + std::to_string(i) + "}");
  {
    auto consumer = open(durable_options("rec3"));
    ASSERT_NE(consumer, nullptr);
    auto messages = fetch_n(*consumer, 2);
    ASSERT_EQ(sequences(messages), (std::vector<std::uint64_t>{1, 2}));
    for (auto& message : messages) ASSERT_TRUE(consumer->ack(message).ok());
    ASSERT_EQ(natsConnection_FlushTimeout(connection_->native(), 2000), NATS_OK);
    // Let the server persist the acknowledgements' state before it dies (file store flushes asynchronously).
    std::this_thread::sleep_for(500ms);
  }
  server_->kill9();
  server_->restart();
  ASSERT_TRUE(eventually([&] { return connection_->connected(); }, 15'000ms));
  std::unique_ptr<nats::DurableConsumer> consumer;
  ASSERT_TRUE(eventually(
      [&] {
        auto opened = nats::DurableConsumer::open(*connection_, durable_options("rec3"));
        if (!opened.ok()) return false;
        consumer = std::move(opened).value();
        return true;
      },
      15'000ms));
  auto rest = fetch_n(*consumer, 2);
  ASSERT_EQ(sequences(rest), (std::vector<std::uint64_t>{3, 4}));
}

TEST_F(DurableConsumerTest, ExistingDurableWithAnotherFilterIsAnError) {
  create_test_stream();
  ASSERT_NE(open(durable_options("rec4", "competition.a.>")), nullptr);
  auto other = nats::DurableConsumer::open(*connection_, durable_options("rec4", "competition.b.>"));
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.error().message.find("exists with filter"), std::string::npos) << other.error().message;
}

TEST_F(DurableConsumerTest, RepositionStartsAtTheGivenSequenceAndForgetsPendingOnes) {
  create_test_stream();
  for (int i = 1; i <= 5; ++i) publish("competition.c1", "{\"i\":" + std::to_string(i) + "}");
  auto consumer = open(durable_options("rec5"));
  ASSERT_NE(consumer, nullptr);
  ASSERT_EQ(fetch_n(*consumer, 5).size(), 5u);  // none acknowledged
  ASSERT_TRUE(consumer->reposition(3).ok());
  auto from_three = fetch_n(*consumer, 3);
  ASSERT_EQ(sequences(from_three), (std::vector<std::uint64_t>{3, 4, 5}));
  EXPECT_EQ(from_three[0].delivery_count, 1u);
}

TEST_F(DurableConsumerTest, MissingStreamIsAnError) {
  auto opened = nats::DurableConsumer::open(*connection_, durable_options("rec6"));
  EXPECT_FALSE(opened.ok());
}

}  // namespace
}  // namespace ovalstream::testing
