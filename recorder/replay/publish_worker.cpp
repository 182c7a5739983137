#include "replay/publish_worker.hpp"

#include "ovalstream/nats/jetstream.hpp"

namespace ovalstream::recorder {

PublishWorker::PublishWorker(const nats::Connection& connection, std::size_t queue_limit)
    : connection_(connection), queue_limit_(queue_limit), thread_([this] { run(); }) {}

PublishWorker::~PublishWorker() {
  std::deque<Job> left;
  {
    runtime::MutexLock lock(mutex_);
    stopping_ = true;
    left.swap(queue_);
  }
  wakeup_.notify_all();
  thread_.join();
  for (auto& job : left) job.done("shutting down: not published to " + job.subject);
}

void PublishWorker::submit(std::string subject, core::EventBytes bytes, Done done) {
  bool stopping = false;
  {
    runtime::MutexLock lock(mutex_);
    stopping = stopping_;  // read under the lock: the destructor sets it on another thread
    if (!stopping && queue_.size() < queue_limit_) {
      queue_.push_back(Job{std::move(subject), std::move(bytes), std::move(done)});
      wakeup_.notify_one();
      return;
    }
  }
  done(stopping ? "shutting down: not published to " + subject
                : "publish queue full: not published to " + subject);
}

std::uint64_t PublishWorker::published() const {
  runtime::MutexLock lock(mutex_);
  return published_;
}

void PublishWorker::run() {
  while (true) {
    Job job;
    {
      runtime::MutexLock lock(mutex_);
      wakeup_.wait(lock, [this] {
        mutex_.assert_held();
        return stopping_ || !queue_.empty();
      });
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    const auto result = nats::publish(connection_, job.subject, *job.bytes);
    std::optional<std::string> error;
    if (!result) {
      const nats::Error& status = result.error();
      if (status.code == NATS_NO_RESPONDERS) {
        error = "no JetStream stream captures subject " + job.subject +
                " (check the stream's subjects, or --create-stream)";
      } else {
        error = "publishing to " + job.subject + " failed: " + status.message;
      }
    } else {
      runtime::MutexLock lock(mutex_);
      ++published_;
    }
    try {
      job.done(std::move(error));
    } catch (...) {
      // A callback must not throw; the worker goes on regardless.
    }
  }
}

}  // namespace ovalstream::recorder
