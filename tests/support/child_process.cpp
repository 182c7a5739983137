#include "support/child_process.hpp"

#include <fcntl.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <thread>

extern char** environ;

namespace ovalstream::testing {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string make_temp_dir(const char* prefix) {
  std::string pattern = (std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error(std::string("mkdtemp(): ") + std::strerror(errno));
  }
  return pattern;
}

pid_t spawn_child(const std::vector<std::string>& arguments, const std::string& output,
                  const std::vector<std::string>& environment) {
  std::vector<std::string> copy = arguments;
  std::vector<char*> argv;
  for (auto& argument : copy) argv.push_back(argument.data());
  argv.push_back(nullptr);
  // The child's environment, built before fork(): ours, less the names `environment` sets, plus those.
  std::vector<std::string> variables = environment;
  const auto overridden = [&environment](std::string_view entry) {
    const std::string_view name = entry.substr(0, entry.find('='));
    for (const std::string& own : environment) {
      if (std::string_view(own).substr(0, own.find('=')) == name) return true;
    }
    return false;
  };
  for (char** entry = environ; *entry != nullptr; ++entry) {
    if (!overridden(*entry)) variables.emplace_back(*entry);
  }
  std::vector<char*> envp;
  for (auto& variable : variables) envp.push_back(variable.data());
  envp.push_back(nullptr);
  const std::string out_path = output.empty() ? "/dev/null" : output;
  const char* out = out_path.c_str();
  const pid_t parent = ::getpid();
  const pid_t child = ::fork();
  if (child < 0) throw std::runtime_error(std::string("fork(): ") + std::strerror(errno));
  if (child == 0) {
    // Only async-signal-safe calls from here on.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    const int out_fd = ::open(out, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (out_fd >= 0) {
      ::dup2(out_fd, STDOUT_FILENO);
      ::dup2(out_fd, STDERR_FILENO);
      ::close(out_fd);
    }
    const int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) {
      ::dup2(null_fd, STDIN_FILENO);
      ::close(null_fd);
    }
    // Nor its descriptors: nats.c's sockets are not close-on-exec, and a child holding the test's NATS
    // connections keeps them open after the test closed them (and shows as connected where it is not).
    ::close_range(3, ~0U, 0);
    // The test's own signal dispositions must not leak into the child.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  return child;
}

std::optional<int> reap_child(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t reaped = ::waitpid(pid, &status, WNOHANG);
    if (reaped == pid) {
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
      return -1;
    }
    if (reaped < 0 && errno != EINTR) return -1;
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(5ms);
  }
}

bool poll_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds every) {
  const auto deadline = Clock::now() + timeout;
  while (!condition()) {
    if (Clock::now() >= deadline) return condition();
    std::this_thread::sleep_for(every);
  }
  return true;
}

std::vector<std::string> json_log_lines_with(const std::string& log, const std::string& message) {
  std::vector<std::string> lines;
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    rapidjson::Document document;
    document.Parse(line.data(), line.size());
    if (!document.IsObject() || !document.HasMember("msg") || !document["msg"].IsString()) continue;
    if (std::string_view(document["msg"].GetString()).find(message) != std::string_view::npos) {
      lines.push_back(line);
    }
  }
  return lines;
}

std::uint16_t logged_port(const std::string& log, const std::string& message) {
  for (const std::string& line : json_log_lines_with(log, message)) {
    rapidjson::Document document;
    document.Parse(line.data(), line.size());
    if (!document.IsObject() || !document.HasMember("address") || !document["address"].IsString()) continue;
    const std::string address = document["address"].GetString();
    const auto colon = address.rfind(':');
    if (colon == std::string::npos) continue;
    return static_cast<std::uint16_t>(std::atoi(address.c_str() + colon + 1));
  }
  return 0;
}

ChildProcess::ChildProcess(std::vector<std::string> argv, std::string log_path,
                           const std::vector<std::string>& environment)
    : log_path_(std::move(log_path)) {
  if (argv.empty() || ::access(argv[0].c_str(), X_OK) != 0) {
    throw std::runtime_error("executable not found: " + (argv.empty() ? std::string("(none)") : argv[0]));
  }
  pid_ = spawn_child(argv, log_path_, environment);
}

ChildProcess::~ChildProcess() {
  kill9();
}

bool ChildProcess::running() {
  if (pid_ <= 0) return false;
  if (auto code = reap_child(pid_, 0ms)) {
    exit_code_ = code;
    pid_ = -1;
    return false;
  }
  return true;
}

void ChildProcess::send_signal(int signal_number) {
  if (pid_ > 0) ::kill(pid_, signal_number);
}

std::optional<int> ChildProcess::wait_exit(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return exit_code_;
  if (auto code = reap_child(pid_, timeout)) {
    exit_code_ = code;
    pid_ = -1;
    return code;
  }
  return std::nullopt;
}

void ChildProcess::kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  exit_code_ = reap_child(pid_, 10s);
  pid_ = -1;
}

std::string ChildProcess::log() const {
  std::ifstream in(log_path_);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string ChildProcess::log_tail(std::size_t bytes) const {
  const std::string contents = log();
  return contents.size() > bytes ? contents.substr(contents.size() - bytes) : contents;
}

std::vector<std::string> ChildProcess::log_lines_with(const std::string& message) const {
  return json_log_lines_with(log(), message);
}

bool ChildProcess::wait_for_log(const std::string& message, std::chrono::milliseconds timeout) const {
  return poll_until([&] { return !log_lines_with(message).empty(); }, timeout, 20ms);
}

}  // namespace ovalstream::testing
