#pragma once
// Support of the hostile tests (tests/hostile/): what a test measures of the process under attack (RSS,
// peak RSS, threads, descriptors from /proc), /healthz timed, a sender that floods a socket without ever
// blocking, and `recorder serve` started on loopback ports. Every loop is bounded in count and time; every
// address is loopback.
// Thread safety: none, except HealthProbe, which runs its own thread.

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "recorder/support/recorder_process.hpp"

namespace ovalstream::hostile {

using namespace std::chrono_literals;

// Read from /proc/<pid>/status and /proc/<pid>/fd.
struct ProcessStats {
  std::uint64_t rss_kib = 0;       // VmRSS
  std::uint64_t peak_rss_kib = 0;  // VmHWM: the largest RSS since the process started
  std::uint64_t threads = 0;
  std::uint64_t descriptors = 0;
};
ProcessStats process_stats(pid_t pid);

// GET /healthz on `port` (loopback); how long the 200 took, nullopt when there was none within 1 s.
std::optional<std::chrono::milliseconds> healthz_latency(std::uint16_t port);

// Probes /healthz every `every` on its own thread until stopped; keeps the slowest answer and counts the
// probes that did not answer 200 within 1 s. Each probe is the faster of two attempts back to back, so a
// single scheduling hiccup of this 2-core machine's test thread is not taken for the server's.
class HealthProbe {
 public:
  explicit HealthProbe(std::uint16_t port, std::chrono::milliseconds every = 50ms);
  ~HealthProbe();
  HealthProbe(const HealthProbe&) = delete;
  HealthProbe& operator=(const HealthProbe&) = delete;
  // Stops the thread (idempotent).
  void stop();
  std::chrono::milliseconds slowest() const { return std::chrono::milliseconds(slowest_ms_.load()); }
  int probes() const { return probes_.load(); }
  int failures() const { return failures_.load(); }

 private:
  std::uint16_t port_;
  std::atomic<bool> stop_{false};
  std::atomic<std::int64_t> slowest_ms_{0};
  std::atomic<int> probes_{0};
  std::atomic<int> failures_{0};
  std::thread thread_;
};

// Sends `unit` over and over on `fd` without ever blocking, until `max_bytes` are sent or `duration` passed
// (whichever first); the bytes sent. Stops early when the peer closed.
std::uint64_t flood(int fd, std::string_view unit, std::uint64_t max_bytes,
                    std::chrono::milliseconds duration);

// `recorder serve` on loopback ports, recording into `directory`, with --create-stream. `prefix` runs it
// under another program (e.g. {"/usr/bin/prlimit", "--nofile=256:256"}). Throws when it does not start.
class RecorderServe {
 public:
  RecorderServe(const std::string& nats_url, const std::string& directory, std::vector<std::string> more = {},
                std::vector<std::string> prefix = {});
  ~RecorderServe();
  RecorderServe(const RecorderServe&) = delete;
  RecorderServe& operator=(const RecorderServe&) = delete;
  std::uint16_t api_port() const { return api_port_; }
  std::uint16_t metrics_port() const { return metrics_port_; }
  pid_t pid() const;
  std::string log_tail(std::size_t bytes = 6000) const;
  std::string scrape() const;
  std::optional<double> metric(const std::string& series) const;

 private:
  std::unique_ptr<ovalstream::testing::ChildProcess> child_;
  std::string temp_dir_;
  std::uint16_t api_port_ = 0;
  std::uint16_t metrics_port_ = 0;
};

// Writes a recording of at least `min_bytes` at `path` (the example competition's lines over and over,
// directories created).
void write_large_recording(const std::string& path, std::uint64_t min_bytes);

}  // namespace ovalstream::hostile
