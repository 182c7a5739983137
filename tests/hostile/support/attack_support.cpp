#include "hostile/support/attack_support.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "aggregator/support/aggregator_process.hpp"
#include "support/child_process.hpp"

#ifndef OVALSTREAM_BINARY_DIR
#define OVALSTREAM_BINARY_DIR "."
#endif
#ifndef OVALSTREAM_SOURCE_DIR
#define OVALSTREAM_SOURCE_DIR "."
#endif

namespace ovalstream::hostile {

ProcessStats process_stats(pid_t pid) {
  ProcessStats stats;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    std::istringstream fields(line);
    std::string key;
    std::uint64_t value = 0;
    fields >> key >> value;
    if (key == "VmRSS:") stats.rss_kib = value;
    if (key == "VmHWM:") stats.peak_rss_kib = value;
    if (key == "Threads:") stats.threads = value;
  }
  std::error_code error;
  for (std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", error), end;
       !error && it != end; it.increment(error)) {
    ++stats.descriptors;
  }
  return stats;
}

std::optional<std::chrono::milliseconds> healthz_latency(std::uint16_t port) {
  const auto started = std::chrono::steady_clock::now();
  const auto reply = aggregator::itest::http_get(port, "/healthz", 1s);
  if (reply.status != 200) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
}

HealthProbe::HealthProbe(std::uint16_t port, std::chrono::milliseconds every) : port_(port) {
  thread_ = std::thread([this, every] {
    while (!stop_.load()) {
      auto latency = healthz_latency(port_);
      if (!latency || *latency > 100ms) {
        const auto again = healthz_latency(port_);
        if (again && (!latency || *again < *latency)) latency = again;
      }
      ++probes_;
      if (!latency) {
        ++failures_;
      } else if (latency->count() > slowest_ms_.load()) {
        slowest_ms_.store(latency->count());
      }
      std::this_thread::sleep_for(every);
    }
  });
}

HealthProbe::~HealthProbe() {
  stop();
}

void HealthProbe::stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

std::uint64_t flood(int fd, std::string_view unit, std::uint64_t max_bytes,
                    std::chrono::milliseconds duration) {
  std::string block;
  while (block.size() < 64 * 1024) block.append(unit);
  const auto deadline = std::chrono::steady_clock::now() + duration;
  std::uint64_t sent = 0;
  std::size_t offset = 0;  // into block, so the stream stays whole units
  while (sent < max_bytes && std::chrono::steady_clock::now() < deadline) {
    const ssize_t written =
        ::send(fd, block.data() + offset, block.size() - offset, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (written > 0) {
      sent += static_cast<std::uint64_t>(written);
      offset = (offset + static_cast<std::size_t>(written)) % block.size();
      continue;
    }
    if (written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      pollfd wait{fd, POLLOUT, 0};
      ::poll(&wait, 1, 10);
      continue;
    }
    break;  // closed by the peer
  }
  return sent;
}

RecorderServe::RecorderServe(const std::string& nats_url, const std::string& directory,
                             std::vector<std::string> more, std::vector<std::string> prefix) {
  temp_dir_ = ovalstream::testing::make_temp_dir("ovalstream-hostile-recorder");
  std::vector<std::string> argv = std::move(prefix);
  argv.push_back(recorder::itest::RecorderProcess::executable());
  for (const char* arg :
       {"serve", "--create-stream", "--address", "127.0.0.1:0", "--metrics-address", "127.0.0.1:0"}) {
    argv.emplace_back(arg);
  }
  argv.insert(argv.end(), {"--nats-url", nats_url, "--dir", directory});
  argv.insert(argv.end(), more.begin(), more.end());
  child_ = std::make_unique<ovalstream::testing::ChildProcess>(argv, temp_dir_ + "/recorder.log");
  // Bounded, and ends early when the process exits (a flag it does not know, a port in use).
  ovalstream::testing::poll_until(
      [&] { return !child_->running() || !child_->log_lines_with("recording every competition").empty(); },
      30s);
  if (!child_->running() || child_->log_lines_with("recording every competition").empty()) {
    throw std::runtime_error("recorder serve did not start: " + child_->log_tail());
  }
  api_port_ = ovalstream::testing::logged_port(child_->log(), "serving the recordings API");
  metrics_port_ = ovalstream::testing::logged_port(child_->log(), "serving metrics and health");
  if (api_port_ == 0 || metrics_port_ == 0)
    throw std::runtime_error("no ports logged: " + child_->log_tail());
}

RecorderServe::~RecorderServe() {
  child_.reset();  // SIGKILL and reap
  std::error_code ignored;
  std::filesystem::remove_all(temp_dir_, ignored);
}

pid_t RecorderServe::pid() const {
  return child_->pid();
}

std::string RecorderServe::log_tail(std::size_t bytes) const {
  return child_->log_tail(bytes);
}

std::string RecorderServe::scrape() const {
  return aggregator::itest::http_get(metrics_port_, "/metrics").body;
}

std::optional<double> RecorderServe::metric(const std::string& series) const {
  return aggregator::itest::metric_value(scrape(), series);
}

void write_large_recording(const std::string& path, std::uint64_t min_bytes) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ifstream example(std::string(OVALSTREAM_SOURCE_DIR) + "/examples/competition.jsonl", std::ios::binary);
  const std::string lines((std::istreambuf_iterator<char>(example)), std::istreambuf_iterator<char>());
  if (lines.empty()) throw std::runtime_error("examples/competition.jsonl is missing");
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  for (std::uint64_t written = 0; written < min_bytes; written += lines.size()) out << lines;
}

}  // namespace ovalstream::hostile
