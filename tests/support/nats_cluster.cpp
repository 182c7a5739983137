#include "support/nats_cluster.hpp"

#include <gtest/gtest.h>
#include <nats/nats.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "ovalstream/nats/connection.hpp"
#include "support/child_process.hpp"
#include "support/nats_server.hpp"

namespace ovalstream::testing {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct NatsCluster::Node {
  std::string name;
  std::string directory;
  std::string config_path;
  std::string log_path;
  int client_port = 0;
  int route_port = 0;
  pid_t pid = -1;
};

namespace {

std::string read_tail(const std::string& path, std::size_t bytes) {
  std::ifstream in(path);
  std::string contents((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return contents.size() > bytes ? contents.substr(contents.size() - bytes) : contents;
}

// Signals `pid` and reaps it within `timeout`, then SIGKILL (which cannot be ignored, so the last wait ends).
void signal_and_reap(pid_t& pid, int signal_number, std::chrono::milliseconds timeout) {
  if (pid <= 0) return;
  ::kill(pid, signal_number);
  if (!reap_child(pid, timeout)) {
    ::kill(pid, SIGCONT);  // a paused node must run to die of SIGTERM; SIGKILL works either way
    ::kill(pid, SIGKILL);
    (void)reap_child(pid, 10s);
  }
  pid = -1;
}

std::string status_text(natsStatus status, jsErrCode js_error) {
  std::string text = natsStatus_GetText(status);
  if (js_error != 0) text += " (JetStream error " + std::to_string(static_cast<int>(js_error)) + ")";
  const char* last = nats_GetLastError(nullptr);
  if (last != nullptr && *last != '\0') text += ": " + std::string(last);
  return text;
}

// The socket inodes the process holds open.
std::set<unsigned long> socket_inodes(pid_t pid) {
  std::set<unsigned long> inodes;
  std::error_code error;
  for (const auto& entry :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", error)) {
    std::error_code link_error;
    const std::string target = std::filesystem::read_symlink(entry.path(), link_error).string();
    if (!link_error && target.starts_with("socket:[")) inodes.insert(std::stoul(target.substr(8)));
  }
  return inodes;
}

}  // namespace

NatsCluster::NatsCluster(NatsClusterOptions options)
    : options_(std::move(options)), executable_(find_nats_server()) {
  if (executable_.empty()) throw std::runtime_error(NatsServerProcess::unavailable_message());
  if (options_.size < 1) throw std::runtime_error("a cluster needs at least one node");
  directory_ = make_temp_dir("ovalstream-cluster");
  for (int i = 0; i < options_.size; ++i) {
    auto node = std::make_unique<Node>();
    node->name = "n" + std::to_string(i);
    node->directory = directory_ + "/" + node->name;
    node->config_path = node->directory + "/nats-server.conf";
    node->log_path = node->directory + "/nats-server.log";
    node->client_port = reserve_free_loopback_port();
    node->route_port = reserve_free_loopback_port();
    std::filesystem::create_directories(node->directory + "/store");
    nodes_.push_back(std::move(node));
  }
  for (const auto& node : nodes_) {
    std::ofstream config(node->config_path);
    config << "server_name: \"" << node->name << "\"\n"
           << "listen: \"127.0.0.1:" << node->client_port << "\"\n"
           << "cluster {\n  name: \"" << options_.cluster_name
           << "\"\n  listen: \"127.0.0.1:" << node->route_port << "\"\n  routes: [\n";
    for (const auto& other : nodes_) {
      if (other != node) config << "    \"nats-route://127.0.0.1:" << other->route_port << "\"\n";
    }
    config << "  ]\n}\n"
           << "jetstream {\n  store_dir: \"" << node->directory << "/store\"\n  max_memory_store: 64MB\n"
           << "  max_file_store: 1GB\n}\n";
    if (!config) throw std::runtime_error("cannot write " + node->config_path);
  }
  try {
    for (const auto& node : nodes_)
      node->pid = spawn_child({executable_, "-c", node->config_path}, node->log_path);
    for (const auto& node : nodes_) start(*node);
  } catch (...) {
    for (const auto& node : nodes_) signal_and_reap(node->pid, SIGKILL, 5s);
    std::cerr << "nats cluster kept at " << directory_ << "\n";
    throw;
  }
}

NatsCluster::~NatsCluster() {
  admin_.reset();
  for (const auto& node : nodes_) {
    if (node->pid > 0) ::kill(node->pid, SIGCONT);
    signal_and_reap(node->pid, SIGKILL, 5s);
  }
  if (::testing::Test::HasFailure()) {
    std::cerr << "---- nats cluster kept at " << directory_ << " (logs: <node>/nats-server.log) ----\n"
              << log_tails(1500);
  } else {
    std::error_code ignored;
    std::filesystem::remove_all(directory_, ignored);
  }
}

// Waits until the already spawned node accepts connections.
void NatsCluster::start(Node& node) {
  const auto deadline = Clock::now() + options_.start_timeout;
  while (Clock::now() < deadline) {
    if (reap_child(node.pid, 0ms)) {
      node.pid = -1;
      throw std::runtime_error("nats-server " + node.name + " exited during startup; log:\n" +
                               read_tail(node.log_path, 3000));
    }
    if (accepts_loopback_connections(node.client_port)) return;
    std::this_thread::sleep_for(20ms);
  }
  throw std::runtime_error("nats-server " + node.name + " did not accept connections within " +
                           std::to_string(options_.start_timeout.count()) + " ms; log:\n" +
                           read_tail(node.log_path, 3000));
}

std::string NatsCluster::url(int node) const {
  return "nats://127.0.0.1:" + std::to_string(client_port(node));
}

std::string NatsCluster::urls(int first) const {
  std::string list;
  for (int k = 0; k < size(); ++k) {
    if (!list.empty()) list += ",";
    list += url((first + k) % size());
  }
  return list;
}

int NatsCluster::client_port(int node) const {
  return nodes_.at(static_cast<std::size_t>(node))->client_port;
}

const std::string& NatsCluster::server_name(int node) const {
  return nodes_.at(static_cast<std::size_t>(node))->name;
}

const std::string& NatsCluster::log_path(int node) const {
  return nodes_.at(static_cast<std::size_t>(node))->log_path;
}

std::optional<int> NatsCluster::node_named(const std::string& server_name) const {
  for (int i = 0; i < size(); ++i) {
    if (nodes_[static_cast<std::size_t>(i)]->name == server_name) return i;
  }
  return std::nullopt;
}

bool NatsCluster::running(int node) const {
  return nodes_.at(static_cast<std::size_t>(node))->pid > 0;
}

pid_t NatsCluster::pid(int node) const {
  return nodes_.at(static_cast<std::size_t>(node))->pid;
}

void NatsCluster::kill9(int node) {
  signal_and_reap(nodes_.at(static_cast<std::size_t>(node))->pid, SIGKILL, 5s);
}

void NatsCluster::stop(int node) {
  signal_and_reap(nodes_.at(static_cast<std::size_t>(node))->pid, SIGTERM, 15s);
}

void NatsCluster::restart(int node_index) {
  Node& node = *nodes_.at(static_cast<std::size_t>(node_index));
  if (node.pid > 0) stop(node_index);
  node.pid = spawn_child({executable_, "-c", node.config_path}, node.log_path);
  start(node);
}

void NatsCluster::pause(int node) {
  if (const pid_t p = pid(node); p > 0) ::kill(p, SIGSTOP);
}

void NatsCluster::resume(int node) {
  if (const pid_t p = pid(node); p > 0) ::kill(p, SIGCONT);
}

std::optional<int> NatsCluster::node_connected_to(pid_t pid) const {
  const std::set<unsigned long> inodes = socket_inodes(pid);
  if (inodes.empty()) return std::nullopt;
  std::ifstream tcp("/proc/net/tcp");
  std::string line;
  std::getline(tcp, line);  // the header
  while (std::getline(tcp, line)) {
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
    std::istringstream fields(line);
    std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout;
    unsigned long inode = 0;
    if (!(fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >>
          inode)) {
      continue;
    }
    if (state != "01" || !inodes.contains(inode)) continue;  // 01: ESTABLISHED
    const int remote_port = std::stoi(remote.substr(remote.find(':') + 1), nullptr, 16);
    for (int i = 0; i < size(); ++i) {
      if (client_port(i) == remote_port) return i;
    }
  }
  return std::nullopt;
}

nats::Connection& NatsCluster::admin() {
  if (!admin_) {
    nats::ConnectionOptions options;
    options.url = urls(0);
    options.name = "ovalstream-test-cluster-admin";
    options.reconnect_wait = 100ms;
    options.request_timeout = 2s;
    auto connection = nats::Connection::connect(options);
    if (!connection) throw std::runtime_error("cannot connect to the cluster: " + connection.error().message);
    admin_ = std::move(connection).value();
  }
  return *admin_;
}

bool NatsCluster::create_stream(const std::string& name, const std::vector<std::string>& subjects,
                                int replicas, std::chrono::milliseconds timeout, std::string* error) {
  const auto deadline = Clock::now() + timeout;
  std::string last_error;
  for (;;) {
    std::vector<const char*> subject_pointers;
    for (const auto& subject : subjects) subject_pointers.push_back(subject.c_str());
    jsStreamConfig config;
    jsStreamConfig_Init(&config);
    config.Name = name.c_str();
    config.Subjects = subject_pointers.data();
    config.SubjectsLen = static_cast<int>(subject_pointers.size());
    config.Storage = js_FileStorage;
    config.Replicas = replicas;
    jsOptions js_options;
    jsOptions_Init(&js_options);
    js_options.Wait = 3000;
    jsStreamInfo* info = nullptr;
    jsErrCode js_error = static_cast<jsErrCode>(0);
    const natsStatus status = js_AddStream(&info, admin().jetstream(), &config, &js_options, &js_error);
    if (info != nullptr) jsStreamInfo_Destroy(info);
    if (status == NATS_OK) return true;
    last_error = status_text(status, js_error);
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(200ms);
  }
  if (error) {
    *error = "creating stream " + name + ": " + last_error +
             (admin().connected() ? "" : " (the admin connection is not connected)");
  }
  return false;
}

bool NatsCluster::delete_stream(const std::string& name, std::chrono::milliseconds timeout,
                                std::string* error) {
  const auto deadline = Clock::now() + timeout;
  std::string last_error;
  for (;;) {
    jsOptions js_options;
    jsOptions_Init(&js_options);
    js_options.Wait = 3000;
    jsErrCode js_error = static_cast<jsErrCode>(0);
    const natsStatus status = js_DeleteStream(admin().jetstream(), name.c_str(), &js_options, &js_error);
    if (status == NATS_OK || js_error == JSStreamNotFoundErr) return true;
    last_error = status_text(status, js_error);
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(200ms);
  }
  if (error) *error = "deleting stream " + name + ": " + last_error;
  return false;
}

std::optional<StreamClusterState> NatsCluster::stream_state(const std::string& name) {
  jsOptions js_options;
  jsOptions_Init(&js_options);
  js_options.Wait = 2000;
  jsStreamInfo* info = nullptr;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  const natsStatus status =
      js_GetStreamInfo(&info, admin().jetstream(), name.c_str(), &js_options, &js_error);
  if (status == NATS_NOT_FOUND || js_error == JSStreamNotFoundErr) return StreamClusterState{};
  if (status != NATS_OK || info == nullptr) {
    if (info != nullptr) jsStreamInfo_Destroy(info);
    return std::nullopt;
  }
  StreamClusterState state;
  state.exists = true;
  state.messages = info->State.Msgs;
  state.last_sequence = info->State.LastSeq;
  state.created_ns = info->Created;
  if (info->Cluster != nullptr) {
    if (info->Cluster->Leader != nullptr) state.leader = info->Cluster->Leader;
    for (int i = 0; i < info->Cluster->ReplicasLen; ++i) {
      const jsPeerInfo* peer = info->Cluster->Replicas[i];
      state.replicas.push_back({peer->Name ? peer->Name : "", peer->Current, peer->Offline});
    }
  }
  jsStreamInfo_Destroy(info);
  return state;
}

std::optional<int> NatsCluster::stream_leader(const std::string& name, std::chrono::milliseconds timeout) {
  std::optional<int> leader;
  poll_until(
      [&] {
        const auto state = stream_state(name);
        if (state && !state->leader.empty()) leader = node_named(state->leader);
        return leader.has_value();
      },
      timeout, 100ms);
  return leader;
}

bool NatsCluster::wait_stream_healthy(const std::string& name, std::chrono::milliseconds timeout) {
  return poll_until(
      [&] {
        const auto state = stream_state(name);
        if (!state || !state->exists || state->leader.empty()) return false;
        if (static_cast<int>(state->replicas.size()) + 1 < size()) return false;
        for (const auto& replica : state->replicas) {
          if (!replica.current || replica.offline) return false;
        }
        return true;
      },
      timeout, 100ms);
}

std::string NatsCluster::log_tails(std::size_t bytes) const {
  std::string tails;
  for (const auto& node : nodes_) {
    tails += "---- " + node->name + " (" + node->log_path + "), last bytes ----\n" +
             read_tail(node->log_path, bytes) + "\n";
  }
  return tails;
}

}  // namespace ovalstream::testing
