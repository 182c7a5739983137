#pragma once
// Chaos-test support: a publisher that keeps publishing through faults, like a Vantage publisher that
// retries. Events go out in order, one every `interval`, on a thread of their own. Each publish carries a
// JetStream message id (Nats-Msg-Id), so a retry whose first attempt was stored after all (the ack was lost
// with a killed leader) is answered as a duplicate with the first sequence: the stream holds each event
// exactly once, and the publisher knows every event's stream sequence. That list is the truth the scenarios
// compare every client and the recorder with.
// Thread safety: start/wait/stop and the accessors from the test thread; the publishing runs on its own.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "aggregator/support/publishing.hpp"
#include "ovalstream/core/event.hpp"

namespace ovalstream::chaos {

using aggregator::itest::Published;

class ChaosPublisher {
 public:
  // Connects to `urls` (comma-separated; reconnects among them forever). Throws std::runtime_error when the
  // options are unusable.
  explicit ChaosPublisher(const std::string& urls);
  ~ChaosPublisher();
  ChaosPublisher(const ChaosPublisher&) = delete;
  ChaosPublisher& operator=(const ChaosPublisher&) = delete;

  // Publishes `events` in order, one every `interval`, each with the message id "<id_prefix>-<index>",
  // retrying one event until it is acknowledged or `give_up` passed (then the run stops with an error).
  // Heat groups are assigned afresh for each run (a new run is a publisher that starts over).
  void start(std::vector<core::Event> events, std::chrono::milliseconds interval, std::string id_prefix,
             std::chrono::milliseconds give_up = std::chrono::seconds(60));
  // Waits for the run to end; true when every event was acknowledged.
  bool wait(std::chrono::milliseconds timeout);
  void stop();

  // The acknowledged events of the current run, in order, with their stream sequences.
  std::vector<Published> published() const;
  std::size_t published_count() const;
  // Attempts that failed and were retried, over the run.
  std::size_t retries() const { return retries_.load(); }
  std::string error() const;

 private:
  void run(std::vector<core::Event> events, std::chrono::milliseconds interval, std::string id_prefix,
           std::chrono::milliseconds give_up);

  std::unique_ptr<nats::Connection> connection_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> done_{false};
  std::atomic<std::size_t> retries_{0};
  mutable std::mutex mutex_;
  std::vector<Published> published_;
  std::string error_;
};

}  // namespace ovalstream::chaos
