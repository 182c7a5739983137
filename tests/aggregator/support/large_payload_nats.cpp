#include "aggregator/support/large_payload_nats.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "aggregator/support/aggregator_process.hpp"
#include "ovalstream/runtime/unique_fd.hpp"
#include "support/nats_server.hpp"

namespace ovalstream::aggregator::itest {
namespace {

int free_loopback_port() {
  const runtime::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) throw std::runtime_error(std::string("socket(): ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    throw std::runtime_error("cannot find a free loopback port");
  }
  return ntohs(address.sin_port);
}

bool accepts(int port) {
  const runtime::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  return ::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

LargePayloadNatsServer::LargePayloadNatsServer(std::size_t max_payload) {
  const std::string executable = ovalstream::testing::NatsServerProcess::executable();
  if (executable.empty())
    throw std::runtime_error(ovalstream::testing::NatsServerProcess::unavailable_message());
  std::string pattern = (std::filesystem::temp_directory_path() / "ovalstream-itest-nats-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr)
    throw std::runtime_error(std::string("mkdtemp(): ") + std::strerror(errno));
  temp_dir_ = pattern;
  port_ = free_loopback_port();
  const std::string config_path = temp_dir_ + "/nats-server.conf";
  const std::string log_path = temp_dir_ + "/nats-server.log";
  {
    std::ofstream config(config_path);
    config << "listen: \"127.0.0.1:" << port_ << "\"\n"
           << "max_payload: " << max_payload << "\n"
           << "jetstream {\n  store_dir: \"" << temp_dir_ << "/store\"\n}\n";
  }
  // The server writes its log itself (-l), so no redirection is needed in the child.
  std::vector<std::string> arguments = {executable, "-js", "-c", config_path, "-l", log_path};
  std::vector<char*> argv;
  for (auto& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);
  const pid_t child = ::fork();
  if (child < 0) throw std::runtime_error(std::string("fork(): ") + std::strerror(errno));
  if (child == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  pid_ = child;
  if (!wait_until([&] { return accepts(port_); }, 10s, 20ms)) {
    const std::string log = read_file(log_path);
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
    std::error_code ignored;
    std::filesystem::remove_all(temp_dir_, ignored);
    throw std::runtime_error("nats-server (max_payload " + std::to_string(max_payload) +
                             ") did not start; log:\n" + log);
  }
}

LargePayloadNatsServer::~LargePayloadNatsServer() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    if (!wait_until([&] { return ::waitpid(pid_, nullptr, WNOHANG) == pid_; }, 10s, 10ms)) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  std::error_code ignored;
  std::filesystem::remove_all(temp_dir_, ignored);
}

std::string LargePayloadNatsServer::url() const {
  return "nats://127.0.0.1:" + std::to_string(port_);
}

}  // namespace ovalstream::aggregator::itest
