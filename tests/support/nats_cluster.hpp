#pragma once
// Test support: a JetStream cluster of real nats-server processes on loopback (issue 18's fault tests and
// any later test that needs more than one server). Each node has its own client and route ports (random,
// chosen once), its own store dir and log, and one config file (`server_name`, `listen`,
// `cluster { name, listen, routes }`, `jetstream { store_dir }`), so a node can be killed (-9), stopped,
// paused (SIGSTOP/SIGCONT) and restarted on the same ports and store. Every wait is bounded.
// The processes die with the test process (PR_SET_PDEATHSIG). The destructor kills every node; when the
// test failed it keeps the directory (the logs and stores) and prints where it is with each log's tail.
// The JetStream helpers talk to the cluster through one admin connection to every node's URL.
// Thread safety: none; one test thread drives a NatsCluster.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ovalstream::nats {
class Connection;
}

namespace ovalstream::testing {

struct NatsClusterOptions {
  int size = 3;
  std::string cluster_name = "ovalstream-test";
  // How long start and restart wait for a node to accept connections.
  std::chrono::milliseconds start_timeout{15'000};
};

// A stream's place in the cluster, from $JS.API.STREAM.INFO.
struct StreamClusterState {
  bool exists = false;
  std::string leader;  // server name; "" while there is none
  struct Replica {
    std::string name;
    bool current = false;
    bool offline = false;
  };
  std::vector<Replica> replicas;  // the followers
  std::uint64_t messages = 0;
  std::uint64_t last_sequence = 0;
  std::int64_t created_ns = 0;
};

class NatsCluster {
 public:
  // Starts every node and waits until each accepts connections. Throws std::runtime_error (with the logs'
  // tails) when one cannot start, and when nats-server is missing (check NatsServerProcess::available()).
  explicit NatsCluster(NatsClusterOptions options = {});
  ~NatsCluster();
  NatsCluster(const NatsCluster&) = delete;
  NatsCluster& operator=(const NatsCluster&) = delete;

  int size() const noexcept { return static_cast<int>(nodes_.size()); }
  // "nats://127.0.0.1:<client port>" of node i; stays the same across restarts.
  std::string url(int node) const;
  // Every node's URL, comma-separated, starting with node `first` (the others follow as reconnect URLs).
  std::string urls(int first = 0) const;
  int client_port(int node) const;
  const std::string& server_name(int node) const;
  const std::string& log_path(int node) const;
  const std::string& directory() const noexcept { return directory_; }
  // The node called `server_name`, if any.
  std::optional<int> node_named(const std::string& server_name) const;
  bool running(int node) const;
  pid_t pid(int node) const;

  // SIGKILL and reap (no-op when not running).
  void kill9(int node);
  // SIGTERM and a bounded wait, then SIGKILL (no-op when not running).
  void stop(int node);
  // Starts a stopped or killed node on the same ports and store and waits until it accepts connections;
  // throws std::runtime_error when it does not.
  void restart(int node);
  // SIGSTOP / SIGCONT.
  void pause(int node);
  void resume(int node);

  // The node whose client port the process `pid` has an established TCP connection to (read from
  // /proc/<pid>/fd and /proc/net/tcp), or nullopt when it has none.
  std::optional<int> node_connected_to(pid_t pid) const;

  // --- JetStream, through the admin connection; each retries within `timeout` (elections take seconds).
  // Creates a file stream capturing `subjects` with `replicas` replicas; false (and `error`) on timeout.
  bool create_stream(const std::string& name, const std::vector<std::string>& subjects, int replicas,
                     std::chrono::milliseconds timeout, std::string* error = nullptr);
  bool delete_stream(const std::string& name, std::chrono::milliseconds timeout,
                     std::string* error = nullptr);
  // One attempt; nullopt when the cluster did not answer.
  std::optional<StreamClusterState> stream_state(const std::string& name);
  // The node leading the stream, waiting up to `timeout` for one to be elected.
  std::optional<int> stream_leader(const std::string& name, std::chrono::milliseconds timeout);
  // Waits until the stream has a leader and every replica is online and current.
  bool wait_stream_healthy(const std::string& name, std::chrono::milliseconds timeout);

  // The last `bytes` of every node's log, each under a header naming it.
  std::string log_tails(std::size_t bytes = 3000) const;

 private:
  struct Node;
  void start(Node& node);
  nats::Connection& admin();

  NatsClusterOptions options_;
  std::string executable_;
  std::string directory_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::unique_ptr<nats::Connection> admin_;
};

}  // namespace ovalstream::testing
