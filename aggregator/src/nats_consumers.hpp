#pragma once
// The aggregator's one JetStream consumer: ordered, over every subject of the competitions
// (`competition.>`), delivering in stream order.
// Thread safety: start_ingest_consumer() may be called from any thread that may block (it makes a request to
// the server); never from an io thread.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "feed_message.hpp"
#include "ovalstream/nats/connection.hpp"
#include "ovalstream/nats/ordered_consumer.hpp"
#include "ovalstream/runtime/log.hpp"

namespace ovalstream::aggregator {

// Every subject a competition's events are published on (docs/protocol.md, "NATS subjects").
inline constexpr const char* kIngestSubject = "competition.>";

// Starts the ordered consumer on `stream` at `start` (now - --history, or after a sequence), or the error of
// why it cannot start (the caller logs it and retries). Destroying the consumer stops `on_message` (it may
// wait for a running call). The consumer's own problems go to `logger`, at most every 10 s.
nats::Result<std::unique_ptr<nats::OrderedConsumer>> start_ingest_consumer(
    const nats::Connection& connection, const std::string& stream, nats::StartPosition start,
    std::function<void(FeedMessage)> on_message, const runtime::Logger& logger);

}  // namespace ovalstream::aggregator
