#include "ovalstream/metrics/scrape_gauges.hpp"

namespace ovalstream::metrics {

void ScrapeGauges::add(std::string name, std::string help, std::function<Samples()> samples) {
  runtime::MutexLock lock(mutex_);
  families_.push_back(Family{std::move(name), std::move(help), std::move(samples)});
}

void ScrapeGauges::add(std::string name, std::string help, std::function<double()> value) {
  add(std::move(name), std::move(help), std::function<Samples()>([value = std::move(value)] {
        return Samples{{Labels{}, value()}};
      }));
}

std::vector<prometheus::MetricFamily> ScrapeGauges::Collect() const {
  runtime::MutexLock lock(mutex_);
  std::vector<prometheus::MetricFamily> families;
  families.reserve(families_.size());
  for (const Family& source : families_) {
    prometheus::MetricFamily family{source.name, source.help, prometheus::MetricType::Gauge, {}};
    for (auto& [labels, value] : source.samples()) {
      prometheus::ClientMetric metric;
      for (auto& [label, label_value] : labels) metric.label.push_back({label, label_value});
      metric.gauge.value = value;
      family.metric.push_back(std::move(metric));
    }
    families.push_back(std::move(family));
  }
  return families;
}

}  // namespace ovalstream::metrics
