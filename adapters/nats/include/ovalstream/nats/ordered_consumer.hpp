#pragma once
// An ordered push consumer on one filter subject of a JetStream stream: every message of that subject from a
// start position on, in stream order, each exactly once, through a callback.
//
// Ordering and recovery: nats.c's ordered consumer (an ephemeral, ack-less, flow-controlled consumer with
// idle heartbeats) re-creates itself from the last received stream sequence + 1 when it sees a gap in the
// consumer sequence, when heartbeats stop (after about two heartbeat intervals) and when the connection
// reconnects (measured with nats.c 3.4.1 and nats-server 2.9: after kill -9 and a restart on the same store
// it resumed at the next sequence within milliseconds of the reconnect, without a gap or a duplicate). On top
// of that the adapter
//   - re-creates the consumer from the last *delivered* sequence + 1 when nats.c dropped messages at the
//     pending limit (nats.c has already counted dropped messages as received, so its own reset would skip
//     them),
//   - never hands the callback a sequence at or below the last one it delivered, and
//   - works around nats.c 3.4.1 mis-encoding start times less than 100 ms past a second.
//
// Bounded queue: messages wait for the callback in nats.c's per-subscription queue, bounded by
// pending_messages_limit and pending_bytes_limit. At the bound nats.c drops the message and reports a slow
// consumer; the adapter delivers what was queued before the hole, then re-creates the consumer as above (on
// a short-lived thread of its own), so a slow callback costs re-reading, never a gap or a duplicate. stats()
// counts drops, slow-consumer reports and re-creations. The server's flow control keeps about 2 MB in
// flight per consumer (nats-server 2.9), below the default limits; a limit below that makes every catch-up
// overflow, and each re-creation then advances by about one queue's worth.
//
// Thread safety: the callbacks run on nats.c threads (the subscription's dispatcher thread; status reports
// also on nats.c's callback thread or the adapter's recovery thread), never two at a time for one consumer.
// stats() and last_delivered_sequence() may be called from any thread, also from the callbacks. The
// destructor may be called from any thread; after it returns no callback runs (when called from inside its
// own callback, the current callback is the last one). The Connection must outlive the consumer.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "ovalstream/core/event.hpp"
#include "ovalstream/nats/connection.hpp"
#include "ovalstream/nats/status.hpp"

namespace ovalstream::nats {

struct Message {
  std::string subject;
  core::EventBytes data;  // the payload exactly as published (one copy out of nats.c's buffer)
  std::uint64_t stream_sequence = 0;
  std::int64_t timestamp_ns = 0;  // when JetStream stored it, ns since the Unix epoch (UTC)
  std::uint64_t pending = 0;      // messages of the filter subject still to come after this one
};

// Where a consumer starts.
struct StartPosition {
  enum class Kind : std::uint8_t { kFirst, kSequence, kTime };
  Kind kind = Kind::kFirst;
  std::uint64_t sequence = 0;
  std::int64_t time_ns = 0;

  // The first message of the stream.
  static StartPosition first() { return {}; }
  // The first message with a stream sequence >= `sequence` (0 means first()).
  static StartPosition at_sequence(std::uint64_t sequence) {
    return sequence == 0 ? first() : StartPosition{Kind::kSequence, sequence, 0};
  }
  // The first message stored at or after `unix_ns` (ns since the Unix epoch, UTC; <= 0 means first()).
  static StartPosition at_time(std::int64_t unix_ns) {
    return unix_ns <= 0 ? first() : StartPosition{Kind::kTime, 0, unix_ns};
  }
};

struct OrderedConsumerOptions {
  std::string stream;          // e.g. "competitions"
  std::string filter_subject;  // one subject, wildcards allowed: "competition.c1.>"
  StartPosition start;
  // The server sends an idle heartbeat this often; nats.c re-creates the consumer after about two missed.
  std::chrono::milliseconds heartbeat{5000};
  // The bound of the queue in front of the callback (see the file comment for what happens at the bound).
  // nats.c can only set it once the subscription exists; until then ConnectionOptions::
  // pending_messages_limit applies.
  int pending_messages_limit = 65536;
  int pending_bytes_limit = 64 * 1024 * 1024;
};

struct OrderedConsumerStats {
  std::uint64_t delivered = 0;  // messages handed to the callback
  std::uint64_t last_delivered_sequence = 0;
  std::int64_t dropped_messages = 0;       // dropped by nats.c at the pending limit (then re-read); counted
                                           // when the adapter replaces the subscription
  std::uint64_t slow_consumer_events = 0;  // reports of the pending limit being hit
  std::uint64_t missed_heartbeats = 0;     // reports of missed heartbeats (nats.c re-created the consumer)
  std::uint64_t recreations = 0;           // re-creations by the adapter (after drops)
  std::uint64_t duplicates_skipped = 0;    // messages at or below the last delivered sequence, not delivered
  std::uint64_t other_errors = 0;
  bool healthy = true;  // false once a re-creation failed: no more messages will come; make a new consumer
};

class OrderedConsumer {
 public:
  using MessageHandler = std::function<void(Message)>;
  // Consumer problems: missed heartbeats, re-creations and their failures, a callback that threw.
  // Informational unless stats().healthy turns false. A report that nats.c makes while a callback of this
  // consumer runs is only counted in stats(), not passed on.
  using StatusHandler = std::function<void(const Error&)>;

  // Creates the consumer on the server and starts delivering. Fails when the stream does not exist, the
  // filter matches none of its subjects, or the server does not answer within the request timeout.
  // Throws std::invalid_argument for an empty `on_message`.
  static Result<std::unique_ptr<OrderedConsumer>> start(const Connection& connection,
                                                        OrderedConsumerOptions options,
                                                        MessageHandler on_message,
                                                        StatusHandler on_status = {});

  // Stops the callbacks, then closes the subscription and deletes the server-side consumer (two requests,
  // each bounded by the request timeout; skipped while disconnected, when the server drops the consumer
  // by itself after 5 s without interest).
  ~OrderedConsumer();
  OrderedConsumer(const OrderedConsumer&) = delete;
  OrderedConsumer& operator=(const OrderedConsumer&) = delete;

  std::uint64_t last_delivered_sequence() const noexcept;
  OrderedConsumerStats stats() const;
  const OrderedConsumerOptions& options() const noexcept;

  struct State;  // shared with nats.c's callbacks; public only so the implementation's callbacks can name it

 private:
  explicit OrderedConsumer(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

}  // namespace ovalstream::nats
