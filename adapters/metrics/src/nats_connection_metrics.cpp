#include "ovalstream/metrics/nats_connection_metrics.hpp"

namespace ovalstream::metrics {

NatsConnectionMetrics::NatsConnectionMetrics(prometheus::Registry& registry)
    : connected_(prometheus::BuildGauge()
                     .Name("ovalstream_nats_connected")
                     .Help("1 while connected to NATS")
                     .Register(registry)
                     .Add({})),
      reconnects_(prometheus::BuildCounter()
                      .Name("ovalstream_nats_reconnects_total")
                      .Help("Times the NATS connection came back after it was lost")
                      .Register(registry)
                      .Add({})),
      async_errors_(prometheus::BuildCounter()
                        .Name("ovalstream_nats_async_errors_total")
                        .Help("Asynchronous errors nats.c reported on the connection (e.g. a slow consumer "
                              "on a subscription)")
                        .Register(registry)
                        .Add({})) {}

void NatsConnectionMetrics::set_connected(bool connected) {
  connected_.Set(connected ? 1 : 0);
  runtime::MutexLock lock(mutex_);
  if (!connected) {
    lost_ = ever_connected_;
    return;
  }
  if (lost_) reconnects_.Increment();
  lost_ = false;
  ever_connected_ = true;
}

void NatsConnectionMetrics::async_error() {
  async_errors_.Increment();
}

}  // namespace ovalstream::metrics
