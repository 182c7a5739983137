#include "nats_consumers.hpp"

namespace ovalstream::aggregator {

nats::Result<std::unique_ptr<nats::OrderedConsumer>> start_ingest_consumer(
    const nats::Connection& connection, const std::string& stream, nats::StartPosition start,
    std::function<void(FeedMessage)> on_message, const runtime::Logger& logger) {
  nats::OrderedConsumerOptions options;
  options.stream = stream;
  options.filter_subject = kIngestSubject;
  options.start = start;
  auto deliver = [on_message = std::move(on_message)](nats::Message message) {
    on_message(FeedMessage{std::move(message.subject), std::move(message.data), message.stream_sequence,
                           message.timestamp_ns, message.pending});
  };
  auto report = [logger](const nats::Error& status) {
    logger.log_every("consumer-status", std::chrono::seconds(10), runtime::LogLevel::kWarn,
                     "JetStream consumer reported a problem",
                     {{"filter", kIngestSubject}, {"status", status.message}});
  };
  return nats::OrderedConsumer::start(connection, std::move(options), std::move(deliver), std::move(report));
}

}  // namespace ovalstream::aggregator
