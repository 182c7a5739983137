#pragma once
// A durable pull consumer with explicit acknowledgements: the server remembers by name what was acknowledged,
// so a process that dies and starts again gets every message it did not acknowledge (after ack_wait) and none
// it did. Built on nats.c's js_PullSubscribe, bound to a consumer this class creates with js_AddConsumer, so
// destroying the subscription never deletes the server's consumer (it stays until reposition() or someone
// deletes it).
//
// Order: a pull consumer delivers redeliveries first, but a message delivered and never acknowledged (a
// process killed mid-batch, a fetch lost to a disconnect) is redelivered only after ack_wait, while newer
// messages may be delivered before it whenever fewer than max_ack_pending are outstanding. A caller that
// needs stream order across such faults repositions the consumer at its own last durable position
// (reposition()); JetstreamRecorder does.
//
// Thread safety: none. One thread opens, fetches, acknowledges and repositions (nats.c's connection is
// thread-safe, this object's subscription handle is not). The Connection must outlive the consumer.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ovalstream/core/event.hpp"
#include "ovalstream/nats/connection.hpp"
#include "ovalstream/nats/handles.hpp"
#include "ovalstream/nats/status.hpp"

namespace ovalstream::nats {

// True for a durable consumer name the server takes: 1 to 200 of letters, digits, '-' and '_'.
bool is_valid_consumer_name(std::string_view name) noexcept;

struct DurableConsumerOptions {
  std::string stream;          // e.g. "VANTAGE"
  std::string durable;         // the consumer's name: letters, digits, '-' and '_' (no '.', '*', '>')
  std::string filter_subject;  // one subject, wildcards allowed (nats-server 2.9 takes one per consumer)
  // How long the server waits for an acknowledgement before it delivers the message again.
  std::chrono::milliseconds ack_wait{30'000};
  // The server delivers no more while this many are unacknowledged.
  int max_ack_pending = 1024;
};

// One fetched message; acknowledge it with DurableConsumer::ack().
struct PulledMessage {
  std::string subject;
  core::EventBytes data;  // the payload exactly as published
  std::uint64_t stream_sequence = 0;
  std::int64_t timestamp_ns = 0;     // when JetStream stored it, ns since the Unix epoch (UTC)
  std::uint64_t pending = 0;         // messages of the filter not yet delivered after this one
  std::uint64_t delivery_count = 0;  // 1 on the first delivery, more on redeliveries
  // The consumer's count of deliveries (redeliveries included) as of this one: consecutive across fetches
  // unless a delivery was lost on the way (a disconnect, a consumer leader that failed over).
  std::uint64_t consumer_sequence = 0;
  MessageHandle handle;  // the nats.c message, needed to acknowledge it
};

// The server's view of the consumer.
struct DurableConsumerState {
  std::uint64_t delivered_stream_sequence = 0;    // the last stream sequence delivered
  std::uint64_t delivered_consumer_sequence = 0;  // deliveries so far (PulledMessage::consumer_sequence)
  std::uint64_t ack_floor_stream_sequence = 0;    // every message up to this one is acknowledged
  std::int64_t ack_pending = 0;                   // delivered, not yet acknowledged
  std::uint64_t pending = 0;                      // matching messages not yet delivered
  std::string filter_subject;
};

class DurableConsumer {
 public:
  // Binds to the durable consumer `options.durable` of `options.stream`, creating it when missing (deliver
  // all, explicit acks, ack_wait and max_ack_pending as given). An existing consumer is bound as it is; one
  // with another filter subject is an error (NATS_ERR) and left unchanged. Fails when the stream is missing
  // or the server does not answer within the connection's request timeout.
  static Result<std::unique_ptr<DurableConsumer>> open(const Connection& connection,
                                                       DurableConsumerOptions options);

  // Releases the subscription; the server's consumer and its acknowledgement state stay.
  ~DurableConsumer();
  DurableConsumer(const DurableConsumer&) = delete;
  DurableConsumer& operator=(const DurableConsumer&) = delete;

  // Up to `batch` messages in delivery order, waiting at most `timeout` for the first; an empty vector when
  // none came in time. Errors: disconnected, consumer deleted, and so on.
  Result<std::vector<PulledMessage>> fetch(int batch, std::chrono::milliseconds timeout);

  // Acknowledges one message (fire and forget: a lost acknowledgement means one redelivery after ack_wait).
  Status ack(PulledMessage& message);

  // The server's view (one request).
  Result<DurableConsumerState> state();

  // Deletes the server's consumer and creates it again under the same name starting at `start_sequence`
  // (0 or 1: the first message), then binds to it. Everything delivered and unacknowledged is forgotten.
  Status reposition(std::uint64_t start_sequence);

  const DurableConsumerOptions& options() const noexcept { return options_; }

 private:
  DurableConsumer(const Connection& connection, DurableConsumerOptions options)
      : connection_(connection), options_(std::move(options)) {}
  Status create(std::uint64_t start_sequence);
  Status bind();

  const Connection& connection_;
  DurableConsumerOptions options_;
  SubscriptionHandle subscription_;
};

}  // namespace ovalstream::nats
