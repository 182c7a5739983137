#pragma once
// The Prometheus text exposition of several collectables (a registry, the process collector, scrape-time
// gauges) as one scrape.
// Thread safety: as safe as the collectables' Collect(); prometheus-cpp's are thread-safe.

#include <prometheus/collectable.h>

#include <initializer_list>
#include <string>

namespace ovalstream::metrics {

std::string expose(std::initializer_list<const prometheus::Collectable*> collectables);

}  // namespace ovalstream::metrics
