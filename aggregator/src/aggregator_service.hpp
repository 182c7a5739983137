#pragma once
// Wires the aggregator: NATS connection and consumers, the competition registry, the websocket hub, the
// metrics/health server, the stream watcher, garbage collection and the drain on SIGTERM.
// Thread safety: construct, run() and request_drain() from the main thread; everything else runs on the
// io_context threads.

#include <atomic>
#include <memory>

#include "config.hpp"
#include "ovalstream/runtime/log.hpp"

namespace ovalstream::aggregator {

class AggregatorService {
 public:
  AggregatorService(Config config, runtime::Logger logger);
  ~AggregatorService();

  // Runs until drained (SIGTERM/SIGINT) and returns the process exit code. Throws for startup mistakes
  // (an address that cannot be bound, unreadable certificate files).
  int run();

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace ovalstream::aggregator
