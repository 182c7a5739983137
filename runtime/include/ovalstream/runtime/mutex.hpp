#pragma once
// std::mutex with Clang's thread-safety annotations (thread_annotations.hpp), its scoped lock and a condition
// variable that waits on it. Same cost as std::mutex, std::unique_lock and std::condition_variable, which
// they wrap.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <utility>

#include "ovalstream/runtime/thread_annotations.hpp"

namespace ovalstream::runtime {

class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock() ACQUIRE() { mutex_.lock(); }
  void unlock() RELEASE() { mutex_.unlock(); }
  [[nodiscard]] bool try_lock() TRY_ACQUIRE(true) { return mutex_.try_lock(); }
  // For the analysis only (no check at run time): the caller holds this mutex, which the analysis cannot
  // see, as in a condition variable's predicate.
  void assert_held() const ASSERT_CAPABILITY(this) {}

 private:
  friend class MutexLock;
  std::mutex mutex_;
};

// Holds `mutex` for its scope (std::unique_lock inside, so that CondVar can wait on it).
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mutex) ACQUIRE(mutex) : lock_(mutex.mutex_) {}
  // Takes over a mutex the caller locked (after a successful try_lock()).
  MutexLock(Mutex& mutex, std::adopt_lock_t) REQUIRES(mutex) : lock_(mutex.mutex_, std::adopt_lock) {}
  // Does not lock yet: lock() does.
  MutexLock(Mutex& mutex, std::defer_lock_t) EXCLUDES(mutex) : lock_(mutex.mutex_, std::defer_lock) {}
  ~MutexLock() RELEASE() {}
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  void lock() ACQUIRE() { lock_.lock(); }
  void unlock() RELEASE() { lock_.unlock(); }
  bool owns_lock() const noexcept { return lock_.owns_lock(); }

 private:
  friend class CondVar;
  std::unique_lock<std::mutex> lock_;
};

// A condition variable over a MutexLock. Predicates run with the mutex held: start them with
// `mutex.assert_held()` when they read guarded members (the analysis does not see into the wait).
class CondVar {
 public:
  void notify_one() noexcept { condition_.notify_one(); }
  void notify_all() noexcept { condition_.notify_all(); }

  template <class Predicate>
  void wait(MutexLock& lock, Predicate stop_waiting) {
    condition_.wait(lock.lock_, std::move(stop_waiting));
  }
  // False when `timeout` passed and `stop_waiting` still returns false.
  template <class Rep, class Period, class Predicate>
  bool wait_for(MutexLock& lock, const std::chrono::duration<Rep, Period>& timeout, Predicate stop_waiting) {
    return condition_.wait_for(lock.lock_, timeout, std::move(stop_waiting));
  }

 private:
  std::condition_variable condition_;
};

}  // namespace ovalstream::runtime
