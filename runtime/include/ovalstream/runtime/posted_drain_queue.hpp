#pragma once
// A queue that many threads fill and one consumer empties in turns it posts to itself (an asio strand):
// the push that finds no turn pending is told to post one, and the turn takes everything queued meanwhile at
// once. So a consumer that falls behind handles a backlog in one turn (one write per client for a lane,
// one strand turn for a feed's inbox) instead of a turn per item.
//
// Bounded by its user: push() returns how many items are queued, and the user decides what happens past its
// bound (wait_until() blocks a producer until there is room again).
//
// Thread safety: push(), size(), wait_until() and wake_waiters() from any thread; take_all() only from the
// consumer's turn, one at a time.

#include <chrono>
#include <cstddef>
#include <utility>
#include <vector>

#include "ovalstream/runtime/mutex.hpp"

namespace ovalstream::runtime {

template <typename T>
class PostedDrainQueue {
 public:
  struct Pushed {
    bool post_turn = false;  // no turn was pending: the caller posts one, which calls take_all()
    std::size_t queued = 0;  // items queued, this one included
  };

  [[nodiscard]] Pushed push(T item) EXCLUDES(mutex_) {
    MutexLock lock(mutex_);
    items_.push_back(std::move(item));
    return Pushed{!std::exchange(turn_posted_, true), items_.size()};
  }

  // In the consumer's turn: moves everything queued, in order, into `taken` (which must be empty; the queue
  // keeps its capacity for the next items), lets the next push() post a turn, and wakes wait_until().
  void take_all(std::vector<T>& taken) EXCLUDES(mutex_) {
    bool waiting = false;
    {
      MutexLock lock(mutex_);
      taken.swap(items_);
      turn_posted_ = false;
      waiting = waiters_ > 0;
    }
    if (waiting) room_.notify_all();
  }

  [[nodiscard]] std::size_t size() const EXCLUDES(mutex_) {
    MutexLock lock(mutex_);
    return items_.size();
  }

  // Blocks until `has_room(size())` is true (checked with the queue locked, again after each take_all() and
  // wake_waiters()) or `timeout` passed; false on timeout.
  template <typename HasRoom>
  [[nodiscard]] bool wait_until(std::chrono::milliseconds timeout, HasRoom has_room) EXCLUDES(mutex_) {
    MutexLock lock(mutex_);
    ++waiters_;
    const bool room = room_.wait_for(lock, timeout, [&] {
      mutex_.assert_held();
      return has_room(items_.size());
    });
    --waiters_;
    return room;
  }

  // Something besides the queue that wait_until()'s condition reads changed: waiters check it again.
  void wake_waiters() EXCLUDES(mutex_) {
    bool waiting = false;
    {
      MutexLock lock(mutex_);
      waiting = waiters_ > 0;
    }
    if (waiting) room_.notify_all();
  }

 private:
  mutable Mutex mutex_;
  CondVar room_;
  std::vector<T> items_ GUARDED_BY(mutex_);
  bool turn_posted_ GUARDED_BY(mutex_) = false;
  std::size_t waiters_ GUARDED_BY(mutex_) = 0;  // threads in wait_until()
};

}  // namespace ovalstream::runtime
