// OrderedConsumer against a real nats-server: start positions, exact bytes, filter subjects, recovery after
// kill -9 and restart, the pending limit, and the end of callbacks at destruction.

#include <atomic>
#include <cstdio>
#include <numeric>

#include "nats/nats_test_support.hpp"

namespace ovalstream::testing {
namespace {

using NatsOrderedConsumerTest = NatsFixture;

std::vector<std::uint64_t> range(std::uint64_t first, std::uint64_t last) {
  std::vector<std::uint64_t> values(last - first + 1);
  std::iota(values.begin(), values.end(), first);
  return values;
}

// Payloads that a text-only path would mangle: NUL, invalid UTF-8, CR/LF.
std::string payload(int index) {
  std::string bytes = "{\"n\":" + std::to_string(index) + "}";
  bytes.push_back('\0');
  bytes.push_back(static_cast<char>(0xff));
  bytes += "\r\n";
  return bytes;
}

// Publishes, retrying while the restarted server's JetStream comes back (bounded).
std::uint64_t publish_with_retry(const nats::Connection& connection, const std::string& subject,
                                 const std::string& bytes) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  for (;;) {
    auto sequence = nats::publish(connection, subject, bytes);
    if (sequence.ok()) return sequence.value();
    if (std::chrono::steady_clock::now() >= deadline) {
      ADD_FAILURE() << "publish kept failing: " << sequence.error().message;
      return 0;
    }
    std::this_thread::sleep_for(50ms);
  }
}

TEST_F(NatsOrderedConsumerTest, DeliversFromASequenceInOrderWithExactBytes) {
  create_test_stream();
  for (int i = 1; i <= 10; ++i)
    ASSERT_EQ(publish("competition.c1.distances.d1", payload(i)), std::uint64_t(i));

  MessageCollector collector;
  auto consumer = consume("competition.c1.>", nats::StartPosition::at_sequence(4), collector);
  ASSERT_NE(consumer, nullptr);
  ASSERT_TRUE(collector.wait_for(7));
  std::this_thread::sleep_for(100ms);  // nothing beyond the 7 may follow

  const auto messages = collector.messages();
  ASSERT_EQ(collector.sequences(), range(4, 10));
  std::int64_t previous_timestamp = 0;
  for (const auto& message : messages) {
    const int index = static_cast<int>(message.stream_sequence);
    EXPECT_EQ(message.subject, "competition.c1.distances.d1");
    ASSERT_NE(message.data, nullptr);
    EXPECT_EQ(*message.data, payload(index));
    EXPECT_GE(message.timestamp_ns, previous_timestamp);
    EXPECT_GT(message.timestamp_ns, 1'500'000'000'000'000'000);  // after 2017: a real epoch time in ns
    previous_timestamp = message.timestamp_ns;
    EXPECT_EQ(message.pending, 10u - message.stream_sequence);
  }
  EXPECT_EQ(consumer->last_delivered_sequence(), 10u);

  // Live messages follow the catch-up.
  publish("competition.c1.distances.d1", payload(11));
  ASSERT_TRUE(collector.wait_for(8));
  EXPECT_EQ(collector.sequences().back(), 11u);
  EXPECT_EQ(consumer->stats().delivered, 8u);
  EXPECT_EQ(consumer->stats().duplicates_skipped, 0u);
}

// Sleeps until the wall clock is `offset` past a whole second.
void sleep_until_past_a_second(std::chrono::milliseconds offset) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto into_second = now - std::chrono::duration_cast<std::chrono::seconds>(now);
  auto wait = offset - into_second;
  if (wait < 0ms) wait += 1s;
  std::this_thread::sleep_for(wait);
}

