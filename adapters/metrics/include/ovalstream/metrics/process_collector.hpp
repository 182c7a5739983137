#pragma once
// The process metrics of the Prometheus client libraries (client_golang's process collector), which
// prometheus-cpp does not have, read from /proc/self when scraped:
//   process_cpu_seconds_total        counter  user and system CPU time spent, in seconds
//   process_open_fds                 gauge    open file descriptors
//   process_max_fds                  gauge    the soft limit of open file descriptors (RLIMIT_NOFILE)
//   process_virtual_memory_bytes     gauge    virtual memory size
//   process_resident_memory_bytes    gauge    resident set size
//   process_start_time_seconds       gauge    start time of the process since the Unix epoch
// A value that cannot be read (no /proc: not Linux, or a restricted sandbox) is left out of the scrape
// rather than reported as 0.
// Thread safety: Collect() may be called from any thread, concurrently; the parse functions are pure.

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ovalstream::metrics {

// The fields of /proc/<pid>/stat the collector uses, in the file's own units.
struct ProcStat {
  std::uint64_t user_ticks = 0;      // field 14, utime (clock ticks)
  std::uint64_t system_ticks = 0;    // field 15, stime
  std::uint64_t start_ticks = 0;     // field 22, starttime (clock ticks after boot)
  std::uint64_t virtual_bytes = 0;   // field 23, vsize (bytes)
  std::uint64_t resident_pages = 0;  // field 24, rss (pages)
};

// Parses the text of /proc/<pid>/stat. The command name (field 2) is in parentheses and may itself hold
// spaces and parentheses, so the fields are counted from its last ')'. nullopt when malformed.
std::optional<ProcStat> parse_proc_stat(std::string_view text);

// The boot time (the "btime" line of /proc/stat, Unix seconds). nullopt when absent or malformed.
std::optional<std::uint64_t> parse_boot_time(std::string_view proc_stat_text);

// What a scrape reports, computed from what was read (pure, for tests).
struct ProcessSample {
  std::optional<ProcStat> stat;
  std::optional<std::uint64_t> boot_time_seconds;
  std::optional<std::uint64_t> open_fds;
  std::optional<double> max_fds;  // +Inf when unlimited
  long ticks_per_second = 100;
  long page_size = 4096;
};
std::vector<prometheus::MetricFamily> process_families(const ProcessSample& sample);

class ProcessCollector final : public prometheus::Collectable {
 public:
  // Reads the boot time and the system constants once; `proc` is the /proc mount (tests may point it
  // elsewhere).
  explicit ProcessCollector(std::string proc = "/proc");

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::string proc_;
  std::optional<std::uint64_t> boot_time_seconds_;
  long ticks_per_second_;
  long page_size_;
};

}  // namespace ovalstream::metrics
