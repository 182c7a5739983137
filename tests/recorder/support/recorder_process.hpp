#pragma once
// Integration-test support: the real `recorder` executable as a child process (fork + exec, no shell), its
// stdout and stderr captured in a log file in a temporary directory of its own. Every wait is bounded.
// The child dies with the test process; the destructor kills it (SIGKILL) if it still runs and prints the end
// of its log when the test failed.
// Thread safety: none; one test thread drives a RecorderProcess.

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ovalstream::testing {
class ChildProcess;
}

namespace ovalstream::recorder::itest {

using namespace std::chrono_literals;

class RecorderProcess {
 public:
  // ${OVALSTREAM_BINARY_DIR}/recorder/recorder (OVALSTREAM_RECORDER overrides it).
  static std::string executable();

  // Starts `recorder <args...>` (args after the executable, e.g. {"record", "--file", f, "--nats-url", u})
  // with `environment` ("NAME=value") set over the test's. HOME is the process's temporary directory
  // unless `environment` sets it, so that no $HOME/.eventrecorder.yaml of the machine's user is read.
  // Returns at once; use wait_for_log() to wait for it to be ready. Throws std::runtime_error when the
  // executable is missing.
  explicit RecorderProcess(std::vector<std::string> args, std::vector<std::string> environment = {});
  ~RecorderProcess();
  RecorderProcess(const RecorderProcess&) = delete;
  RecorderProcess& operator=(const RecorderProcess&) = delete;

  pid_t pid() const noexcept;
  bool running();  // reaps the child if it exited
  void send_signal(int signal_number);
  // Waits for the child to exit; its exit code (or 128 + signal), nullopt on timeout.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  // SIGKILL and wait.
  void kill9();

  const std::string& log_path() const noexcept;
  // Everything the process wrote (stdout and stderr).
  std::string log() const;
  std::string log_tail(std::size_t bytes = 6000) const;
  // The log's JSON lines whose "msg" contains `message`.
  std::vector<std::string> log_lines_with(const std::string& message) const;
  // Waits until a JSON log line's "msg" contains `message`.
  bool wait_for_log(const std::string& message, std::chrono::milliseconds timeout) const;

 private:
  std::string temp_dir_;
  std::unique_ptr<testing::ChildProcess> child_;
};

// Runs `recorder <args...>` to its end: the exit code (nullopt when it ran past `timeout` and was killed)
// and everything it wrote.
struct RecorderRun {
  std::optional<int> exit_code;
  std::string output;
};
RecorderRun run_recorder(std::vector<std::string> args, std::chrono::milliseconds timeout = 30s,
                         std::vector<std::string> environment = {});

// The event bytes of each line of a recording file (without "_time"); a line that does not read is kept as
// "<bad line: ...>" so comparisons show it.
std::vector<std::string> recorded_events(const std::string& path);

}  // namespace ovalstream::recorder::itest
