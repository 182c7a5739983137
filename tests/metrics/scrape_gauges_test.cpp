// Scrape-time gauges and the exposition of several collectables as one scrape.
#include "ovalstream/metrics/scrape_gauges.hpp"

#include <gtest/gtest.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <atomic>

#include "ovalstream/metrics/exposition.hpp"

namespace ovalstream::metrics {
namespace {

TEST(ScrapeGauges, ComputeTheirValuesAtEachScrape) {
  ScrapeGauges gauges;
  std::atomic<double> queued{0};
  gauges.add("test_queued_bytes", "Bytes queued", [&] { return queued.load(); });
  EXPECT_NE(expose({&gauges}).find("test_queued_bytes 0\n"), std::string::npos);
  queued = 1234;
  const std::string text = expose({&gauges});
  EXPECT_NE(text.find("# TYPE test_queued_bytes gauge\n"), std::string::npos) << text;
  EXPECT_NE(text.find("test_queued_bytes 1234\n"), std::string::npos) << text;
}

TEST(ScrapeGauges, SeriesGoWhenTheirSubjectGoes) {
  ScrapeGauges gauges;
  ScrapeGauges::Samples current{{{{"competition", "a"}}, 3}, {{{"competition", "b"}}, 5}};
  gauges.add("test_clients", "Clients per competition", [&] { return current; });
  std::string text = expose({&gauges});
  EXPECT_NE(text.find("test_clients{competition=\"a\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("test_clients{competition=\"b\"} 5\n"), std::string::npos) << text;
  current.erase(current.begin());
  text = expose({&gauges});
  EXPECT_EQ(text.find("competition=\"a\""), std::string::npos) << text;
  EXPECT_NE(text.find("test_clients{competition=\"b\"} 5\n"), std::string::npos) << text;
  // No series left: the family still says its type, with no samples.
  current.clear();
  text = expose({&gauges});
  EXPECT_NE(text.find("# TYPE test_clients gauge"), std::string::npos) << text;
  EXPECT_EQ(text.find("test_clients{"), std::string::npos) << text;
}

TEST(Exposition, JoinsCollectablesInOrder) {
  prometheus::Registry registry;
  prometheus::BuildCounter().Name("test_events_total").Help("Events").Register(registry).Add({}).Increment(2);
  ScrapeGauges gauges;
  gauges.add("test_draining", "1 while draining", [] { return 1.0; });
  const std::string text = expose({&registry, nullptr, &gauges});
  const auto counter = text.find("test_events_total 2");
  const auto gauge = text.find("test_draining 1");
  ASSERT_NE(counter, std::string::npos) << text;
  ASSERT_NE(gauge, std::string::npos) << text;
  EXPECT_LT(counter, gauge);
}

}  // namespace
}  // namespace ovalstream::metrics
