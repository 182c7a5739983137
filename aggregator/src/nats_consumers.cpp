#include "nats_consumers.hpp"

#include "ovalstream/nats/ordered_consumer.hpp"

namespace ovalstream::aggregator {
namespace {

class NatsConsumerHandle final : public ConsumerHandle {
 public:
  explicit NatsConsumerHandle(std::unique_ptr<nats::OrderedConsumer> consumer)
      : consumer_(std::move(consumer)) {}

 private:
  std::unique_ptr<nats::OrderedConsumer> consumer_;
};

}  // namespace

NatsConsumerFactory::NatsConsumerFactory(const nats::Connection& connection, std::string stream,
                                         runtime::Logger logger)
    : connection_(connection), stream_(std::move(stream)), logger_(std::move(logger)) {}

std::unique_ptr<ConsumerHandle> NatsConsumerFactory::start(const std::string& filter_subject,
                                                           std::uint64_t start_sequence,
                                                           std::function<void(FeedMessage)> on_message) {
  return start_from(filter_subject, nats::StartPosition::at_sequence(start_sequence), std::move(on_message));
}

std::unique_ptr<ConsumerHandle> NatsConsumerFactory::start_at_time(
    const std::string& filter_subject, std::int64_t unix_ns, std::function<void(FeedMessage)> on_message) {
  return start_from(filter_subject, nats::StartPosition::at_time(unix_ns), std::move(on_message));
}

std::unique_ptr<ConsumerHandle> NatsConsumerFactory::start_from(const std::string& filter_subject,
                                                                nats::StartPosition start,
                                                                std::function<void(FeedMessage)> on_message) {
  nats::OrderedConsumerOptions options;
  options.stream = stream_;
  options.filter_subject = filter_subject;
  options.start = start;
  auto deliver = [on_message = std::move(on_message)](nats::Message message) {
    on_message(FeedMessage{std::move(message.subject), std::move(message.data), message.stream_sequence,
                           message.timestamp_ns, message.pending});
  };
  auto report = [logger = logger_, filter_subject](const nats::Status& status) {
    logger.log_every("consumer-status:" + filter_subject, std::chrono::seconds(10), runtime::LogLevel::kWarn,
                     "JetStream consumer reported a problem",
                     {{"filter", filter_subject}, {"status", status.message}});
  };
  auto consumer =
      nats::OrderedConsumer::start(connection_, std::move(options), std::move(deliver), std::move(report));
  if (!consumer) {
    logger_.log_every("consumer-start:" + filter_subject, std::chrono::seconds(10), runtime::LogLevel::kWarn,
                      "could not start a JetStream consumer",
                      {{"filter", filter_subject}, {"status", consumer.status().message}});
    return nullptr;
  }
  return std::make_unique<NatsConsumerHandle>(std::move(consumer).value());
}

}  // namespace ovalstream::aggregator
