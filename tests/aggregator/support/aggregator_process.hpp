#pragma once
// Integration-test support: the real `aggregator` executable as a child process (fork + exec, no shell),
// listening on loopback ports the kernel chose (--hub-address/--metrics-address 127.0.0.1:0, the bound ports
// read from its "serving ..." log lines), its stdout and stderr captured in a log file. Plus the small HTTP
// and metrics helpers the integration tests share. Every wait is bounded.
// The child dies with the test process (PR_SET_PDEATHSIG); the destructor kills it (SIGKILL) if it still
// runs, and prints the end of its log when the test failed.
// Thread safety: none; one test thread drives an AggregatorProcess.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ovalstream::testing {
class ChildProcess;
}

namespace ovalstream::aggregator::itest {

using namespace std::chrono_literals;

// Polls `condition` every `every` until it holds or `timeout` passes; returns its last value.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds every = 10ms);

struct AggregatorOptions {
  std::string nats_url;
  std::string stream = "VANTAGE";
  bool create_stream = false;
  // More flags, e.g. {"--max-connections", "2"}.
  std::vector<std::string> extra_args;
  // Environment variables ("NAME=value") set over the test's. HOME is the process's temporary directory
  // unless set here, so that no $HOME/.aggregator.yaml of the machine's user is read.
  std::vector<std::string> environment;
  // How long the constructor waits for both listeners to be up.
  std::chrono::milliseconds start_timeout = 15s;
};

class AggregatorProcess {
 public:
  // ${OVALSTREAM_BINARY_DIR}/aggregator/aggregator (OVALSTREAM_AGGREGATOR overrides it).
  static std::string executable();

  // Starts the process and waits until it serves websockets and metrics. Throws std::runtime_error (with
  // the end of its log) when it exits or does not listen within options.start_timeout.
  explicit AggregatorProcess(AggregatorOptions options);
  // The common case: the stream exists already (no --create-stream), more flags in `extra_args`.
  explicit AggregatorProcess(const std::string& nats_url, std::vector<std::string> extra_args = {});
  ~AggregatorProcess();
  AggregatorProcess(const AggregatorProcess&) = delete;
  AggregatorProcess& operator=(const AggregatorProcess&) = delete;

  std::uint16_t hub_port() const noexcept { return hub_port_; }
  std::uint16_t metrics_port() const noexcept { return metrics_port_; }
  // "ws://127.0.0.1:<hub port><path>" (or wss:// when `tls`).
  std::string websocket_url(const std::string& path, bool tls = false) const;
  pid_t pid() const noexcept;
  bool running();  // reaps the child if it exited

  void send_signal(int signal_number);
  // Waits for the child to exit; its exit code (or 128 + signal), nullopt on timeout.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  // SIGKILL and wait.
  void kill9();

  const std::string& log_path() const noexcept { return log_path_; }  // kept when the test failed
  std::string log() const;
  std::string log_tail(std::size_t bytes = 6000) const;
  // The log's lines (each a JSON object) whose "msg" contains `message`.
  std::vector<std::string> log_lines_with(const std::string& message) const;
  bool wait_for_log(const std::string& message, std::chrono::milliseconds timeout) const;

  // GET http://127.0.0.1:<metrics port>/metrics; "" on failure.
  std::string scrape() const;
  // A sample of /metrics, e.g. metric("ovalstream_events_rejected_total{reason=\"not_json\"}"); nullopt when
  // absent.
  std::optional<double> metric(const std::string& series) const;

 private:
  void start();

  AggregatorOptions options_;
  std::string temp_dir_;
  std::string log_path_;
  std::unique_ptr<testing::ChildProcess> child_;
  std::uint16_t hub_port_ = 0;
  std::uint16_t metrics_port_ = 0;
};

// A plain HTTP/1.1 exchange on a fresh loopback socket ("Connection: close"), bounded by `timeout`.
struct HttpReply {
  int status = 0;  // 0: no (complete) response
  std::string head;
  std::string body;
  std::string header(const std::string& name) const;  // case-insensitive; "" when absent
};
HttpReply http_get(std::uint16_t port, const std::string& target, std::chrono::milliseconds timeout = 5s);
// Any method, with a body (sent with Content-Length when not empty).
HttpReply http_request(std::uint16_t port, const std::string& method, const std::string& target,
                       const std::string& body = "", std::chrono::milliseconds timeout = 5s);
// A websocket upgrade request (RFC 6455 sample key); the response head and body. A 101 is returned as is and
// the socket closed.
HttpReply upgrade_request(std::uint16_t port, const std::string& target,
                          std::chrono::milliseconds timeout = 5s);
// Any request with `header_lines` ("Name: value\r\n" each; no Content-Type is added) and a body (with its
// Content-Length when not empty).
HttpReply http_request_with(std::uint16_t port, const std::string& method, const std::string& target,
                            const std::string& header_lines, const std::string& body = "",
                            std::chrono::milliseconds timeout = 5s);
// upgrade_request() with `header_lines` added (e.g. "Authorization: Bearer ...\r\n").
HttpReply upgrade_request_with(std::uint16_t port, const std::string& target, const std::string& header_lines,
                               std::chrono::milliseconds timeout = 5s);

// The value of `series` (name with its labels, exactly as exposed) in a Prometheus text scrape.
std::optional<double> metric_value(const std::string& scrape, const std::string& series);

// A scratch directory removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
};

// Runs `argv` (argv[0] an absolute path) without a shell, output to /dev/null; its exit code, or nullopt when
// it could not start or ran past `timeout` (then it is killed).
std::optional<int> run_program(const std::vector<std::string>& argv, std::chrono::milliseconds timeout);

}  // namespace ovalstream::aggregator::itest