// Messages 1-3 are stored about 5 ms and 4-6 about 60 ms after the same whole second, and the consumer
// starts at the stored time of message 4. A sub-second part below 100 ms is where nats.c 3.4.1 encodes
// start times wrongly (".060" as ".60"), which would skip 4-6; the adapter works around it.
TEST_F(NatsOrderedConsumerTest, StartsAtATime) {
  create_test_stream();
  sleep_until_past_a_second(5ms);
  for (int i = 1; i <= 3; ++i) publish("competition.c1", payload(i));
  sleep_until_past_a_second(60ms);
  for (int i = 4; i <= 6; ++i) publish("competition.c1", payload(i));

  MessageCollector all;
  auto reader = consume("competition.c1", nats::StartPosition::first(), all);
  ASSERT_TRUE(all.wait_for(6));
  const std::int64_t fourth_stored_at = all.messages()[3].timestamp_ns;
  ASSERT_LT(all.messages()[2].timestamp_ns, fourth_stored_at);
  reader.reset();
  if (fourth_stored_at % 1'000'000'000 >= 100'000'000) {
    std::printf("[ note    ] a slow machine stored message 4 after the first 100 ms of its second\n");
  }

  MessageCollector from_time;
  auto consumer = consume("competition.c1", nats::StartPosition::at_time(fourth_stored_at), from_time);
  ASSERT_NE(consumer, nullptr);
  EXPECT_TRUE(from_time.wait_for(3)) << "start time " << fourth_stored_at;
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(from_time.sequences(), range(4, 6));

  // One nanosecond later excludes message 4.
  MessageCollector after_fourth;
  auto later = consume("competition.c1", nats::StartPosition::at_time(fourth_stored_at + 1), after_fourth);
  ASSERT_NE(later, nullptr);
  EXPECT_TRUE(after_fourth.wait_for(2));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(after_fourth.sequences(), range(5, 6));
}

TEST_F(NatsOrderedConsumerTest, FilterSubjectGetsOnlyItsSubjects) {
  create_test_stream();
  publish("competition.c1", "competition level");                   // 1: not under competition.c1.>
  publish("competition.c1.distances.activations", "distance");      // 2
  publish("competition.c2.distances.activations", "other");         // 3
  publish("competition.c10.distances.activations", "prefix only");  // 4
  publish("competition.c1.distances.d1.heats.1.2", "heat");         // 5
  publish("competition.activations", "activation");                 // 6

  MessageCollector deep, competition_level;
  auto deep_consumer = consume("competition.c1.>", nats::StartPosition::first(), deep);
  auto competition_consumer = consume("competition.c1", nats::StartPosition::first(), competition_level);
  ASSERT_TRUE(deep.wait_for(2));
  ASSERT_TRUE(competition_level.wait_for(1));
  std::this_thread::sleep_for(200ms);

  EXPECT_EQ(deep.sequences(), (std::vector<std::uint64_t>{2, 5}));
  const auto deep_messages = deep.messages();
  EXPECT_EQ(deep_messages[0].subject, "competition.c1.distances.activations");
  EXPECT_EQ(deep_messages[1].subject, "competition.c1.distances.d1.heats.1.2");
  EXPECT_EQ(competition_level.sequences(), (std::vector<std::uint64_t>{1}));
  EXPECT_EQ(*competition_level.messages()[0].data, "competition level");
}

TEST_F(NatsOrderedConsumerTest, FailsToStartOnAMissingStream) {
  MessageCollector collector;
  nats::OrderedConsumerOptions options;
  options.stream = "absent";
  options.filter_subject = "competition.c1.>";
  auto consumer = nats::OrderedConsumer::start(*connection_, options, collector.handler());
  ASSERT_FALSE(consumer.ok());
  EXPECT_FALSE(consumer.error().message.empty());
}

// The server-side consumers of the test stream: "start sequence / delivered stream sequence" each.
std::string describe_consumers(const nats::Connection& connection) {
  jsConsumerInfoList* list = nullptr;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  if (js_Consumers(&list, connection.jetstream(), kTestStream, nullptr, &js_error) != NATS_OK)
    return "(unknown)";
  std::string description;
  for (int i = 0; i < list->Count; ++i) {
    const jsConsumerInfo* info = list->List[i];
    description += "[starts at " + std::to_string(info->Config->OptStartSeq) + ", delivered up to " +
                   std::to_string(info->Delivered.Stream) + "] ";
  }
  jsConsumerInfoList_Destroy(list);
  return description;
}

