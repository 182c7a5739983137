// ovalstream_load: the load tool of docs/benchmarks.md. Opens N websocket clients against the aggregator
// (ours) and against nats-server's own websocket listener, publishes live events of real size and shape
// into JetStream, and measures delivery throughput, latency, memory per connection and a join storm, for
// both servers in one run. Every wait is bounded; the tool stops by itself.
#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench_data.hpp"
#include "client_pool.hpp"
#include "ovalstream/nats/jetstream.hpp"
#include "proc_stats.hpp"
#include "publisher.hpp"

namespace ovalstream::bench {
namespace {

using namespace std::chrono_literals;

constexpr const char* kUsage =
    R"(ovalstream_load: websocket load against the aggregator and nats-server (docs/benchmarks.md)

Usage:
  ovalstream_load prepare --nats-url URL [--prefix-events 280]
      publish the first events of the recording (a competition in the middle of a heat), acknowledged
  ovalstream_load run --measure throughput|latency|memory|storm [flags]
      run one measure against ours, then nats-server, and print its table rows (markdown)

Flags of run:
  --nats-url URL            the publisher's NATS URL (required)
  --ours-port PORT          the aggregator's websocket port (required for target ours)
  --ours-pid PID            the aggregator's pid (CPU and RSS)
  --nats-ws-port PORT       nats-server's websocket port (required for target nats)
  --nats-pid PID            nats-server's pid (CPU and RSS)
  --targets LIST            ours,nats (default both, in that order)
  --clients N               websocket clients (default 50)
  --per-address N           clients per loopback source address 127.0.0.x (default 10000)
  --first-address K         the first source address 127.0.0.K (default 1)
  --rate R                  latency: events/s (default 100)
  --duration S              latency: seconds of publishing; throughput: seconds per step (default 2)
  --start-frames N          throughput: delivered frames/s of the first step (default 50000); doubled per step
  --max-steps N             throughput: at most this many steps (default 10)
  --timeout S               connect, snapshot and storm bound in seconds (default 60)
  --stream NAME             the JetStream stream (default VANTAGE)
  --check                   exit 1 unless every client got every live frame (and latencies were measured)

Data: the real recording from OVALSTREAM_DATA_DIR (else the build's OVALSTREAM_SHARED_DATA_DIR), or a small
built-in sample when it is absent.
)";

struct Options {
  std::string command;
  std::string measure;
  std::string nats_url;
  std::uint16_t ours_port = 0;
  std::uint16_t nats_ws_port = 0;
  pid_t ours_pid = 0;
  pid_t nats_pid = 0;
  std::vector<std::string> targets = {"ours", "nats"};
  std::size_t clients = 50;
  std::uint32_t per_address = 10000;
  std::uint32_t first_address = 1;
  double rate = 100;
  double duration = 2;
  double start_frames = 50000;
  int max_steps = 10;
  double timeout = 60;
  std::string stream = "VANTAGE";
  std::size_t prefix_events = 280;
  bool check = false;
};

Options parse_options(int argc, char** argv) {
  Options options;
  if (argc < 2) throw std::invalid_argument("missing command");
  options.command = argv[1];
  if (options.command == "-h" || options.command == "--help") {
    std::cout << kUsage;
    std::exit(0);
  }
  for (int i = 2; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "-h" || flag == "--help") {
      std::cout << kUsage;
      std::exit(0);
    }
    if (flag == "--check") {
      options.check = true;
      continue;
    }
    if (i + 1 >= argc) throw std::invalid_argument("flag " + flag + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--measure") {
      options.measure = value;
    } else if (flag == "--nats-url") {
      options.nats_url = value;
    } else if (flag == "--ours-port") {
      options.ours_port = static_cast<std::uint16_t>(std::stoul(value));
    } else if (flag == "--nats-ws-port") {
      options.nats_ws_port = static_cast<std::uint16_t>(std::stoul(value));
    } else if (flag == "--ours-pid") {
      options.ours_pid = static_cast<pid_t>(std::stol(value));
    } else if (flag == "--nats-pid") {
      options.nats_pid = static_cast<pid_t>(std::stol(value));
    } else if (flag == "--targets") {
      options.targets.clear();
      std::stringstream list(value);
      std::string item;
      while (std::getline(list, item, ',')) {
        if (item != "ours" && item != "nats") throw std::invalid_argument("unknown target " + item);
        options.targets.push_back(item);
      }
    } else if (flag == "--clients") {
      options.clients = std::stoul(value);
    } else if (flag == "--per-address") {
      options.per_address = static_cast<std::uint32_t>(std::max(1ul, std::stoul(value)));
    } else if (flag == "--first-address") {
      options.first_address = static_cast<std::uint32_t>(std::stoul(value));
    } else if (flag == "--rate") {
      options.rate = std::stod(value);
    } else if (flag == "--duration") {
      options.duration = std::stod(value);
    } else if (flag == "--start-frames") {
      options.start_frames = std::stod(value);
    } else if (flag == "--max-steps") {
      options.max_steps = std::stoi(value);
    } else if (flag == "--timeout") {
      options.timeout = std::stod(value);
    } else if (flag == "--stream") {
      options.stream = value;
    } else if (flag == "--prefix-events") {
      options.prefix_events = std::stoul(value);
    } else {
      throw std::invalid_argument("unknown flag " + flag);
    }
  }
  if (options.nats_url.empty()) throw std::invalid_argument("--nats-url is required");
  if (options.command == "run" && options.measure != "throughput" && options.measure != "latency" &&
      options.measure != "memory" && options.measure != "storm") {
    throw std::invalid_argument("--measure must be throughput, latency, memory or storm");
  }
  if (options.rate <= 0 || options.duration <= 0 || options.timeout <= 0 || options.clients == 0) {
    throw std::invalid_argument("--rate, --duration, --timeout and --clients must be positive");
  }
  return options;
}

// Raises the open-files limit to what the clients need (root may raise the hard limit too).
void raise_file_limit(std::size_t clients) {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  const rlim_t wanted = static_cast<rlim_t>(clients) + 1024;
  if (limit.rlim_cur >= wanted) return;
  if (limit.rlim_max < wanted) limit.rlim_max = wanted;
  limit.rlim_cur = wanted;
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    std::cerr << "warning: cannot raise RLIMIT_NOFILE to " << wanted << ": " << std::strerror(errno) << "\n";
  }
}

