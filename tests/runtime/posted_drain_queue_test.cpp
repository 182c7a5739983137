#include "ovalstream/runtime/posted_drain_queue.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <semaphore>
#include <thread>
#include <vector>

namespace ovalstream::runtime {
namespace {

using namespace std::chrono_literals;

TEST(PostedDrainQueue, OnlyThePushThatFindsNoTurnPendingPostsOne) {
  PostedDrainQueue<int> queue;
  const auto first = queue.push(1);
  EXPECT_TRUE(first.post_turn);
  EXPECT_EQ(first.queued, 1u);
  const auto second = queue.push(2);
  EXPECT_FALSE(second.post_turn);
  EXPECT_EQ(second.queued, 2u);
  EXPECT_FALSE(queue.push(3).post_turn);
}

TEST(PostedDrainQueue, ATurnTakesEverythingQueuedInOrderAndTheNextPushPostsAgain) {
  PostedDrainQueue<int> queue;
  for (int i = 0; i < 5; ++i) (void)queue.push(i);
  std::vector<int> taken;
  queue.take_all(taken);
  EXPECT_EQ(taken, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(queue.size(), 0u);

  const auto after = queue.push(5);
  EXPECT_TRUE(after.post_turn);
  EXPECT_EQ(after.queued, 1u);
  taken.clear();
  queue.take_all(taken);
  EXPECT_EQ(taken, (std::vector<int>{5}));
}

TEST(PostedDrainQueue, ATurnThatFindsNothingStillLetsTheNextPushPost) {
  PostedDrainQueue<int> queue;
  std::vector<int> taken;
  queue.take_all(taken);
  EXPECT_TRUE(taken.empty());
  EXPECT_TRUE(queue.push(1).post_turn);
}

TEST(PostedDrainQueue, WaitUntilReturnsAtOnceWhenThereIsRoomAndTimesOutWhenThereIsNone) {
  PostedDrainQueue<int> queue;
  (void)queue.push(1);
  (void)queue.push(2);
  EXPECT_TRUE(queue.wait_until(0ms, [](std::size_t queued) { return queued <= 2; }));
  EXPECT_FALSE(queue.wait_until(20ms, [](std::size_t queued) { return queued <= 1; }));
}

TEST(PostedDrainQueue, ATurnWakesAProducerWaitingForRoom) {
  PostedDrainQueue<int> queue;
  for (int i = 0; i < 3; ++i) (void)queue.push(i);
  std::promise<void> waiting;
  auto waited = std::async(std::launch::async, [&] {
    waiting.set_value();
    return queue.wait_until(30s, [](std::size_t queued) { return queued == 0; });
  });
  waiting.get_future().wait();
  std::vector<int> taken;
  queue.take_all(taken);
  ASSERT_EQ(waited.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(waited.get());
}

TEST(PostedDrainQueue, WakeWaitersLetsThemSeeAConditionOutsideTheQueue) {
  PostedDrainQueue<int> queue;
  std::atomic<std::size_t> elsewhere{10};  // as a feed's lane backlog
  std::promise<void> waiting;
  auto waited = std::async(std::launch::async, [&] {
    waiting.set_value();
    return queue.wait_until(30s, [&](std::size_t queued) { return queued + elsewhere.load() <= 5; });
  });
  waiting.get_future().wait();
  std::this_thread::sleep_for(10ms);  // most likely in the wait by now; correct either way
  elsewhere = 0;
  queue.wake_waiters();
  ASSERT_EQ(waited.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(waited.get());
}

// Several producers, one consumer running a turn per posted turn: every item is taken exactly once, each
// producer's items in the order pushed, and no turn is posted while one is pending.
TEST(PostedDrainQueue, ProducersOnManyThreadsAndOneConsumerLoseNothingAndKeepEachProducersOrder) {
  constexpr int kProducers = 4;
  constexpr int kItemsEach = 5000;
  struct Item {
    int producer;
    int index;
  };
  PostedDrainQueue<Item> queue;
  std::counting_semaphore<> turns(0);
  std::atomic<int> turns_posted{0};
  std::atomic<bool> producing{true};

  std::vector<int> next_index(kProducers, 0);
  int taken_total = 0;
  bool in_order = true;
  std::thread consumer([&] {
    std::vector<Item> taken;
    while (true) {
      turns.acquire();
      taken.clear();
      queue.take_all(taken);
      for (const Item& item : taken) {
        if (item.index != next_index[item.producer]) in_order = false;
        next_index[item.producer] = item.index + 1;
      }
      taken_total += static_cast<int>(taken.size());
      if (!producing && taken_total == kProducers * kItemsEach) return;
    }
  });
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kItemsEach; ++i) {
        if (queue.push(Item{p, i}).post_turn) {
          ++turns_posted;
          turns.release();
        }
      }
    });
  }
  for (std::thread& producer : producers) producer.join();
  producing = false;
  turns.release();  // a last turn, in case the final items were taken by a turn that saw producing still set
  consumer.join();

  EXPECT_EQ(taken_total, kProducers * kItemsEach);
  EXPECT_TRUE(in_order);
  for (int p = 0; p < kProducers; ++p) EXPECT_EQ(next_index[p], kItemsEach);
  EXPECT_GE(turns_posted.load(), 1);
  EXPECT_LE(turns_posted.load(), kProducers * kItemsEach);
}

}  // namespace
}  // namespace ovalstream::runtime
