#pragma once
// Test support: a real executable as a child process (fork + exec, no shell), its stdout and stderr appended
// to a log file, with bounded waits for its exit and for its JSON-lines log. The child dies with the test
// process (PR_SET_PDEATHSIG). Shared by the aggregator's and the recorder's integration tests.
// Thread safety: none; one test thread drives a ChildProcess.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ovalstream::testing {

// A fresh directory under the system temp dir ("<prefix>-XXXXXX"); throws std::runtime_error on failure.
std::string make_temp_dir(const char* prefix);

// fork + exec of `argv` (argv[0] an absolute path) with stdout and stderr appended to `output` ("" =
// /dev/null) and stdin from /dev/null, in this process's environment with `environment` ("NAME=value"
// entries) set over it. Throws std::runtime_error when fork() fails.
pid_t spawn_child(const std::vector<std::string>& argv, const std::string& output,
                  const std::vector<std::string>& environment = {});

// Waits up to `timeout` for `pid`; its exit code (or 128 + signal) once reaped, nullopt on timeout.
std::optional<int> reap_child(pid_t pid, std::chrono::milliseconds timeout);

// Polls `condition` every `every` until it holds or `timeout` passes; returns its last value.
bool poll_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds every = std::chrono::milliseconds(10));

// The lines of a JSON-lines log whose "msg" contains `message` (lines that are not JSON objects are skipped).
std::vector<std::string> json_log_lines_with(const std::string& log, const std::string& message);

// The port of the "address" field ("host:port") of the first JSON log line whose "msg" contains `message`,
// for executables listening on port 0 that log the bound address; 0 when there is no such line.
std::uint16_t logged_port(const std::string& log, const std::string& message);

class ChildProcess {
 public:
  // Starts `argv` with its output appended to `log_path` and `environment` ("NAME=value") set over this
  // process's environment. Throws std::runtime_error when argv[0] is not an executable file or fork() fails.
  ChildProcess(std::vector<std::string> argv, std::string log_path,
               const std::vector<std::string>& environment = {});
  // SIGKILL and reap when still running.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const noexcept { return pid_; }
  bool running();  // reaps the child if it exited
  void send_signal(int signal_number);
  // Waits for the exit; the exit code (or 128 + signal), nullopt on timeout. After the exit it returns the
  // same code again.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  // SIGKILL and wait (bounded).
  void kill9();
  std::optional<int> exit_code() const noexcept { return exit_code_; }

  const std::string& log_path() const noexcept { return log_path_; }
  std::string log() const;
  std::string log_tail(std::size_t bytes = 6000) const;
  std::vector<std::string> log_lines_with(const std::string& message) const;
  bool wait_for_log(const std::string& message, std::chrono::milliseconds timeout) const;

 private:
  std::string log_path_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

}  // namespace ovalstream::testing
