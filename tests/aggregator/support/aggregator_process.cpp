#include "aggregator/support/aggregator_process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "ovalstream/runtime/unique_fd.hpp"
#include "support/child_process.hpp"

namespace ovalstream::aggregator::itest {
namespace {

using Clock = std::chrono::steady_clock;

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// fork/exec, reaping and temp directories are shared with the recorder's tests (tests/support/child_process).
using testing::make_temp_dir;
pid_t spawn(const std::vector<std::string>& arguments, const std::string& output) {
  return testing::spawn_child(arguments, output);
}
std::optional<int> reap(pid_t pid, std::chrono::milliseconds timeout) {
  return testing::reap_child(pid, timeout);
}

runtime::UniqueFd connect_loopback(std::uint16_t port) {
  runtime::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return fd;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) return {};
  return fd;
}

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t written = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (written < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
  return true;
}

// Sends `request` and reads the response: the head, then Content-Length bytes or up to EOF.
HttpReply exchange(std::uint16_t port, const std::string& request, std::chrono::milliseconds timeout) {
  HttpReply reply;
  const runtime::UniqueFd connection = connect_loopback(port);
  if (!connection) return reply;
  const int fd = connection.get();
  const auto deadline = Clock::now() + timeout;
  std::string buffer;
  bool eof = false;
  auto fill = [&]() {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd poll_fd{fd, POLLIN, 0};
    if (::poll(&poll_fd, 1, static_cast<int>(left.count())) <= 0) return false;
    char chunk[16384];
    const ssize_t received = ::recv(fd, chunk, sizeof chunk, 0);
    if (received <= 0) {
      eof = true;
      return false;
    }
    buffer.append(chunk, static_cast<std::size_t>(received));
    return true;
  };
  if (write_all(fd, request)) {
    std::size_t head_end;
    while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos && fill()) {
    }
    if (head_end != std::string::npos) {
      reply.head = buffer.substr(0, head_end + 2);
      const std::string body = buffer.substr(head_end + 4);
      buffer = body;
      const int status = reply.head.size() >= 12 ? std::atoi(reply.head.c_str() + 9) : 0;
      const std::string length = reply.header("Content-Length");
      bool complete = false;
      if (status == 101) {
        complete = true;
      } else if (!length.empty()) {
        const std::size_t size = std::stoul(length);
        while (buffer.size() < size && fill()) {
        }
        complete = buffer.size() >= size;
        if (complete) buffer.resize(size);
      } else {
        while (fill()) {
        }
        complete = eof;
      }
      if (complete) {
        reply.status = status;
        reply.body = buffer;
      }
    }
  }
  return reply;
}

}  // namespace

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds every) {
  const auto deadline = Clock::now() + timeout;
  while (!condition()) {
    if (Clock::now() >= deadline) return condition();
    std::this_thread::sleep_for(every);
  }
  return true;
}

std::string AggregatorProcess::executable() {
  if (const char* path = std::getenv("OVALSTREAM_AGGREGATOR"); path && *path) return path;
#ifdef OVALSTREAM_BINARY_DIR
  return std::string(OVALSTREAM_BINARY_DIR) + "/aggregator/aggregator";
#else
  return "aggregator/aggregator";
#endif
}

AggregatorProcess::AggregatorProcess(AggregatorOptions options) : options_(std::move(options)) {
  temp_dir_ = make_temp_dir("ovalstream-aggregator");
  log_path_ = temp_dir_ + "/aggregator.log";
  try {
    start();
  } catch (...) {
    if (child_) child_->kill9();
    std::cerr << "aggregator log kept at " << log_path_ << "\n";
    throw;
  }
}

namespace {
AggregatorOptions options_for(const std::string& nats_url, std::vector<std::string> extra_args) {
  AggregatorOptions options;
  options.nats_url = nats_url;
  options.extra_args = std::move(extra_args);
  return options;
}
}  // namespace

AggregatorProcess::AggregatorProcess(const std::string& nats_url, std::vector<std::string> extra_args)
    : AggregatorProcess(options_for(nats_url, std::move(extra_args))) {}

AggregatorProcess::~AggregatorProcess() {
  if (child_) child_->kill9();
  if (::testing::Test::HasFailure()) {
    std::cerr << "---- aggregator log (" << log_path_ << "), last bytes ----\n"
              << log_tail() << "\n---- end of aggregator log ----\n";
  } else {
    std::error_code ignored;
    std::filesystem::remove_all(temp_dir_, ignored);
  }
}

