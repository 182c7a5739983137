#pragma once
// The NATS connection's metrics, the same in both services: ovalstream_nats_connected (gauge),
// ovalstream_nats_reconnects_total (the connection came back after it was lost; the first connect is not
// a reconnect) and ovalstream_nats_async_errors_total, all present from the start.
// Thread safety: every member may be called from any thread (nats.c calls back on its own threads).

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "ovalstream/runtime/mutex.hpp"

namespace ovalstream::metrics {

class NatsConnectionMetrics {
 public:
  explicit NatsConnectionMetrics(prometheus::Registry& registry);

  void set_connected(bool connected);
  void async_error();

 private:
  prometheus::Gauge& connected_;
  prometheus::Counter& reconnects_;
  prometheus::Counter& async_errors_;
  runtime::Mutex mutex_;
  bool ever_connected_ GUARDED_BY(mutex_) = false;
  bool lost_ GUARDED_BY(mutex_) = false;  // lost since it was last connected
};

}  // namespace ovalstream::metrics
