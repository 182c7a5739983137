#include "ovalstream/metrics/process_collector.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

namespace ovalstream::metrics {
namespace {

std::optional<std::uint64_t> parse_unsigned(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::optional<std::string> read_small_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return std::nullopt;
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) return std::nullopt;
  return std::move(text).str();
}

std::optional<std::uint64_t> count_open_fds(const std::string& directory) {
  std::error_code error;
  std::filesystem::directory_iterator it(directory, error);
  if (error) return std::nullopt;
  std::uint64_t count = 0;
  // The directory's own descriptor is counted too, as the client libraries do.
  for (const std::filesystem::directory_iterator end; it != end; it.increment(error)) {
    if (error) return std::nullopt;
    ++count;
  }
  return count;
}

std::optional<double> soft_descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return std::nullopt;
  if (limit.rlim_cur == RLIM_INFINITY) return std::numeric_limits<double>::infinity();
  return static_cast<double>(limit.rlim_cur);
}

prometheus::MetricFamily family(const char* name, const char* help, prometheus::MetricType type,
                                double value) {
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  return prometheus::MetricFamily{name, help, type, {std::move(metric)}};
}

}  // namespace

std::optional<ProcStat> parse_proc_stat(std::string_view text) {
  const std::size_t close = text.rfind(')');
  if (close == std::string_view::npos || text.find('(') > close) return std::nullopt;
  // Fields from 3 (state) on, separated by single spaces; field n is fields[n - 3].
  std::vector<std::string_view> fields;
  std::string_view rest = text.substr(close + 1);
  while (!rest.empty()) {
    const std::size_t start = rest.find_first_not_of(" \n");
    if (start == std::string_view::npos) break;
    rest.remove_prefix(start);
    const std::size_t end = rest.find_first_of(" \n");
    fields.push_back(rest.substr(0, end));
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
  }
  if (fields.size() < 24 - 2) return std::nullopt;
  const auto field = [&](int number) { return parse_unsigned(fields[static_cast<std::size_t>(number - 3)]); };
  const auto user = field(14), system = field(15), start = field(22), virtual_bytes = field(23),
             resident = field(24);
  if (!user || !system || !start || !virtual_bytes || !resident) return std::nullopt;
  return ProcStat{*user, *system, *start, *virtual_bytes, *resident};
}

std::optional<std::uint64_t> parse_boot_time(std::string_view text) {
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    constexpr std::string_view kPrefix = "btime ";
    if (line.substr(0, kPrefix.size()) == kPrefix) return parse_unsigned(line.substr(kPrefix.size()));
  }
  return std::nullopt;
}

std::vector<prometheus::MetricFamily> process_families(const ProcessSample& sample) {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> families;
  const double ticks = static_cast<double>(sample.ticks_per_second > 0 ? sample.ticks_per_second : 100);
  if (sample.stat) {
    const ProcStat& stat = *sample.stat;
    families.push_back(family("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                              MetricType::Counter,
                              static_cast<double>(stat.user_ticks + stat.system_ticks) / ticks));
  }
  if (sample.open_fds) {
    families.push_back(family("process_open_fds", "Number of open file descriptors.", MetricType::Gauge,
                              static_cast<double>(*sample.open_fds)));
  }
  if (sample.max_fds) {
    families.push_back(family("process_max_fds", "Maximum number of open file descriptors.",
                              MetricType::Gauge, *sample.max_fds));
  }
  if (sample.stat) {
    const ProcStat& stat = *sample.stat;
    families.push_back(family("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                              MetricType::Gauge, static_cast<double>(stat.virtual_bytes)));
    families.push_back(
        family("process_resident_memory_bytes", "Resident memory size in bytes.", MetricType::Gauge,
               static_cast<double>(stat.resident_pages) * static_cast<double>(sample.page_size)));
    if (sample.boot_time_seconds) {
      families.push_back(family(
          "process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
          MetricType::Gauge,
          static_cast<double>(*sample.boot_time_seconds) + static_cast<double>(stat.start_ticks) / ticks));
    }
  }
  return families;
}

ProcessCollector::ProcessCollector(std::string proc)
    : proc_(std::move(proc)), ticks_per_second_(::sysconf(_SC_CLK_TCK)), page_size_(::sysconf(_SC_PAGESIZE)) {
  if (const auto text = read_small_file(proc_ + "/stat")) boot_time_seconds_ = parse_boot_time(*text);
}

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  ProcessSample sample;
  if (const auto text = read_small_file(proc_ + "/self/stat")) sample.stat = parse_proc_stat(*text);
  sample.boot_time_seconds = boot_time_seconds_;
  sample.open_fds = count_open_fds(proc_ + "/self/fd");
  sample.max_fds = soft_descriptor_limit();
  sample.ticks_per_second = ticks_per_second_;
  sample.page_size = page_size_;
  return process_families(sample);
}

}  // namespace ovalstream::metrics