void AggregatorProcess::start() {
  const std::string binary = executable();
  if (::access(binary.c_str(), X_OK) != 0) {
    throw std::runtime_error("aggregator executable not found at " + binary +
                             " (build the `aggregator` target)");
  }
  std::vector<std::string> arguments = {
      binary,          "start",         "--nats-url",  options_.nats_url,   "--stream",
      options_.stream, "--hub-address", "127.0.0.1:0", "--metrics-address", "127.0.0.1:0"};
  if (options_.create_stream) arguments.emplace_back("--create-stream");
  arguments.insert(arguments.end(), options_.extra_args.begin(), options_.extra_args.end());
  std::vector<std::string> environment = options_.environment;
  if (std::none_of(environment.begin(), environment.end(),
                   [](const std::string& entry) { return entry.starts_with("HOME="); })) {
    environment.push_back("HOME=" + temp_dir_);
  }
  child_ = std::make_unique<testing::ChildProcess>(arguments, log_path_, environment);

  const auto deadline = Clock::now() + options_.start_timeout;
  while (Clock::now() < deadline) {
    if (!running()) {
      throw std::runtime_error("aggregator exited during startup (code " +
                               std::to_string(child_->exit_code().value_or(-1)) + "); log:\n" + log_tail());
    }
    hub_port_ = testing::logged_port(log(), "serving websockets");
    metrics_port_ = testing::logged_port(log(), "serving metrics");
    if (hub_port_ != 0 && metrics_port_ != 0) return;
    std::this_thread::sleep_for(10ms);
  }
  throw std::runtime_error("aggregator did not start listening within " +
                           std::to_string(options_.start_timeout.count()) + " ms; log:\n" + log_tail());
}

std::string AggregatorProcess::websocket_url(const std::string& path, bool tls) const {
  return std::string(tls ? "wss" : "ws") + "://127.0.0.1:" + std::to_string(hub_port_) + path;
}

pid_t AggregatorProcess::pid() const noexcept {
  return child_ ? child_->pid() : -1;
}

bool AggregatorProcess::running() {
  return child_ && child_->running();
}

void AggregatorProcess::send_signal(int signal_number) {
  if (child_) child_->send_signal(signal_number);
}

std::optional<int> AggregatorProcess::wait_exit(std::chrono::milliseconds timeout) {
  return child_ ? child_->wait_exit(timeout) : std::nullopt;
}

void AggregatorProcess::kill9() {
  if (child_) child_->kill9();
}

std::string AggregatorProcess::log() const {
  return child_ ? child_->log() : std::string();
}

std::string AggregatorProcess::log_tail(std::size_t bytes) const {
  return child_ ? child_->log_tail(bytes) : std::string();
}

std::vector<std::string> AggregatorProcess::log_lines_with(const std::string& message) const {
  return testing::json_log_lines_with(log(), message);
}

bool AggregatorProcess::wait_for_log(const std::string& message, std::chrono::milliseconds timeout) const {
  return child_ && child_->wait_for_log(message, timeout);
}

std::string AggregatorProcess::scrape() const {
  const HttpReply reply = http_get(metrics_port_, "/metrics");
  return reply.status == 200 ? reply.body : std::string();
}

std::optional<double> AggregatorProcess::metric(const std::string& series) const {
  return metric_value(scrape(), series);
}

std::string HttpReply::header(const std::string& name) const {
  const std::string lower_head = lowercase(head);
  const std::string needle = "\r\n" + lowercase(name) + ":";
  const auto at = lower_head.find(needle);
  if (at == std::string::npos) return {};
  auto begin = at + needle.size();
  const auto end = head.find("\r\n", begin);
  while (begin < end && head[begin] == ' ') ++begin;
  return head.substr(begin, end - begin);
}

HttpReply http_get(std::uint16_t port, const std::string& target, std::chrono::milliseconds timeout) {
  return exchange(port, "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                  timeout);
}

HttpReply http_request(std::uint16_t port, const std::string& method, const std::string& target,
                       const std::string& body, std::chrono::milliseconds timeout) {
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  if (!body.empty()) {
    request += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  return exchange(port, request + "\r\n" + body, timeout);
}

HttpReply upgrade_request(std::uint16_t port, const std::string& target, std::chrono::milliseconds timeout) {
  return exchange(port,
                  "GET " + target +
                      " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                  timeout);
}

HttpReply http_request_with(std::uint16_t port, const std::string& method, const std::string& target,
                            const std::string& header_lines, const std::string& body,
                            std::chrono::milliseconds timeout) {
  std::string request =
      method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + header_lines;
  if (!body.empty()) request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return exchange(port, request + "\r\n" + body, timeout);
}

HttpReply upgrade_request_with(std::uint16_t port, const std::string& target, const std::string& header_lines,
                               std::chrono::milliseconds timeout) {
  return exchange(port,
                  "GET " + target +
                      " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
                      header_lines + "\r\n",
                  timeout);
}

std::optional<double> metric_value(const std::string& scrape, const std::string& series) {
  std::istringstream in(scrape);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ') {
      return std::strtod(line.c_str() + series.size() + 1, nullptr);
    }
  }
  return std::nullopt;
}

TempDir::TempDir() : path_(make_temp_dir("ovalstream-itest")) {}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::optional<int> run_program(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  if (argv.empty() || ::access(argv[0].c_str(), X_OK) != 0) return std::nullopt;
  const pid_t pid = spawn(argv, "");
  if (auto code = reap(pid, timeout)) return code;
  ::kill(pid, SIGKILL);
  reap(pid, 5s);
  return std::nullopt;
}

}  // namespace ovalstream::aggregator::itest