// CPU seconds of this process (the load clients and the publisher), user + system.
double own_cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

std::string format_number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2f", value);
  return buffer;
}

bool wait_until(const std::function<bool()>& condition, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return condition();
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// One target's results, by metric key; NaN when not measured.
using Results = std::map<std::string, double>;

class Runner {
 public:
  Runner(const Options& options, Publisher& publisher) : options_(options), publisher_(publisher) {}

  Results run(const std::string& target) {
    target_ = target;
    if (options_.measure == "throughput") return throughput();
    if (options_.measure == "latency") return latency();
    if (options_.measure == "memory") return memory();
    if (options_.measure == "storm") return storm();
    throw std::invalid_argument("unknown measure " + options_.measure);
  }

  bool ok() const noexcept { return ok_; }

 private:
  bool ours() const { return target_ == "ours"; }
  pid_t server_pid() const { return ours() ? options_.ours_pid : options_.nats_pid; }

  std::unique_ptr<RunShared> make_shared(TargetMode nats_mode = TargetMode::kNats) const {
    auto shared = std::make_unique<RunShared>();
    const std::string& cid = publisher_.data().competition_id;
    shared->mode = ours() ? TargetMode::kOurs : nats_mode;
    shared->port = ours() ? options_.ours_port : options_.nats_ws_port;
    if (shared->port == 0) throw std::invalid_argument("no port given for target " + target_);
    shared->path = ours() ? "/v1/competitions/" + cid : "/";
    shared->subject = "competition." + cid + ".>";
    shared->filter_subject = shared->subject;
    shared->stream = options_.stream;
    shared->first_address = options_.first_address;
    shared->per_address = options_.per_address;
    shared->sequence_base = publisher_.sequence_base();
    shared->sequence_capacity = publisher_.capacity();
    shared->publish_ns = publisher_.publish_times();
    return shared;
  }

  void log(const std::string& line) const {
    std::cerr << "[" << target_ << " " << options_.measure << "] " << line << "\n";
  }

  // The frames of the competition's snapshot, from one probe client: what it received until 0.7 s of quiet.
  std::uint64_t probe_snapshot_frames() {
    auto shared = make_shared();
    ClientPool pool(*shared);
    pool.start(1);
    std::uint64_t last = 0;
    auto stable_since = std::chrono::steady_clock::now();
    const auto deadline = stable_since + 20s;
    while (std::chrono::steady_clock::now() < deadline && shared->failed == 0) {
      std::this_thread::sleep_for(50ms);
      const std::uint64_t now = shared->frames;
      if (now != last || now == 0) {
        last = now;
        stable_since = std::chrono::steady_clock::now();
      } else if (std::chrono::steady_clock::now() - stable_since > 700ms) {
        break;
      }
    }
    log("snapshot: " + std::to_string(last) + " frames");
    return last;
  }

  // Starts N clients and waits until each is subscribed (ours: holds its snapshot). False on a failure.
  bool connect_all(ClientPool& pool, RunShared& shared) {
    if (ours()) {
      shared.snapshot_frames = probe_snapshot_frames();
      if (shared.snapshot_frames == 0) {
        log("the probe client received no snapshot: is the competition followed?");
        ok_ = false;
        return false;
      }
    }
    const auto start = steady_now_ns();
    pool.start(options_.clients);
    auto& ready = ours() ? shared.complete : shared.connected;
    const bool done = wait_until([&] { return ready + shared.failed >= options_.clients; }, options_.timeout);
    log("connected " + std::to_string(ready.load()) + "/" + std::to_string(options_.clients) + " in " +
        std::to_string((steady_now_ns() - start) / 1e9) + " s, failed " +
        std::to_string(shared.failed.load()));
    if (shared.failed != 0) {
      std::string first_error;
      pool.run_on_io([&](auto&) { first_error = shared.first_error; });
      log("first error: " + first_error);
      ok_ = false;  // --check wants every client
    }
    // Up to 1 % of the clients may fail (on a loaded machine the server may close a handshake it could not
    // read in time); the measure then counts the clients that are connected, and says so.
    const auto connected = ready.load();
    if (!done || connected == 0 ||
        static_cast<double>(shared.failed) > 0.01 * static_cast<double>(options_.clients)) {
      ok_ = false;
      return false;
    }
    connected_ = connected;
    return true;
  }

  // Clients that received exactly `expected` live frames.
  std::uint64_t clients_with(ClientPool& pool, std::uint64_t expected) {
    std::uint64_t count = 0;
    pool.run_on_io([&](std::vector<std::shared_ptr<LoadClient>>& clients) {
      for (const auto& client : clients)
        count += client->is_open() && client->live_frames() == expected ? 1 : 0;
    });
    return count;
  }

  Results throughput() {
    Results results;
    auto shared = make_shared();
    ClientPool pool(*shared);
    if (!connect_all(pool, *shared)) return results;
    const double n = static_cast<double>(connected_);
    double rate = std::max(1.0, options_.start_frames / n);
    const auto cpu_before = cpu_seconds(server_pid());
    std::uint64_t total = 0;
    double best = 0;
    double previous_best = 0;
    int steps = 0;
    bool saturated = false;
    for (; steps < options_.max_steps; ++steps) {
      // At least 20 events per step: with fewer, the spacing of single events decides the rate.
      const auto events = static_cast<std::uint64_t>(std::max(20.0, std::round(rate * options_.duration)));
      shared->live_from = publisher_.next_sequence();
      const std::uint64_t before = shared->live_frames;
      const std::int64_t start = steady_now_ns();
      const double own_cpu_before = own_cpu_seconds();
      const auto server_cpu_before = cpu_seconds(server_pid());
      const PublishStats published = publisher_.publish_live(events, rate);
      const std::uint64_t expected = published.published * connected_;
      const std::uint64_t failed_before = shared->failed;
      wait_until([&] { return shared->live_frames - before >= expected || shared->failed != failed_before; },
                 options_.duration + 15);
      // Stragglers after a failure or the bound are not waited for; what arrived counts.
      const std::uint64_t got = shared->live_frames - before;
      const double seconds = std::max(1e-6, (shared->last_live_ns.load() - start) / 1e9);
      const double delivered = got / seconds;
      const double offered = published.published / published.seconds * n;
      const double own_cpu = own_cpu_seconds() - own_cpu_before;
      const auto server_cpu_after = cpu_seconds(server_pid());
      const double server_cpu =
          server_cpu_before && server_cpu_after ? *server_cpu_after - *server_cpu_before : -1;
      total += got;
      best = std::max(best, delivered);
      log("step " + std::to_string(steps) + ": publish " + std::to_string(published.published) +
          " events at " + std::to_string(published.published / published.seconds) + "/s, offered " +
          std::to_string(offered) + " frames/s, delivered " + std::to_string(got) + "/" +
          std::to_string(expected) + " frames at " + std::to_string(delivered) + "/s, repeated " +
          std::to_string(shared->repeated_frames.load()) + ", clients failed " +
          std::to_string(shared->failed.load()) + "; CPU s: server " + format_number(server_cpu) +
          ", this tool " + format_number(own_cpu) + " over " + format_number(seconds) + " s");
      // Saturated: frames lost, a client closed, or no gain of 10 % over the best step so far (doubling the
      // offer no longer raises delivery; on 2 shared cores the publisher itself may fall behind the doubled
      // rate, then the offer stops growing too, and the plateau of what was delivered is the figure).
      const bool plateau = steps > 0 && delivered < 1.1 * previous_best;
      if (got < expected || shared->failed != failed_before || plateau) {
        saturated = true;
        ++steps;
        break;
      }
      previous_best = best;
      rate *= 2;
    }
    const auto cpu_after = cpu_seconds(server_pid());
    results["frames_per_s"] = best;
    results["repeated_frames"] = static_cast<double>(shared->repeated_frames.load());
    results["saturated"] = saturated ? 1 : 0;
    results["failed_clients"] = static_cast<double>(shared->failed.load());
    if (cpu_before && cpu_after && total > 0) {
      results["cpu_s_per_mframes"] = (*cpu_after - *cpu_before) / (static_cast<double>(total) / 1e6);
    }
    return results;
  }

  Results latency() {
    Results results;
    auto shared = make_shared();
    ClientPool pool(*shared);
    if (!connect_all(pool, *shared)) return results;
    const auto events =
        static_cast<std::uint64_t>(std::max(1.0, std::round(options_.rate * options_.duration)));
    shared->live_from = publisher_.next_sequence();
    shared->record_latency = true;
    const std::uint64_t before = shared->live_frames;
    const double own_cpu_before = own_cpu_seconds();
    const auto server_cpu_before = cpu_seconds(server_pid());
    const PublishStats published = publisher_.publish_live(events, options_.rate);
    const std::uint64_t expected = published.published * connected_;
    // Done when every frame arrived, or when none arrived for 15 s (frames lost: no use waiting longer).
    wait_until(
        [&] {
          return shared->live_frames - before >= expected ||
                 steady_now_ns() - shared->last_live_ns.load() > 15'000'000'000;
        },
        options_.timeout);
    shared->record_latency = false;
    // CPU per event of each side: on 2 cores the server's fan-out and this tool's reading of every client
    // share the machine, and the tool's reading alone bounds how soon its last client can see an event.
    const double own_cpu = own_cpu_seconds() - own_cpu_before;
    const auto server_cpu_after = cpu_seconds(server_pid());
    if (published.published > 0) {
      const double per_event_ms = 1000.0 / static_cast<double>(published.published);
      results["tool_cpu_ms_per_event"] = own_cpu * per_event_ms;
      if (server_cpu_before && server_cpu_after) {
        results["server_cpu_ms_per_event"] = (*server_cpu_after - *server_cpu_before) * per_event_ms;
      }
    }
    std::vector<std::uint32_t> samples;
    pool.run_on_io([&](auto&) { samples.swap(shared->latency_us); });
    const std::uint64_t got = shared->live_frames - before;
    const std::uint64_t complete = clients_with(pool, published.published);
    log("published " + std::to_string(published.published) + " at " +
        std::to_string(published.published / published.seconds) + "/s; delivered " + std::to_string(got) +
        "/" + std::to_string(expected) + "; clients with every live frame " + std::to_string(complete) + "/" +
        std::to_string(options_.clients) + "; samples " + std::to_string(samples.size()) +
        "; repeated frames " + std::to_string(shared->repeated_frames.load()));
    results["delivered_fraction"] =
        expected == 0 ? 0 : static_cast<double>(got) / static_cast<double>(expected);
    results["clients_complete"] = static_cast<double>(complete);
    if (!samples.empty()) {
      std::sort(samples.begin(), samples.end());
      auto quantile = [&](double q) {
        const auto index = static_cast<std::size_t>(std::ceil(q * static_cast<double>(samples.size()))) - 1;
        return samples[std::min(index, samples.size() - 1)] / 1000.0;
      };
      results["p50_ms"] = quantile(0.50);
      results["p99_ms"] = quantile(0.99);
      results["p999_ms"] = quantile(0.999);
      results["max_ms"] = samples.back() / 1000.0;
    }
    results["clients_connected"] = static_cast<double>(connected_);
    if (complete != options_.clients || samples.size() != expected) ok_ = false;
    return results;
  }

  Results memory() {
    Results results;
    const auto rss_before = rss_bytes(server_pid());
    const auto socket_before = tcp_socket_memory_bytes();
    auto shared = make_shared();
    ClientPool pool(*shared);
    if (!connect_all(pool, *shared)) return results;
    std::this_thread::sleep_for(1s);  // let the server settle (buffers released after the handshakes)
    const auto rss_after = rss_bytes(server_pid());
    const auto socket_after = tcp_socket_memory_bytes();
    const double n = static_cast<double>(connected_);
    results["clients_connected"] = n;
    if (rss_before && rss_after) {
      results["rss_per_connection_bytes"] = static_cast<double>(*rss_after - *rss_before) / n;
      results["rss_after_bytes"] = static_cast<double>(*rss_after);
    }
    if (socket_before && socket_after) {
      results["kernel_socket_bytes_per_connection"] = static_cast<double>(*socket_after - *socket_before) / n;
    }
    log("RSS " + std::to_string(rss_before.value_or(-1)) + " -> " + std::to_string(rss_after.value_or(-1)) +
        " bytes; TCP socket memory " + std::to_string(socket_before.value_or(-1)) + " -> " +
        std::to_string(socket_after.value_or(-1)) + " bytes");
    return results;
  }

  Results storm() {
    Results results;
    auto shared = make_shared(TargetMode::kNatsReplay);
    if (ours()) {
      shared->snapshot_frames = probe_snapshot_frames();
      if (shared->snapshot_frames == 0) {
        log("the probe client received no snapshot: is the competition followed?");
        ok_ = false;
        return {};
      }
    }
    const auto consumers_before = nats::consumer_count(publisher_.connection(), options_.stream);
    std::atomic<bool> stop{false};
    std::atomic<std::int64_t> consumers_max{consumers_before ? consumers_before.value() : -1};
    std::thread poller([&] {
      for (int i = 0; i < 100000 && !stop; ++i) {
        if (auto count = nats::consumer_count(publisher_.connection(), options_.stream)) {
          consumers_max = std::max(consumers_max.load(), count.value());
        }
        std::this_thread::sleep_for(100ms);
      }
    });
    ClientPool pool(*shared);
    const std::int64_t start = steady_now_ns();
    pool.start(options_.clients);
    const bool done =
        wait_until([&] { return shared->complete + shared->failed >= options_.clients; }, options_.timeout);
    const double seconds = shared->complete == 0 ? 0.0 : (shared->last_complete_ns.load() - start) / 1e9;
    std::this_thread::sleep_for(300ms);  // one more consumer count after the last client completed
    stop = true;
    poller.join();
    std::string first_error;
    pool.run_on_io([&](auto&) { first_error = shared->first_error; });
    log(std::to_string(shared->complete.load()) + "/" + std::to_string(options_.clients) + " complete in " +
        std::to_string(seconds) + " s (" + (done ? "all done" : "bound reached") + "), failed " +
        std::to_string(shared->failed.load()) + (first_error.empty() ? "" : " (first: " + first_error + ")") +
        "; frames " + std::to_string(shared->frames.load()) + "; JetStream consumers before " +
        std::to_string(consumers_before ? consumers_before.value() : -1) + ", max during " +
        std::to_string(consumers_max.load()));
    results["clients_complete"] = static_cast<double>(shared->complete.load());
    if (shared->complete == options_.clients) results["storm_s"] = seconds;
    results["consumers_max"] = static_cast<double>(consumers_max.load());
    results["frames_per_client"] =
        static_cast<double>(shared->frames.load()) / static_cast<double>(options_.clients);
    if (shared->complete != options_.clients) ok_ = false;
    return results;
  }

  const Options& options_;
  Publisher& publisher_;
  std::string target_;
  bool ok_ = true;
  std::uint64_t connected_ = 0;  // clients connected (and holding their snapshot) after connect_all
};

std::string format(double value, int decimals) {
  if (std::isnan(value)) return "n/a";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

struct Row {
  std::string key;
  std::string label;
  int decimals;
  std::string goal;
};

void print_rows(const Options& options, const std::map<std::string, Results>& results) {
  const std::string n = std::to_string(options.clients);
  std::vector<Row> rows;
  if (options.measure == "throughput") {
    rows = {{"frames_per_s", "delivered frames/s, N=" + n, 0, "ours >= 1.5x nats-server"},
            {"cpu_s_per_mframes", "server CPU s per million frames, N=" + n, 2, ""},
            {"repeated_frames", "live frames received again (resent snapshots), N=" + n, 0, "0"},
            {"failed_clients", "clients closed by the server, N=" + n, 0, "0"}};
  } else if (options.measure == "latency") {
    const std::string at = format(options.rate, 0) + " events/s, N=" + n;
    rows = {{"p50_ms", "latency p50 ms, " + at, 2, ""},
            {"p99_ms", "latency p99 ms, " + at, 2, "ours <= 5 ms and <= nats-server"},
            {"p999_ms", "latency p99.9 ms, " + at, 2, ""},
            {"server_cpu_ms_per_event", "server CPU ms per event, " + at, 2, ""},
            {"tool_cpu_ms_per_event", "load tool CPU ms per event (reading every client), " + at, 2, ""},
            {"delivered_fraction", "live frames delivered / expected, " + at, 4, "1"},
            {"clients_connected", "clients connected, " + at, 0, n}};
  } else if (options.measure == "memory") {
    rows = {{"rss_per_connection_bytes", "server RSS per idle connection (bytes), N=" + n, 0, "ours <= 4096"},
            {"kernel_socket_bytes_per_connection",
             "kernel TCP memory per connection, both ends (bytes), N=" + n, 0, ""},
            {"clients_connected", "clients connected (the divisor), N=" + n, 0, n}};
  } else if (options.measure == "storm") {
    rows = {
        {"storm_s", "join storm: s until all hold the complete snapshot, N=" + n, 3, "ours <= 2 s"},
        {"clients_complete", "join storm: clients complete, N=" + n, 0, n},
        {"consumers_max", "join storm: JetStream consumers (max during), N=" + n, 0, "ours: per competition"},
        {"frames_per_client", "join storm: frames per client, N=" + n, 0, ""}};
  }
  auto value = [&](const std::string& target, const std::string& key) {
    auto found = results.find(target);
    if (found == results.end()) return std::nan("");
    auto item = found->second.find(key);
    return item == found->second.end() ? std::nan("") : item->second;
  };
  for (const auto& row : rows) {
    const double ours = value("ours", row.key);
    const double nats = value("nats", row.key);
    const double ratio = (std::isnan(ours) || std::isnan(nats) || nats == 0) ? std::nan("") : ours / nats;
    std::cout << "| " << row.label << " | " << format(ours, row.decimals) << " | "
              << format(nats, row.decimals) << " | " << format(ratio, 2) << " | " << row.goal << " |\n";
  }
  std::cout.flush();
}

int run(const Options& options) {
  raise_file_limit(options.clients + 16);
  Publisher publisher(options.nats_url, load_bench_data(options.prefix_events), std::size_t{1} << 22);
  std::cerr << "data: " << publisher.data().source << ", competition " << publisher.data().competition_id
            << ", " << publisher.data().prefix.size() << " prefix and " << publisher.data().live.size()
            << " live events\n";
  if (options.command == "prepare") {
    publisher.publish_prefix();
    std::cerr << "published " << publisher.data().prefix.size() << " prefix events\n";
    return 0;
  }
  if (options.command != "run") throw std::invalid_argument("unknown command " + options.command);
  std::map<std::string, Results> results;
  bool ok = true;
  for (const auto& target : options.targets) {
    Runner runner(options, publisher);
    results[target] = runner.run(target);
    ok = ok && runner.ok();
    std::this_thread::sleep_for(1s);  // let the server close the connections before the next target
  }
  print_rows(options, results);
  if (options.check && !ok) {
    std::cerr
        << "CHECK FAILED: not every client got every live frame / its snapshot, or latencies are missing\n";
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace ovalstream::bench

int main(int argc, char** argv) {
  try {
    const auto options = ovalstream::bench::parse_options(argc, argv);
    return ovalstream::bench::run(options);
  } catch (const std::invalid_argument& error) {
    std::cerr << "ovalstream_load: " << error.what() << "\n(see --help)\n";
    return 2;
  } catch (const std::exception& error) {
    std::cerr << "ovalstream_load: " << error.what() << "\n";
    return 1;
  }
}
