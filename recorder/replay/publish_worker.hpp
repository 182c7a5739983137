#pragma once
// Publishes to JetStream off the io_context: nats::publish blocks until the stream acknowledges (up to the
// connection's request timeout), so it runs on this worker's one thread. Jobs wait in a bounded queue; a job
// submitted while the queue is full fails at once ("publish queue full") rather than blocking the caller.
// A replayer has at most one job queued, so one worker serves many replays (`serve`) in order of arrival.
// Thread safety: submit() may be called from any thread. Callbacks run on the worker thread, one at a time;
// they must not block. The destructor fails the jobs still queued with "shutting down", then joins.

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "ovalstream/core/event.hpp"
#include "ovalstream/nats/connection.hpp"
#include "ovalstream/runtime/mutex.hpp"

namespace ovalstream::recorder {

class PublishWorker {
 public:
  // nullopt: acknowledged by a stream. A message naming the subject otherwise.
  using Done = std::function<void(std::optional<std::string> error)>;

  // `connection` must outlive the worker.
  explicit PublishWorker(const nats::Connection& connection, std::size_t queue_limit = 1024);
  ~PublishWorker();
  PublishWorker(const PublishWorker&) = delete;
  PublishWorker& operator=(const PublishWorker&) = delete;

  void submit(std::string subject, core::EventBytes bytes, Done done);
  std::uint64_t published() const;

 private:
  struct Job {
    std::string subject;
    core::EventBytes bytes;
    Done done;
  };
  void run();

  const nats::Connection& connection_;
  const std::size_t queue_limit_;
  mutable runtime::Mutex mutex_;
  runtime::CondVar wakeup_;
  std::deque<Job> queue_ GUARDED_BY(mutex_);
  bool stopping_ GUARDED_BY(mutex_) = false;
  std::uint64_t published_ GUARDED_BY(mutex_) = 0;
  std::thread thread_;
};

}  // namespace ovalstream::recorder
