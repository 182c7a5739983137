// Stream helpers against a real nats-server: lookup, idempotent creation, publish, consumer count.

#include "nats/nats_test_support.hpp"

namespace ovalstream::testing {
namespace {

using NatsJetStreamTest = NatsFixture;

TEST_F(NatsJetStreamTest, MissingStreamIsNotAnError) {
  auto info = nats::stream_info(*connection_, kTestStream);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_FALSE(info->exists);
  EXPECT_EQ(info->last_sequence, 0u);
}

TEST_F(NatsJetStreamTest, LookupFailsWhenTheServerIsDown) {
  create_test_stream();
  server_->kill9();
  ASSERT_TRUE(eventually([&] { return !connection_->connected(); }));
  auto info = nats::stream_info(*connection_, kTestStream);
  ASSERT_FALSE(info.ok()) << "an unreachable server must not look like a missing stream";
  EXPECT_NE(info.error().code, NATS_NOT_FOUND);
}

TEST_F(NatsJetStreamTest, CreateStreamIsIdempotent) {
  auto created = nats::create_stream(*connection_, kTestStream, {"competition.>"});
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_TRUE(created->exists);
  EXPECT_EQ(created->name, kTestStream);
  EXPECT_EQ(created->subjects, (std::vector<std::string>{"competition.>"}));
  EXPECT_GT(created->created_ns, 0);

  publish("competition.c1", "{}");
  auto again = nats::create_stream(*connection_, kTestStream, {"competition.>"});
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->created_ns, created->created_ns);
  EXPECT_EQ(again->messages, 1u) << "re-creating must not purge";

  auto found = nats::stream_info(*connection_, kTestStream);
  ASSERT_TRUE(found.ok()) << found.error().message;
  EXPECT_TRUE(found->exists);
  EXPECT_EQ(found->last_sequence, 1u);
}

TEST_F(NatsJetStreamTest, CreateStreamRefusesOtherSubjects) {
  create_test_stream();
  auto conflicting = nats::create_stream(*connection_, kTestStream, {"other.>"});
  ASSERT_FALSE(conflicting.ok());
  EXPECT_EQ(conflicting.error().jetstream_error, JSStreamNameExistErr);
  auto unchanged = nats::stream_info(*connection_, kTestStream);
  ASSERT_TRUE(unchanged.ok());
  EXPECT_EQ(unchanged->subjects, (std::vector<std::string>{"competition.>"}));
}

TEST_F(NatsJetStreamTest, PublishReturnsStreamSequences) {
  create_test_stream();
  EXPECT_EQ(publish("competition.c1", "a"), 1u);
  EXPECT_EQ(publish("competition.c1.distances.d1", "b"), 2u);
  EXPECT_EQ(publish("competition.c2", "c"), 3u);
  auto info = nats::stream_info(*connection_, kTestStream);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->first_sequence, 1u);
  EXPECT_EQ(info->last_sequence, 3u);
  EXPECT_EQ(info->messages, 3u);

  auto outside = nats::publish(*connection_, "elsewhere", "x");
  EXPECT_FALSE(outside.ok()) << "no stream captures the subject, so there is no acknowledgement";
}

TEST_F(NatsJetStreamTest, CountsConsumersOfAStream) {
  create_test_stream();
  auto none = nats::consumer_count(*connection_, kTestStream);
  ASSERT_TRUE(none.ok()) << none.error().message;
  EXPECT_EQ(none.value(), 0);

  MessageCollector first_collector, second_collector;
  auto first = consume("competition.c1.>", nats::StartPosition::first(), first_collector);
  auto second = consume("competition.c1", nats::StartPosition::first(), second_collector);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(nats::consumer_count(*connection_, kTestStream).value(), 2);

  first.reset();
  EXPECT_TRUE(eventually([&] { return nats::consumer_count(*connection_, kTestStream).value() == 1; }))
      << "destroying a consumer deletes it on the server";
  second.reset();
  EXPECT_TRUE(eventually([&] { return nats::consumer_count(*connection_, kTestStream).value() == 0; }));

  auto missing = nats::consumer_count(*connection_, "absent");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, NATS_NOT_FOUND);
}

}  // namespace
}  // namespace ovalstream::testing