// The consumer is part-way through a backlog (a slow callback, larger messages than the server pushes at
// once) when the server dies; after the restart on the same store it must continue with the next sequence:
// no gap, no duplicate, and still one consumer on the server.
TEST_F(NatsOrderedConsumerTest, ContinuesWithoutGapOrDuplicateAcrossKill9AndRestart) {
  create_test_stream();
  constexpr int kBefore = 1000;
  constexpr int kAfter = 50;
  const std::string padding(4096, 'x');
  auto big_payload = [&](int index) { return payload(index) + padding; };
  for (int i = 1; i <= kBefore; ++i) publish("competition.c1.distances.d1", big_payload(i));

  MessageCollector collector;
  nats::OrderedConsumerOptions options;
  options.stream = kTestStream;
  options.filter_subject = "competition.c1.>";
  options.heartbeat = 1s;
  auto slow_handler = [inner = collector.handler()](nats::Message message) {
    std::this_thread::sleep_for(1ms);
    inner(std::move(message));
  };
  auto started =
      nats::OrderedConsumer::start(*connection_, options, slow_handler, collector.status_handler());
  ASSERT_TRUE(started.ok()) << started.error().message;
  auto consumer = std::move(started).value();

  ASSERT_TRUE(collector.wait_for(50));
  const std::string before_kill = describe_consumers(*connection_);
  server_->kill9();
  const std::size_t at_kill = collector.size();
  const auto killed_at = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(300ms);
  server_->restart();
  ASSERT_TRUE(eventually([&] { return connection_->connected(); }, 5s));
  for (int i = kBefore + 1; i <= kBefore + kAfter; ++i) {
    ASSERT_EQ(publish_with_retry(*connection_, "competition.c1.distances.d1", big_payload(i)),
              std::uint64_t(i));
  }

  ASSERT_TRUE(collector.wait_for(kBefore + kAfter, 15s))
      << "got " << collector.size() << " of " << kBefore + kAfter << "; consumers "
      << describe_consumers(*connection_);
  const auto recovered_after = std::chrono::steady_clock::now() - killed_at;
  const std::string after_restart = describe_consumers(*connection_);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(collector.sequences(), range(1, kBefore + kAfter));
  const auto messages = collector.messages();
  for (const auto& message : messages) EXPECT_EQ(*message.data, big_payload(int(message.stream_sequence)));
  EXPECT_TRUE(eventually([&] { return nats::consumer_count(*connection_, kTestStream).value() == 1; }, 8s))
      << "consumers after recovery: " << describe_consumers(*connection_);

  const auto stats = consumer->stats();
  EXPECT_TRUE(stats.healthy);
  std::printf(
      "[ kill -9 ] %zu of %d delivered at the kill; all %d delivered %lld ms after it; missed heartbeats "
      "%llu, "
      "adapter re-creations %llu, duplicates skipped %llu, statuses %zu\n"
      "[ kill -9 ] consumers before the kill: %s\n[ kill -9 ] consumers after the restart: %s\n",
      at_kill, kBefore, kBefore + kAfter,
      static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(recovered_after).count()),
      static_cast<unsigned long long>(stats.missed_heartbeats),
      static_cast<unsigned long long>(stats.recreations),
      static_cast<unsigned long long>(stats.duplicates_skipped), collector.statuses().size(),
      before_kill.c_str(), after_restart.c_str());
  for (const auto& status : collector.statuses()) std::printf("[ status  ] %s\n", status.message.c_str());
}

// Caught up and idle when the server dies: the first messages published after the restart arrive.
TEST_F(NatsOrderedConsumerTest, IdleConsumerResumesAfterKill9AndRestart) {
  create_test_stream();
  for (int i = 1; i <= 5; ++i) publish("competition.c1", payload(i));
  MessageCollector collector;
  auto consumer = consume("competition.c1", nats::StartPosition::first(), collector, 1s);
  ASSERT_NE(consumer, nullptr);
  ASSERT_TRUE(collector.wait_for(5));

  server_->kill9();
  server_->restart();
  ASSERT_TRUE(eventually([&] { return connection_->connected(); }, 5s));
  const auto restarted_at = std::chrono::steady_clock::now();
  for (int i = 6; i <= 10; ++i)
    ASSERT_EQ(publish_with_retry(*connection_, "competition.c1", payload(i)), std::uint64_t(i));
  ASSERT_TRUE(collector.wait_for(10, 15s))
      << "got " << collector.size() << "; consumers " << describe_consumers(*connection_);
  std::printf("[ idle    ] resumed %lld ms after the reconnect\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::steady_clock::now() - restarted_at)
                                         .count()));
  EXPECT_EQ(collector.sequences(), range(1, 10));
}

