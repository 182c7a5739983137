#pragma once
// ConsumerFactory on nats.c: one ordered JetStream consumer per call.
// Thread safety: start() may be called from any thread.

#include <memory>
#include <string>

#include "competition_registry.hpp"
#include "ovalstream/nats/connection.hpp"
#include "ovalstream/nats/ordered_consumer.hpp"
#include "ovalstream/runtime/log.hpp"

namespace ovalstream::aggregator {

class NatsConsumerFactory final : public ConsumerFactory {
 public:
  NatsConsumerFactory(const nats::Connection& connection, std::string stream, runtime::Logger logger);

  std::unique_ptr<ConsumerHandle> start(const std::string& filter_subject, std::uint64_t start_sequence,
                                        std::function<void(FeedMessage)> on_message) override;

  // A consumer starting at a time (the top-level one: now - history).
  std::unique_ptr<ConsumerHandle> start_at_time(const std::string& filter_subject, std::int64_t unix_ns,
                                                std::function<void(FeedMessage)> on_message);

 private:
  std::unique_ptr<ConsumerHandle> start_from(const std::string& filter_subject, nats::StartPosition start,
                                             std::function<void(FeedMessage)> on_message);

  const nats::Connection& connection_;
  std::string stream_;
  runtime::Logger logger_;
};

}  // namespace ovalstream::aggregator
