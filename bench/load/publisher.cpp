#include "publisher.hpp"

#include <nats/nats.h>

#include <stdexcept>
#include <thread>

#include "ovalstream/nats/jetstream.hpp"

namespace ovalstream::bench {

std::int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Publisher::Publisher(const std::string& nats_url, BenchData data, std::size_t capacity)
    : data_(std::move(data)),
      capacity_(capacity),
      publish_ns_(new std::atomic<std::int64_t>[capacity]),
      hash_(new std::atomic<std::uint64_t>[capacity]) {
  for (std::size_t i = 0; i < capacity_; ++i) {
    publish_ns_[i].store(0, std::memory_order_relaxed);
    hash_[i].store(0, std::memory_order_relaxed);
  }
  // Sequences grow across runs (wall clock in µs), so frames of earlier runs that a snapshot still holds
  // are never taken for live frames of this one.
  sequence_base_ = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                                  std::chrono::system_clock::now().time_since_epoch())
                                                  .count());
  next_sequence_ = sequence_base_;
  nats::ConnectionOptions options;
  options.url = nats_url;
  options.name = "ovalstream_load";
  auto connected = nats::Connection::connect(options);
  if (!connected) throw std::runtime_error("cannot connect to " + nats_url);
  connection_ = std::move(connected).value();
  for (int attempt = 0; attempt < 200 && !connection_->connected(); ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  if (!connection_->connected()) throw std::runtime_error("not connected to " + nats_url + " within 5 s");
}

void Publisher::create_stream(const std::string& stream) {
  auto info = nats::create_stream(*connection_, stream, {"competition.>"});
  if (!info) throw std::runtime_error("cannot create stream " + stream + ": " + info.error().message);
}

void Publisher::publish_prefix() {
  for (const auto& event : data_.prefix) {
    auto sequence = nats::publish(*connection_, event.subject, event.json);
    if (!sequence) throw std::runtime_error("publish to " + event.subject + " failed");
  }
}

PublishStats Publisher::publish_live(std::uint64_t count, double rate, const std::atomic<bool>* stop) {
  PublishStats stats;
  const auto start = std::chrono::steady_clock::now();
  const auto interval = std::chrono::duration<double>(1.0 / rate);
  for (std::uint64_t i = 0; i < count && !(stop != nullptr && stop->load()); ++i) {
    const auto due = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(interval * i);
    if (due > std::chrono::steady_clock::now()) std::this_thread::sleep_until(due);
    const SubjectEvent& event = data_.live[next_live_];
    next_live_ = (next_live_ + 1) % data_.live.size();
    const std::uint64_t sequence = next_sequence_++;
    const std::string bytes = with_bench_sequence(event.json, sequence);
    if (sequence - sequence_base_ < capacity_) {
      // The scheduled time, not the moment of the call: when the publisher falls behind its schedule, the
      // delay counts in the latency (no coordinated omission).
      hash_[sequence - sequence_base_].store(content_hash(bytes), std::memory_order_release);
      publish_ns_[sequence - sequence_base_].store(
          std::chrono::duration_cast<std::chrono::nanoseconds>(due.time_since_epoch()).count(),
          std::memory_order_release);
    }
    const natsStatus status = natsConnection_Publish(connection_->native(), event.subject.c_str(),
                                                     bytes.data(), static_cast<int>(bytes.size()));
    if (status == NATS_OK) {
      ++stats.published;
    } else {
      ++stats.errors;
    }
  }
  natsConnection_FlushTimeout(connection_->native(), 10'000);
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats;
}

}  // namespace ovalstream::bench
