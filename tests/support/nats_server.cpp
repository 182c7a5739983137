#include "support/nats_server.hpp"

#include "support/child_process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

extern char** environ;

namespace ovalstream::testing {
namespace {

using Clock = std::chrono::steady_clock;

bool is_executable(const std::string& path) {
  struct stat info {};
  return !path.empty() && ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
         ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

std::string find_nats_server() {
  if (const char* explicit_path = std::getenv("OVALSTREAM_NATS_SERVER"); explicit_path && *explicit_path) {
    return is_executable(explicit_path) ? explicit_path : "";
  }
  std::vector<std::string> directories;
  if (const char* path = std::getenv("PATH")) {
    std::stringstream entries(path);
    std::string entry;
    while (std::getline(entries, entry, ':')) {
      if (!entry.empty()) directories.push_back(entry);
    }
  }
  // Debian installs nats-server under /usr/sbin, which is not on every user's PATH.
  for (const char* extra : {"/usr/sbin", "/usr/local/sbin", "/usr/local/bin", "/usr/bin"}) {
    directories.emplace_back(extra);
  }
  for (const auto& directory : directories) {
    const std::string candidate = directory + "/nats-server";
    if (is_executable(candidate)) return candidate;
  }
  return "";
}

int reserve_free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket(): ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    const int error = errno;
    ::close(fd);
    throw std::runtime_error(std::string("cannot reserve a loopback port: ") + std::strerror(error));
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

bool accepts_loopback_connections(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool connected = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return connected;
}

bool NatsServerProcess::available() {
  return !find_nats_server().empty();
}

std::string NatsServerProcess::executable() {
  return find_nats_server();
}

std::string NatsServerProcess::unavailable_message() {
  return "nats-server not found (install it, put it on PATH, or set OVALSTREAM_NATS_SERVER): skipping a "
         "test that needs a real NATS JetStream server";
}

NatsServerProcess::NatsServerProcess(NatsServerOptions options)
    : options_(options), executable_(find_nats_server()) {
  if (executable_.empty()) throw std::runtime_error(unavailable_message());

  std::string pattern = (std::filesystem::temp_directory_path() / "ovalstream-nats-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error(std::string("mkdtemp(): ") + std::strerror(errno));
  }
  temp_dir_ = pattern;
  store_dir_ = temp_dir_ + "/store";
  config_path_ = temp_dir_ + "/nats-server.conf";
  log_path_ = temp_dir_ + "/nats-server.log";

  try {
    std::filesystem::create_directory(store_dir_);
    port_ = reserve_free_loopback_port();
    if (options_.websocket) websocket_port_ = reserve_free_loopback_port();

    std::ofstream config(config_path_);
    config << "listen: \"127.0.0.1:" << port_ << "\"\n"
           << "jetstream {\n  store_dir: \"" << store_dir_ << "\"\n}\n";
    if (options_.tls) {
      // A handshake on a loaded test machine may take longer than the default half second.
      config << "tls {\n  cert_file: \"" << options_.tls->cert_file << "\"\n  key_file: \""
             << options_.tls->key_file << "\"\n  ca_file: \"" << options_.tls->ca_file
             << "\"\n  verify: " << (options_.tls->verify ? "true" : "false") << "\n  timeout: 5\n}\n";
    }
    if (options_.websocket) {
      config << "websocket {\n  listen: \"127.0.0.1:" << websocket_port_ << "\"\n  no_tls: true\n}\n";
    }
    config.close();
    if (!config) throw std::runtime_error("cannot write " + config_path_);

    start();
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove_all(temp_dir_, ignored);
    throw;
  }
}

NatsServerProcess::~NatsServerProcess() {
  try {
    stop();
  } catch (...) {
    // A destructor must not throw; the child got SIGKILL in signal_and_wait() if it lingered.
  }
  std::error_code ignored;
  std::filesystem::remove_all(temp_dir_, ignored);
}

std::string NatsServerProcess::url() const {
  return "nats://127.0.0.1:" + std::to_string(port_);
}

std::string NatsServerProcess::websocket_url() const {
  return websocket_port_ == 0 ? "" : "ws://127.0.0.1:" + std::to_string(websocket_port_);
}

void NatsServerProcess::start() {
  // Dies with the test process, so a crashed or killed test leaves no server behind.
  pid_ = spawn_child({executable_, "-js", "-c", config_path_}, log_path_);
  wait_until_accepting();
}

void NatsServerProcess::wait_until_accepting() {
  const auto deadline = Clock::now() + options_.start_timeout;
  while (Clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("nats-server exited during startup (status " + std::to_string(status) +
                               "); log:\n" + log_tail());
    }
    if (accepts_loopback_connections(port_) &&
        (websocket_port_ == 0 || accepts_loopback_connections(websocket_port_)))
      return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const std::string tail = log_tail();
  signal_and_wait(SIGKILL, std::chrono::milliseconds(5'000));
  throw std::runtime_error("nats-server did not accept connections on 127.0.0.1:" + std::to_string(port_) +
                           " within " + std::to_string(options_.start_timeout.count()) + " ms; log:\n" +
                           tail);
}

void NatsServerProcess::signal_and_wait(int signal_number, std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return;
  ::kill(pid_, signal_number);
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t reaped = ::waitpid(pid_, &status, WNOHANG);
    if (reaped == pid_ || (reaped < 0 && errno == ECHILD)) {
      pid_ = -1;
      return;
    }
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // Lingered past the bound: SIGKILL cannot be ignored, so this wait ends.
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

void NatsServerProcess::stop() {
  signal_and_wait(SIGTERM, std::chrono::milliseconds(10'000));
}

void NatsServerProcess::kill9() {
  signal_and_wait(SIGKILL, std::chrono::milliseconds(5'000));
}

void NatsServerProcess::restart() {
  stop();
  start();
}

std::string NatsServerProcess::log_tail() const {
  std::ifstream log(log_path_);
  std::string contents((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  constexpr std::size_t kTailBytes = 4000;
  return contents.size() > kTailBytes ? contents.substr(contents.size() - kTailBytes) : contents;
}

}  // namespace ovalstream::testing
