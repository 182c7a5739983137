// The process collector: parsing /proc text (fixed strings), the families it makes, and the live process.
#include "ovalstream/metrics/process_collector.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <map>

namespace ovalstream::metrics {
namespace {

// A real line of /proc/self/stat (fields 1 to 52), with a command name holding ") (" and spaces.
constexpr std::string_view kStat =
    "4242 (aggre) (gator x) S 1 4242 4242 0 -1 4194560 1500 0 0 0 250 75 0 0 20 0 9 0 123456 "
    "987654321 2048 18446744073709551615 1 1 0 0 0 0 0 4096 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n";

TEST(ProcStatParse, ReadsTheFieldsAfterTheLastParenthesis) {
  const auto stat = parse_proc_stat(kStat);
  ASSERT_TRUE(stat.has_value());
  EXPECT_EQ(stat->user_ticks, 250u);
  EXPECT_EQ(stat->system_ticks, 75u);
  EXPECT_EQ(stat->start_ticks, 123456u);
  EXPECT_EQ(stat->virtual_bytes, 987654321u);
  EXPECT_EQ(stat->resident_pages, 2048u);
}

TEST(ProcStatParse, RefusesTruncatedOrMalformedText) {
  EXPECT_FALSE(parse_proc_stat(""));
  EXPECT_FALSE(parse_proc_stat("4242 (x S 1 2 3"));                      // no ')'
  EXPECT_FALSE(parse_proc_stat("4242 (x) S 1 4242 4242 0 -1 4194560"));  // too few fields
  std::string bad(kStat);
  bad.replace(bad.find("250"), 3, "2x0");  // utime not a number
  EXPECT_FALSE(parse_proc_stat(bad));
}

TEST(BootTimeParse, FindsTheBtimeLine) {
  EXPECT_EQ(parse_boot_time("cpu  1 2 3\nintr 5\nctxt 9\nbtime 1700000000\nprocesses 12\n"), 1700000000u);
  EXPECT_FALSE(parse_boot_time("cpu  1 2 3\nctxt 9\n"));
  EXPECT_FALSE(parse_boot_time("btime soon\n"));
}

std::map<std::string, prometheus::MetricFamily> by_name(
    const std::vector<prometheus::MetricFamily>& families) {
  std::map<std::string, prometheus::MetricFamily> named;
  for (const auto& family : families) named.emplace(family.name, family);
  return named;
}

TEST(ProcessFamilies, AreTheClientLibrariesNamesTypesAndUnits) {
  ProcessSample sample;
  sample.stat = parse_proc_stat(kStat);
  sample.boot_time_seconds = 1700000000;
  sample.open_fds = 12;
  sample.max_fds = 1048576;
  sample.ticks_per_second = 100;
  sample.page_size = 4096;
  const auto families = by_name(process_families(sample));
  ASSERT_EQ(families.size(), 6u);
  EXPECT_EQ(families.at("process_cpu_seconds_total").type, prometheus::MetricType::Counter);
  EXPECT_DOUBLE_EQ(families.at("process_cpu_seconds_total").metric.at(0).counter.value, 3.25);
  EXPECT_DOUBLE_EQ(families.at("process_open_fds").metric.at(0).gauge.value, 12);
  EXPECT_DOUBLE_EQ(families.at("process_max_fds").metric.at(0).gauge.value, 1048576);
  EXPECT_DOUBLE_EQ(families.at("process_virtual_memory_bytes").metric.at(0).gauge.value, 987654321);
  EXPECT_DOUBLE_EQ(families.at("process_resident_memory_bytes").metric.at(0).gauge.value, 2048.0 * 4096);
  EXPECT_DOUBLE_EQ(families.at("process_start_time_seconds").metric.at(0).gauge.value, 1700000000 + 1234.56);
  for (const char* gauge : {"process_open_fds", "process_max_fds", "process_virtual_memory_bytes",
                            "process_resident_memory_bytes", "process_start_time_seconds"}) {
    EXPECT_EQ(families.at(gauge).type, prometheus::MetricType::Gauge) << gauge;
  }
}

TEST(ProcessFamilies, LeaveOutWhatCouldNotBeRead) {
  ProcessSample sample;  // nothing read
  EXPECT_TRUE(process_families(sample).empty());
  sample.open_fds = 3;
  sample.stat = parse_proc_stat(kStat);  // no boot time: no start time
  const auto families = by_name(process_families(sample));
  EXPECT_TRUE(families.contains("process_open_fds"));
  EXPECT_TRUE(families.contains("process_cpu_seconds_total"));
  EXPECT_FALSE(families.contains("process_start_time_seconds"));
  EXPECT_FALSE(families.contains("process_max_fds"));
}

double gauge_of(const ProcessCollector& collector, const std::string& name) {
  const auto families = by_name(collector.Collect());
  const auto& family = families.at(name);
  return family.type == prometheus::MetricType::Counter ? family.metric.at(0).counter.value
                                                        : family.metric.at(0).gauge.value;
}

TEST(ProcessCollector, ReportsThisProcess) {
  const ProcessCollector collector;
  const auto families = by_name(collector.Collect());
  ASSERT_EQ(families.size(), 6u) << prometheus::TextSerializer().Serialize(collector.Collect());

  // Descriptors: opening ten more is seen by the next scrape; the limit is this process's soft limit.
  const double before = gauge_of(collector, "process_open_fds");
  std::vector<int> opened;
  for (int i = 0; i < 10; ++i) opened.push_back(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  EXPECT_EQ(gauge_of(collector, "process_open_fds"), before + 10);
  for (int fd : opened) ::close(fd);
  rlimit limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_cur != RLIM_INFINITY) {
    EXPECT_EQ(gauge_of(collector, "process_max_fds"), static_cast<double>(limit.rlim_cur));
  }

  // Started within the last hour, not in the future.
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const double started = gauge_of(collector, "process_start_time_seconds");
  EXPECT_LE(started, now + 1);
  EXPECT_GT(started, now - 3600);

  // Memory: touching 64 MiB raises the resident size by about that much.
  const double resident_before = gauge_of(collector, "process_resident_memory_bytes");
  EXPECT_GT(resident_before, 0);
  std::vector<char> touched(64 << 20, 1);
  EXPECT_GT(gauge_of(collector, "process_resident_memory_bytes"), resident_before + (48 << 20));
  EXPECT_GE(gauge_of(collector, "process_virtual_memory_bytes"),
            gauge_of(collector, "process_resident_memory_bytes"));

  // CPU: a busy half second counts.
  const double cpu_before = gauge_of(collector, "process_cpu_seconds_total");
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
  volatile std::uint64_t spin = 0;
  while (std::chrono::steady_clock::now() < until) spin = spin + touched[spin % touched.size()];
  EXPECT_GT(gauge_of(collector, "process_cpu_seconds_total"), cpu_before + 0.2);
}

TEST(ProcessCollector, WithoutProcReportsOnlyTheLimit) {
  const ProcessCollector collector("/nonexistent-proc");
  const auto families = by_name(collector.Collect());
  EXPECT_EQ(families.size(), 1u);
  EXPECT_TRUE(families.contains("process_max_fds"));
}

}  // namespace
}  // namespace ovalstream::metrics
