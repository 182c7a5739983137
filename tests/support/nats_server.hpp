#pragma once
// Test support: a real `nats-server` with JetStream, on a random loopback port and a fresh temporary store,
// started as a child process (fork + exec, no shell). Tests use it to exercise the NATS adapter against the
// real protocol, including "kill -9 mid-stream, then restart on the same store".
// The server dies with the test process (PR_SET_PDEATHSIG), so a crashed test leaves no server behind.
// Thread safety: none; one test thread drives a NatsServerProcess.

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>

namespace ovalstream::testing {

// A loopback port the kernel considers free right now (another process could take it before a server binds;
// rare enough on a test machine, and a server that cannot bind says so in its log).
int reserve_free_loopback_port();
// True when something accepts TCP connections on 127.0.0.1:port.
bool accepts_loopback_connections(int port);
// The nats-server executable (OVALSTREAM_NATS_SERVER, PATH, /usr/sbin, ...), or "" when none was found.
std::string find_nats_server();

// A `tls { ... }` block: every client connection must use TLS with this server certificate (PEM files, e.g.
// from TestCertificates). With `verify`, clients must also present a certificate signed by `ca_file`.
struct NatsServerTls {
  std::string cert_file;
  std::string key_file;
  std::string ca_file;
  bool verify = false;
};

struct NatsServerOptions {
  // Also listen for websocket clients (`websocket { no_tls: true }`) on another random port; for benchmarks.
  bool websocket = false;
  // Require TLS from clients (nullopt: plain connections, as by default).
  std::optional<NatsServerTls> tls;
  // How long start() and restart() wait for the server to accept TCP connections.
  std::chrono::milliseconds start_timeout{10'000};
};

class NatsServerProcess {
 public:
  // True when a nats-server executable was found (OVALSTREAM_NATS_SERVER, PATH, /usr/sbin, ...).
  static bool available();
  // The executable's path, or "" when none was found.
  static std::string executable();
  // A GTEST_SKIP() message for a missing nats-server.
  static std::string unavailable_message();

  // Starts the server and waits until it accepts connections. Throws std::runtime_error (with the end of
  // the server's log) when it cannot start within options.start_timeout.
  explicit NatsServerProcess(NatsServerOptions options = {});
  // Stops the server (SIGTERM, then SIGKILL if it lingers) and removes the temporary directory.
  ~NatsServerProcess();

  NatsServerProcess(const NatsServerProcess&) = delete;
  NatsServerProcess& operator=(const NatsServerProcess&) = delete;

  // "nats://127.0.0.1:<port>" (also with NatsServerOptions::tls: the client upgrades once the server says
  // TLS is required); stays the same across restart().
  std::string url() const;
  int port() const noexcept { return port_; }
  // "ws://127.0.0.1:<port>" and its port; only with NatsServerOptions::websocket (else "" and 0).
  std::string websocket_url() const;
  int websocket_port() const noexcept { return websocket_port_; }
  // The JetStream store directory; stays the same across restart().
  const std::string& store_dir() const noexcept { return store_dir_; }
  bool running() const noexcept { return pid_ > 0; }
  pid_t pid() const noexcept { return pid_; }

  // Graceful stop: SIGTERM and a bounded wait (then SIGKILL). No-op when not running.
  void stop();
  // Abrupt death: SIGKILL and wait. No-op when not running.
  void kill9();
  // Starts again on the same ports and the same store (stopping first if still running).
  void restart();

 private:
  void start();
  void wait_until_accepting();
  void signal_and_wait(int signal_number, std::chrono::milliseconds timeout);
  std::string log_tail() const;

  NatsServerOptions options_;
  std::string executable_;
  std::string temp_dir_;
  std::string store_dir_;
  std::string config_path_;
  std::string log_path_;
  int port_ = 0;
  int websocket_port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace ovalstream::testing
