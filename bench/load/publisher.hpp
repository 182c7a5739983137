#pragma once
// The load tool's publisher: one nats.c connection; publishes the prefix with acknowledgements (prepare),
// and live events with a bench sequence at a set rate (core NATS publish into the stream's subjects: the
// stream stores them, and nats-server's own subscribers get them directly), recording for each sequence
// its scheduled send time and the hash of its bytes.
// Thread safety: one thread drives a Publisher; publish_times() may be read from any thread.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "bench_data.hpp"
#include "ovalstream/nats/connection.hpp"

namespace ovalstream::bench {

struct PublishStats {
  std::uint64_t published = 0;
  std::uint64_t errors = 0;
  double seconds = 0;  // from the first publish to the flush after the last
};

class Publisher {
 public:
  // Connects; throws std::runtime_error when it cannot.
  Publisher(const std::string& nats_url, BenchData data, std::size_t capacity);

  const BenchData& data() const noexcept { return data_; }
  const nats::Connection& connection() const noexcept { return *connection_; }
  // Creates the stream (capturing competition.>, as the aggregator's --create-stream does) unless it
  // exists; throws on failure.
  void create_stream(const std::string& stream);
  // Publishes the prefix, each acknowledged by the stream; throws on failure.
  void publish_prefix();
  // Publishes `count` live events at `rate` per second (paced from the start), cycling through the live
  // events, each with the next bench sequence; flushes at the end. Stops early once `*stop` is true.
  PublishStats publish_live(std::uint64_t count, double rate, const std::atomic<bool>* stop = nullptr);

  std::uint64_t next_sequence() const noexcept { return next_sequence_; }
  std::uint64_t sequence_base() const noexcept { return sequence_base_; }
  std::size_t capacity() const noexcept { return capacity_; }
  const std::atomic<std::int64_t>* publish_times() const noexcept { return publish_ns_.get(); }
  const std::atomic<std::uint64_t>* content_hashes() const noexcept { return hash_.get(); }

 private:
  BenchData data_;
  std::unique_ptr<nats::Connection> connection_;
  std::size_t capacity_;
  std::unique_ptr<std::atomic<std::int64_t>[]> publish_ns_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> hash_;
  std::uint64_t sequence_base_;
  std::uint64_t next_sequence_;
  std::size_t next_live_ = 0;
};

std::int64_t steady_now_ns();

}  // namespace ovalstream::bench