// The same for a consumer started at a time (the aggregator's: now - history). nats.c 3.4.1 cannot re-create
// such a consumer after a reconnect (its request fails and no message follows); the adapter then re-creates
// it from the last delivered sequence + 1.
TEST_F(NatsOrderedConsumerTest, ConsumerStartedAtATimeResumesAfterKill9AndRestart) {
  create_test_stream();
  for (int i = 1; i <= 5; ++i) publish("competition.c1", payload(i));
  MessageCollector collector;
  auto consumer = consume("competition.c1", nats::StartPosition::at_time(1'000'000'000), collector, 1s);
  ASSERT_NE(consumer, nullptr);
  ASSERT_TRUE(collector.wait_for(5));

  server_->kill9();
  server_->restart();
  ASSERT_TRUE(eventually([&] { return connection_->connected(); }, 5s));
  for (int i = 6; i <= 10; ++i)
    ASSERT_EQ(publish_with_retry(*connection_, "competition.c1", payload(i)), std::uint64_t(i));
  ASSERT_TRUE(collector.wait_for(10, 15s))
      << "got " << collector.size() << "; consumers " << describe_consumers(*connection_);
  EXPECT_EQ(collector.sequences(), range(1, 10));
  EXPECT_TRUE(consumer->stats().healthy);
}

// A callback slower than the publisher fills the bounded queue; nats.c drops at the bound and the adapter
// re-reads from the last delivered sequence, so the callback still sees every message once, in order.
TEST_F(NatsOrderedConsumerTest, PendingLimitCostsRereadingNotMessages) {
  create_test_stream();
  constexpr int kMessages = 400;
  for (int i = 1; i <= kMessages; ++i) publish("competition.c1.distances.d1", payload(i));

  // The bound applies from the first message only through the connection: the backlog arrives at once.
  nats::ConnectionOptions connection_options;
  connection_options.pending_messages_limit = 16;
  auto bounded_connection = connect(connection_options);
  ASSERT_NE(bounded_connection, nullptr);

  MessageCollector collector;
  nats::OrderedConsumerOptions options;
  options.stream = kTestStream;
  options.filter_subject = "competition.c1.>";
  options.pending_messages_limit = 16;
  // The first callback stalls while the server pushes the backlog, so the queue of 16 overflows for sure.
  auto slow_handler = [inner = collector.handler(), first = true](nats::Message message) mutable {
    std::this_thread::sleep_for(first ? 300ms : 200us);
    first = false;
    inner(std::move(message));
  };
  auto started =
      nats::OrderedConsumer::start(*bounded_connection, options, slow_handler, collector.status_handler());
  ASSERT_TRUE(started.ok()) << started.error().message;
  auto consumer = std::move(started).value();

  const bool all_arrived = collector.wait_for(kMessages, 15s);
  if (!all_arrived) {
    const auto stuck = consumer->stats();
    ADD_FAILURE() << "got " << collector.size() << "; slow-consumer reports " << stuck.slow_consumer_events
                  << ", re-creations " << stuck.recreations << ", dropped " << stuck.dropped_messages;
    for (const auto& status : collector.statuses()) ADD_FAILURE() << status.message;
    return;
  }
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(collector.sequences(), range(1, kMessages));
  const auto stats = consumer->stats();
  EXPECT_GT(stats.dropped_messages, 0) << "the limit of 16 was never hit; the test proves nothing";
  EXPECT_GT(stats.slow_consumer_events, 0u);
  EXPECT_GT(stats.recreations, 0u);
  EXPECT_TRUE(stats.healthy);
  std::printf("[ pending ] dropped %lld, slow-consumer reports %llu, re-creations %llu\n",
              static_cast<long long>(stats.dropped_messages),
              static_cast<unsigned long long>(stats.slow_consumer_events),
              static_cast<unsigned long long>(stats.recreations));
}

TEST_F(NatsOrderedConsumerTest, NoCallbackRunsAfterDestruction) {
  create_test_stream();
  for (int i = 1; i <= 500; ++i) publish("competition.c1", payload(i));

  auto destroyed = std::make_shared<std::atomic<bool>>(false);
  auto after_destruction = std::make_shared<std::atomic<int>>(0);
  auto delivered = std::make_shared<std::atomic<int>>(0);
  nats::OrderedConsumerOptions options;
  options.stream = kTestStream;
  options.filter_subject = "competition.c1";
  auto started = nats::OrderedConsumer::start(*connection_, options, [=](nats::Message) {
    if (destroyed->load()) after_destruction->fetch_add(1);
    std::this_thread::sleep_for(1ms);  // likely inside a callback when the destructor starts
    delivered->fetch_add(1);
  });
  ASSERT_TRUE(started.ok()) << started.error().message;
  auto consumer = std::move(started).value();
  ASSERT_TRUE(eventually([&] { return delivered->load() >= 20; }));

  const auto destroy_started = std::chrono::steady_clock::now();
  consumer.reset();
  destroyed->store(true);
  EXPECT_LT(std::chrono::steady_clock::now() - destroy_started, 2s);
  const int at_destruction = delivered->load();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(after_destruction->load(), 0);
  EXPECT_EQ(delivered->load(), at_destruction);
  EXPECT_LT(at_destruction, 500);
}

// While the server is down the destructor does not wait for a consumer deletion that cannot be answered,
// and no callback follows it; after the restart the server holds no consumer of it.
TEST_F(NatsOrderedConsumerTest, DestructionWhileTheServerIsDownIsBounded) {
  create_test_stream();
  publish("competition.c1", payload(1));
  MessageCollector collector;
  auto consumer = consume("competition.c1", nats::StartPosition::first(), collector);
  ASSERT_NE(consumer, nullptr);
  ASSERT_TRUE(collector.wait_for(1));

  server_->kill9();
  ASSERT_TRUE(eventually([&] { return !connection_->connected(); }));
  const auto started = std::chrono::steady_clock::now();
  consumer.reset();
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_LT(took, 500ms);
  std::printf("[ down    ] destructor took %lld ms with the server down\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
  server_->restart();
  ASSERT_TRUE(eventually([&] { return connection_->connected(); }, 5s));
  publish_with_retry(*connection_, "competition.c1", payload(2));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(collector.size(), 1u);
  EXPECT_TRUE(eventually([&] { return nats::consumer_count(*connection_, kTestStream).value() == 0; }, 8s))
      << describe_consumers(*connection_);
}

TEST_F(NatsOrderedConsumerTest, CanBeDestroyedFromItsOwnCallback) {
  create_test_stream();
  for (int i = 1; i <= 20; ++i) publish("competition.c1", payload(i));

  std::unique_ptr<nats::OrderedConsumer> consumer;
  std::mutex consumer_mutex;
  std::atomic<int> delivered{0};
  std::atomic<bool> destroyed_inside{false};
  nats::OrderedConsumerOptions options;
  options.stream = kTestStream;
  options.filter_subject = "competition.c1";
  std::unique_lock start_lock(consumer_mutex);  // the callback waits until `consumer` is assigned
  auto started = nats::OrderedConsumer::start(*connection_, options, [&](nats::Message) {
    if (delivered.fetch_add(1) + 1 == 3) {
      std::lock_guard lock(consumer_mutex);
      consumer.reset();
      destroyed_inside.store(true);
    }
  });
  ASSERT_TRUE(started.ok()) << started.error().message;
  consumer = std::move(started).value();
  start_lock.unlock();

  ASSERT_TRUE(eventually([&] { return destroyed_inside.load(); }));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(delivered.load(), 3);
}

}  // namespace
}  // namespace ovalstream::testing
