#pragma once
// Gauge families whose values are computed when scraped, from a function each (e.g. the bytes queued to
// every client, or one series per competition held): nothing is updated on the hot path, and series whose
// subject is gone (a competition dropped) simply are not returned any more.
// Thread safety: add() and Collect() may be called from any thread; the functions are called on the thread
// that scrapes, one family at a time, and must themselves be thread-safe. They must not call add().

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "ovalstream/runtime/mutex.hpp"

namespace ovalstream::metrics {

class ScrapeGauges final : public prometheus::Collectable {
 public:
  using Labels = std::map<std::string, std::string>;
  using Samples = std::vector<std::pair<Labels, double>>;

  // A family of labelled series; `samples` returns the series that exist now.
  void add(std::string name, std::string help, std::function<Samples()> samples);
  // One unlabelled series.
  void add(std::string name, std::string help, std::function<double()> value);

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  struct Family {
    std::string name;
    std::string help;
    std::function<Samples()> samples;
  };
  mutable runtime::Mutex mutex_;
  std::vector<Family> families_ GUARDED_BY(mutex_);
};

}  // namespace ovalstream::metrics
