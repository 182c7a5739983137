// ovalstream_load: the load tool of docs/benchmarks.md. Opens N websocket clients against the aggregator
// (ours), the Bun peer (bench/peers/bun) or nats-server's own websocket listener, publishes live events of
// real size and shape into JetStream, and measures events delivered/s, latency, the sustained rate, memory
// per connection and a join storm, checking every live frame's bytes and order. Every wait is bounded; the
// tool stops by itself.
#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
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
    R"(ovalstream_load: websocket load against the aggregator, the Bun peer and nats-server (docs/benchmarks.md)

Usage:
  ovalstream_load prepare --nats-url URL [--create-stream] [--prefix-events 280]
      (create the stream, then) publish the first events of the recording (a competition in the middle of a
      heat), each acknowledged
  ovalstream_load run --measure throughput|latency|sustained|memory|storm [flags]
      run one measure against each target in turn; print its table (markdown) and append its rows to
      --results
  ovalstream_load summarize FILE...
      one table from the rows of several runs: per target the median, with min and max beside it

Flags of run:
  --nats-url URL            the publisher's NATS URL (required)
  --targets LIST            of ours,bun,nats (default ours,nats), measured in this order
  --ours-port PORT --ours-pid PID    the aggregator's websocket port and pid (CPU and RSS)
  --bun-port PORT --bun-pid PID      the Bun peer's (bench/peers/bun)
  --nats-ws-port PORT --nats-pid PID nats-server's websocket port and pid; for ours and bun, nats-server's
                            CPU is reported as "feeding it"
  --clients N               websocket clients (default 50)
  --per-address N           clients per loopback source address 127.0.0.x (default 10000)
  --first-address K         the first source address 127.0.0.K (default 1)
  --rate R                  latency: events/s (default 100)
  --duration S              latency: seconds of publishing; throughput: seconds per step; sustained:
                            seconds each rate is held (default 2)
  --start-frames N          throughput, sustained: events delivered/s offered by the first step (default
                            50000); doubled per step
  --max-steps N             throughput, sustained: at most this many steps (default 20)
  --plateau-steps N         throughput: stop after N steps in a row that gain < 10 % (default 2)
  --p99-bound-ms MS         sustained: the p99 a rate must hold (default 50)
  --refine N                sustained: bisections between the last rate held and the first not (default 2)
  --storm-rate R            storm: live events/s published while the clients join (default 0)
  --timeout S               connect, snapshot and storm bound in seconds (default 60)
  --stream NAME             the JetStream stream (default VANTAGE)
  --results FILE            append the rows (tab separated) for summarize
  --check                   exit 1 unless every client got every live frame, in order, once, with the
                            published bytes (and latencies were measured); wrong content fails always

Data: the real recording from OVALSTREAM_DATA_DIR (else the build's OVALSTREAM_SHARED_DATA_DIR), or a small
built-in sample when it is absent.
)";

struct Options {
  std::string command;
  std::string measure;
  std::string nats_url;
  std::uint16_t ours_port = 0;
  std::uint16_t bun_port = 0;
  std::uint16_t nats_ws_port = 0;
  pid_t ours_pid = 0;
  pid_t bun_pid = 0;
  pid_t nats_pid = 0;
  std::vector<std::string> targets = {"ours", "nats"};
  std::size_t clients = 50;
  std::uint32_t per_address = 10000;
  std::uint32_t first_address = 1;
  double rate = 100;
  double duration = 2;
  double start_frames = 50000;
  int max_steps = 20;
  int plateau_steps = 2;
  double p99_bound_ms = 50;
  int refine = 2;
  double storm_rate = 0;
  double timeout = 60;
  std::string stream = "VANTAGE";
  std::string results_path;
  std::vector<std::string> files;  // summarize
  std::size_t prefix_events = 280;
  bool check = false;
  bool create_stream = false;
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
    if (flag == "--create-stream") {
      options.create_stream = true;
      continue;
    }
    if (options.command == "summarize" && flag.rfind("--", 0) != 0) {
      options.files.push_back(flag);
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
    } else if (flag == "--bun-port") {
      options.bun_port = static_cast<std::uint16_t>(std::stoul(value));
    } else if (flag == "--bun-pid") {
      options.bun_pid = static_cast<pid_t>(std::stol(value));
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
        if (item != "ours" && item != "bun" && item != "nats") {
          throw std::invalid_argument("unknown target " + item);
        }
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
    } else if (flag == "--plateau-steps") {
      options.plateau_steps = std::max(1, std::stoi(value));
    } else if (flag == "--p99-bound-ms") {
      options.p99_bound_ms = std::stod(value);
    } else if (flag == "--refine") {
      options.refine = std::stoi(value);
    } else if (flag == "--storm-rate") {
      options.storm_rate = std::stod(value);
    } else if (flag == "--results") {
      options.results_path = value;
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
  if (options.command == "summarize") return options;
  if (options.nats_url.empty()) throw std::invalid_argument("--nats-url is required");
  if (options.command == "run" && options.measure != "throughput" && options.measure != "latency" &&
      options.measure != "sustained" && options.measure != "memory" && options.measure != "storm") {
    throw std::invalid_argument("--measure must be throughput, latency, sustained, memory or storm");
  }
  if (options.rate <= 0 || options.duration <= 0 || options.timeout <= 0 || options.clients == 0 ||
      options.start_frames <= 0 || options.p99_bound_ms <= 0 || options.storm_rate < 0 ||
      options.max_steps < 1 || options.refine < 0) {
    throw std::invalid_argument(
        "--rate, --duration, --timeout, --clients, --start-frames, --p99-bound-ms and --max-steps must be "
        "positive, --storm-rate and --refine not negative");
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

// A number as short as it reads (100, 0.5, 2.5), for labels.
std::string short_number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", value);
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

// One row of a measure's table for one target: the label names the measure and N; decimals -1 marks a
// yes/no row (1 = yes), summarized as "k/n runs".
struct Row {
  std::string label;
  int decimals;
  std::string goal;
  std::string target;
  double value;
};
using Rows = std::vector<Row>;

double median_of(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

class Runner {
 public:
  Runner(const Options& options, Publisher& publisher) : options_(options), publisher_(publisher) {}

  Rows run(const std::string& target) {
    target_ = target;
    rows_.clear();
    if (options_.measure == "throughput") {
      throughput();
    } else if (options_.measure == "latency") {
      latency();
    } else if (options_.measure == "sustained") {
      sustained();
    } else if (options_.measure == "memory") {
      memory();
    } else if (options_.measure == "storm") {
      storm();
    } else {
      throw std::invalid_argument("unknown measure " + options_.measure);
    }
    return rows_;
  }

  bool ok() const noexcept { return ok_; }
  bool content_ok() const noexcept { return content_ok_; }

 private:
  bool nats() const { return target_ == "nats"; }
  pid_t server_pid() const {
    return target_ == "ours" ? options_.ours_pid : target_ == "bun" ? options_.bun_pid : options_.nats_pid;
  }
  // The nats-server that feeds ours and the Bun peer (its CPU is theirs too); none for nats-server itself.
  pid_t feeder_pid() const { return nats() ? 0 : options_.nats_pid; }
  std::string n() const { return std::to_string(options_.clients); }

  void add(const std::string& label, int decimals, double value, const std::string& goal = "") {
    rows_.push_back({label, decimals, goal, target_, value});
  }

  std::unique_ptr<RunShared> make_shared(TargetMode nats_mode = TargetMode::kNats,
                                         bool live_marker = false) const {
    auto shared = std::make_unique<RunShared>();
    const std::string& cid = publisher_.data().competition_id;
    shared->mode = nats() ? nats_mode : TargetMode::kOurs;
    shared->port = target_ == "ours"  ? options_.ours_port
                   : target_ == "bun" ? options_.bun_port
                                      : options_.nats_ws_port;
    if (shared->port == 0) throw std::invalid_argument("no port given for target " + target_);
    shared->live_marker = !nats() && live_marker;
    shared->path = nats() ? "/" : "/v1/competitions/" + cid + (shared->live_marker ? "?positions=1" : "");
    shared->subject = "competition." + cid + ".>";
    shared->filter_subject = shared->subject;
    shared->stream = options_.stream;
    shared->first_address = options_.first_address;
    shared->per_address = options_.per_address;
    shared->sequence_base = publisher_.sequence_base();
    shared->sequence_capacity = publisher_.capacity();
    shared->publish_ns = publisher_.publish_times();
    shared->content_hash = publisher_.content_hashes();
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

  // Starts N clients and waits until each is subscribed (ours, Bun: holds its snapshot). False on a failure.
  bool connect_all(ClientPool& pool, RunShared& shared) {
    if (!nats()) {
      shared.snapshot_frames = probe_snapshot_frames();
      if (shared.snapshot_frames == 0) {
        log("the probe client received no snapshot: is the competition followed?");
        ok_ = false;
        return false;
      }
    }
    const auto start = steady_now_ns();
    pool.start(options_.clients);
    auto& ready = nats() ? shared.connected : shared.complete;
    const bool done = wait_until([&] { return ready + shared.failed >= options_.clients; }, options_.timeout);
    log("connected " + std::to_string(ready.load()) + "/" + std::to_string(options_.clients) + " in " +
        std::to_string((steady_now_ns() - start) / 1e9) + " s, failed " +
        std::to_string(shared.failed.load()));
    if (shared.failed != 0) {
      log("first error: " + first_error(pool, shared));
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

  static std::string first_error(ClientPool& pool, RunShared& shared) {
    std::string error;
    pool.run_on_io([&](auto&) { error = shared.first_error; });
    return error;
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

  // The content and order rows every measure ends with; wrong bytes fail the run even without --check,
  // repeats and (where no loss is expected) gaps fail it with --check.
  void add_content_rows(RunShared& shared, ClientPool& pool, bool gaps_are_errors) {
    add("content: live frames whose bytes differ from the published, N=" + n(), 0,
        static_cast<double>(shared.content_mismatches.load()), "0");
    add("order: live frames repeated or out of order, N=" + n(), 0,
        static_cast<double>(shared.repeated_frames.load()), "0");
    add("order: gaps (a live frame missed, then a later one), N=" + n(), 0,
        static_cast<double>(shared.sequence_gaps.load()), gaps_are_errors ? "0" : "");
    if (shared.content_mismatches != 0) {
      content_ok_ = false;
      log("WRONG CONTENT: " + first_error(pool, shared));
    }
    if (shared.repeated_frames != 0 || (gaps_are_errors && shared.sequence_gaps != 0)) {
      ok_ = false;
      log("order check failed: " + first_error(pool, shared));
    }
  }

  struct Step {
    std::uint64_t published = 0;
    std::uint64_t expected = 0;
    std::uint64_t got = 0;
    double seconds = 0;       // first publish to last arrival
    double publish_rate = 0;  // events/s the publisher reached
    double own_cpu = 0;       // this tool's CPU s
    double server_cpu = -1;   // the server's CPU s (-1: unreadable)
    double feeder_cpu = -1;   // nats-server's, for ours and Bun
    bool lossless = false;
  };

  // Publishes `events` at `rate` to the connected clients and waits for them (bounded by `wait_s`).
  Step publish_step(RunShared& shared, std::uint64_t events, double rate, double wait_s) {
    Step step;
    shared.live_from = publisher_.next_sequence();
    const std::uint64_t before = shared.live_frames;
    const std::uint64_t failed_before = shared.failed;
    const std::uint64_t gaps_before = shared.sequence_gaps;
    const std::int64_t start = steady_now_ns();
    const double own_before = own_cpu_seconds();
    const auto server_before = cpu_seconds(server_pid());
    const auto feeder_before = feeder_pid() ? cpu_seconds(feeder_pid()) : std::nullopt;
    const PublishStats published = publisher_.publish_live(events, rate);
    step.published = published.published;
    step.publish_rate = published.published / std::max(1e-6, published.seconds);
    step.expected = published.published * connected_;
    // Done when every frame arrived, a client failed, or nothing arrived for 5 s (frames lost).
    wait_until(
        [&] {
          return shared.live_frames - before >= step.expected || shared.failed != failed_before ||
                 steady_now_ns() - std::max(shared.last_live_ns.load(), start) > 5'000'000'000;
        },
        wait_s);
    step.got = shared.live_frames - before;
    step.seconds = std::max(1e-6, (std::max(shared.last_live_ns.load(), start) - start) / 1e9);
    step.own_cpu = own_cpu_seconds() - own_before;
    const auto server_after = cpu_seconds(server_pid());
    if (server_before && server_after) step.server_cpu = *server_after - *server_before;
    const auto feeder_after = feeder_pid() ? cpu_seconds(feeder_pid()) : std::nullopt;
    if (feeder_before && feeder_after) step.feeder_cpu = *feeder_after - *feeder_before;
    step.lossless = step.got >= step.expected && shared.failed == failed_before &&
                    shared.sequence_gaps == gaps_before && published.errors == 0;
    return step;
  }

  void throughput() {
    auto shared = make_shared();
    ClientPool pool(*shared);
    if (!connect_all(pool, *shared)) return;
    const double clients = static_cast<double>(connected_);
    double rate = std::max(1.0, options_.start_frames / clients);
    Step best;
    double best_delivered = 0;
    double reference = 0;  // the best delivered rate before the current run of flat steps
    int flat = 0;
    int steps = 0;
    std::string stop = "step limit reached before a plateau (raise --max-steps)";
    bool saturated = false;
    for (; steps < options_.max_steps; ++steps) {
      // At least 20 events per step: with fewer, the spacing of single events decides the rate.
      const auto events = static_cast<std::uint64_t>(std::max(20.0, std::round(rate * options_.duration)));
      const Step step = publish_step(*shared, events, rate, options_.duration + 30);
      const double delivered = static_cast<double>(step.got) / step.seconds;
      log("step " + std::to_string(steps) + ": published " + std::to_string(step.published) + " events at " +
          format_number(step.publish_rate) + "/s (asked " + format_number(rate) + "), offered " +
          format_number(step.publish_rate * clients) + " events delivered/s, delivered " +
          std::to_string(step.got) + "/" + std::to_string(step.expected) + " at " + format_number(delivered) +
          "/s" + (step.lossless ? "" : " WITH LOSS") + ", clients closed so far " +
          std::to_string(shared->failed.load()) + ", gaps so far " +
          std::to_string(shared->sequence_gaps.load()) + "; CPU s: server " + format_number(step.server_cpu) +
          ", nats-server feeding it " + format_number(step.feeder_cpu) + ", this tool " +
          format_number(step.own_cpu) + " over " + format_number(step.seconds) + " s");
      if (!step.lossless) {
        saturated = true;
        stop = "loss at this step (not counted)";
        ++steps;
        break;
      }
      if (delivered > best_delivered) {
        best_delivered = delivered;
        best = step;
      }
      // A plateau: doubling the offer no longer raises delivery by 10 % (on 2 shared cores the publisher
      // itself may fall behind the doubled rate; then the offer stops growing too, which the log shows).
      if (delivered < 1.1 * reference) {
        if (++flat >= options_.plateau_steps) {
          saturated = true;
          stop = "plateau (" + std::to_string(flat) + " steps without 10 % gain)";
          ++steps;
          break;
        }
      } else {
        flat = 0;
        reference = std::max(reference, delivered);
      }
      rate *= 2;
    }
    log("stopped after " + std::to_string(steps) + " steps: " + stop + "; best loss-free " +
        format_number(best_delivered) + " events delivered/s");
    add("events delivered/s, best loss-free step, N=" + n(), 0, best_delivered > 0 ? best_delivered : NAN,
        "ours >= 1.5x nats-server");
    add("saturated (loss or plateau before the step limit), N=" + n(), -1, saturated ? 1 : 0, "yes");
    const double cores = best.seconds > 0 ? 1.0 / best.seconds : NAN;
    add("server CPU, cores, at the best step, N=" + n(), 2,
        best.server_cpu >= 0 ? best.server_cpu * cores : NAN);
    add("nats-server feeding it, CPU cores, at the best step, N=" + n(), 2,
        best.feeder_cpu >= 0 ? best.feeder_cpu * cores : NAN);
    add("load tool CPU, cores, at the best step, N=" + n(), 2, best.own_cpu * cores);
    add("server CPU s per million events delivered, best step, N=" + n(), 2,
        best.got > 0 && best.server_cpu >= 0 ? best.server_cpu / (static_cast<double>(best.got) / 1e6) : NAN);
    add("clients closed by the server, N=" + n(), 0, static_cast<double>(shared->failed.load()), "0");
    add_content_rows(*shared, pool, false);
  }

  // Quantile of sorted samples (µs) in ms.
  static double quantile_ms(const std::vector<std::uint32_t>& sorted, double q) {
    if (sorted.empty()) return NAN;
    const auto index = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size()))) - 1;
    return sorted[std::min(index, sorted.size() - 1)] / 1000.0;
  }

  std::vector<std::uint32_t> take_samples(ClientPool& pool, RunShared& shared) {
    std::vector<std::uint32_t> samples;
    pool.run_on_io([&](auto&) { samples.swap(shared.latency_us); });
    std::sort(samples.begin(), samples.end());
    return samples;
  }

  void latency() {
    auto shared = make_shared();
    ClientPool pool(*shared);
    if (!connect_all(pool, *shared)) return;
    const auto events =
        static_cast<std::uint64_t>(std::max(1.0, std::round(options_.rate * options_.duration)));
    shared->record_latency = true;
    const Step step = publish_step(*shared, events, options_.rate, options_.timeout);
    shared->record_latency = false;
    const auto samples = take_samples(pool, *shared);
    const std::uint64_t complete = clients_with(pool, step.published);
    log("published " + std::to_string(step.published) + " at " + format_number(step.publish_rate) +
        "/s; delivered " + std::to_string(step.got) + "/" + std::to_string(step.expected) +
        "; clients with every live frame " + std::to_string(complete) + "/" +
        std::to_string(options_.clients) + "; samples " + std::to_string(samples.size()));
    const std::string at = short_number(options_.rate) + " events/s, N=" + n();
    add("latency p50 ms (from the scheduled send), " + at, 2, quantile_ms(samples, 0.50));
    add("latency p99 ms (from the scheduled send), " + at, 2, quantile_ms(samples, 0.99), "ours <= 5 ms");
    add("latency p99.9 ms (from the scheduled send), " + at, 2, quantile_ms(samples, 0.999));
    add("latency max ms, " + at, 2, samples.empty() ? NAN : samples.back() / 1000.0);
    // CPU per event of each side: the server's fan-out and this tool's reading of every client.
    const double per_event_ms = step.published > 0 ? 1000.0 / static_cast<double>(step.published) : NAN;
    add("server CPU ms per event, " + at, 2, step.server_cpu >= 0 ? step.server_cpu * per_event_ms : NAN);
    add("nats-server feeding it, CPU ms per event, " + at, 2,
        step.feeder_cpu >= 0 ? step.feeder_cpu * per_event_ms : NAN);
    add("load tool CPU ms per event, " + at, 2, step.own_cpu * per_event_ms);
    add("live frames delivered / expected, " + at, 4,
        step.expected == 0 ? 0 : static_cast<double>(step.got) / static_cast<double>(step.expected), "1");
    add("clients connected, " + at, 0, static_cast<double>(connected_), n());
    add_content_rows(*shared, pool, true);
    if (complete != options_.clients || samples.size() != step.expected) ok_ = false;
  }

  // The highest rate whose every event reached every client with p99 under the bound, each rate held for
  // --duration s: doubling until a rate fails, then bisecting (geometric) between the last held and it.
  void sustained() {
    auto shared = make_shared();
    ClientPool pool(*shared);
    if (!connect_all(pool, *shared)) return;
    const double clients = static_cast<double>(connected_);
    double rate = std::max(1.0, options_.start_frames / clients);
    double held = 0;
    double held_p99 = NAN;
    double failed_rate = 0;
    int refinements = 0;
    for (int steps = 0; steps < options_.max_steps; ++steps) {
      // Each rate is held for the duration (however few events that is): the bound is on time, not count.
      const auto events = static_cast<std::uint64_t>(std::max(1.0, std::round(rate * options_.duration)));
      shared->record_latency = true;
      const Step step = publish_step(*shared, events, rate, options_.duration + 60);
      shared->record_latency = false;
      const auto samples = take_samples(pool, *shared);
      const double p99 = quantile_ms(samples, 0.99);
      // Held: no loss, p99 under the bound, and the publisher kept the schedule within 5 %.
      const bool pass = step.lossless && samples.size() == step.expected && p99 < options_.p99_bound_ms &&
                        step.publish_rate >= 0.95 * rate;
      log("rate " + format_number(rate) + " events/s (" + format_number(rate * clients) +
          " events delivered/s): p99 " + format_number(p99) + " ms, delivered " + std::to_string(step.got) +
          "/" + std::to_string(step.expected) + ", publisher at " + format_number(step.publish_rate) +
          "/s, CPU s server " + format_number(step.server_cpu) + ", this tool " +
          format_number(step.own_cpu) + ": " + (pass ? "held" : "not held"));
      if (pass) {
        held = rate;
        held_p99 = p99;
      } else {
        failed_rate = rate;
        // Let a backlog drain before the next, lower rate (bounded).
        wait_until([&] { return steady_now_ns() - shared->last_live_ns.load() > 2'000'000'000; }, 60);
      }
      if (failed_rate == 0) {
        rate *= 2;
        continue;
      }
      if (held == 0) {  // even the first rate failed: halve, down to 1 event/s
        rate /= 2;
        if (rate < 1) break;
        continue;
      }
      if (refinements++ >= options_.refine) break;
      rate = std::sqrt(held * failed_rate);
    }
    add("sustained: events delivered/s held " + short_number(options_.duration) + " s with p99 < " +
            short_number(options_.p99_bound_ms) + " ms, N=" + n(),
        0, held * clients);
    add("sustained: p99 ms at that rate, N=" + n(), 2, held_p99);
    add_content_rows(*shared, pool, false);
  }

  void memory() {
    const auto rss_before = rss_bytes(server_pid());
    const auto socket_before = tcp_socket_memory_bytes();
    const auto slab_before = kernel_slab_bytes();
    auto shared = make_shared();
    ClientPool pool(*shared);
    if (!connect_all(pool, *shared)) return;
    std::this_thread::sleep_for(1s);  // let the server settle (buffers released after the handshakes)
    const auto rss_after = rss_bytes(server_pid());
    const auto socket_after = tcp_socket_memory_bytes();
    const auto slab_after = kernel_slab_bytes();
    const double clients = static_cast<double>(connected_);
    auto per = [&](auto before, auto after) {
      return before && after ? static_cast<double>(*after - *before) / clients : NAN;
    };
    add("server RSS (user space) per idle connection, bytes, N=" + n(), 0, per(rss_before, rss_after),
        "ours <= 4096");
    add("kernel slab per connection, both ends (/proc/meminfo Slab), bytes, N=" + n(), 0,
        per(slab_before, slab_after));
    add("kernel TCP buffers per connection, both ends (/proc/net/sockstat), bytes, N=" + n(), 0,
        per(socket_before, socket_after));
    add("clients connected (the divisor), N=" + n(), 0, clients, n());
    log("RSS " + std::to_string(rss_before.value_or(-1)) + " -> " + std::to_string(rss_after.value_or(-1)) +
        " bytes; slab " + std::to_string(slab_before.value_or(-1)) + " -> " +
        std::to_string(slab_after.value_or(-1)) + "; TCP socket memory " +
        std::to_string(socket_before.value_or(-1)) + " -> " + std::to_string(socket_after.value_or(-1)));
    add_content_rows(*shared, pool, true);
  }

  // N clients join at once, while --storm-rate events/s are published. Ours and Bun: complete at the
  // {"ovalstream":"live"} frame after the snapshot. nats-server: each client creates an ephemeral push
  // consumer over the competition's subjects (deliver_policy all: the subjects are the original's channels,
  // one per heat for every heat event, so last_per_subject would leave a heat's passings out) and is
  // complete when a delivery's $JS.ACK reply says 0 pending. No probe client and no warm-up on any side.
  void storm() {
    auto shared = make_shared(TargetMode::kNatsReplay, /*live_marker=*/true);
    shared->snapshot_frames = 0;
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
    shared->live_from = publisher_.next_sequence();
    std::atomic<bool> stop_publishing{false};
    std::thread live_publisher;
    if (options_.storm_rate > 0) {
      live_publisher = std::thread([&] {
        publisher_.publish_live(static_cast<std::uint64_t>(options_.storm_rate * (options_.timeout + 60)),
                                options_.storm_rate, &stop_publishing);
      });
    }
    ClientPool pool(*shared);
    const std::int64_t start = steady_now_ns();
    pool.start(options_.clients);
    const bool done =
        wait_until([&] { return shared->complete + shared->failed >= options_.clients; }, options_.timeout);
    const double seconds = shared->complete == 0 ? 0.0 : (shared->last_complete_ns.load() - start) / 1e9;
    std::this_thread::sleep_for(500ms);  // some live events after the last join; one more consumer count
    stop_publishing = true;
    if (live_publisher.joinable()) live_publisher.join();
    stop = true;
    poller.join();
    // Every complete client must reach the last published event (no gap at the tail either).
    const std::uint64_t last = publisher_.next_sequence() - 1;
    std::uint64_t current = 0;
    if (options_.storm_rate > 0) {
      wait_until(
          [&] {
            current = 0;
            pool.run_on_io([&](std::vector<std::shared_ptr<LoadClient>>& clients) {
              for (const auto& client : clients)
                current += client->is_complete() && client->last_sequence() == last;
            });
            return current >= shared->complete;
          },
          15);
    }
    log(std::to_string(shared->complete.load()) + "/" + std::to_string(options_.clients) + " complete in " +
        std::to_string(seconds) + " s (" + (done ? "all done" : "bound reached") + "), failed " +
        std::to_string(shared->failed.load()) + " (first error: " + first_error(pool, *shared) +
        "); frames " + std::to_string(shared->frames.load()) + "; live events during the storm " +
        std::to_string(last + 1 - shared->live_from.load()) + ", clients holding the last " +
        std::to_string(current) + "; JetStream consumers before " +
        std::to_string(consumers_before ? consumers_before.value() : -1) + ", max during " +
        std::to_string(consumers_max.load()));
    add("join storm: s until all hold the complete snapshot, N=" + n(), 3,
        shared->complete == options_.clients ? seconds : NAN, "ours <= 2 s");
    add("join storm: clients complete, N=" + n(), 0, static_cast<double>(shared->complete.load()), n());
    add("join storm: JetStream consumers (max during), N=" + n(), 0,
        static_cast<double>(consumers_max.load()));
    add("join storm: frames per client, N=" + n(), 0,
        static_cast<double>(shared->frames.load()) / static_cast<double>(options_.clients));
    if (options_.storm_rate > 0) {
      add("join storm: clients that joined the live stream and hold the last event, N=" + n(), 0,
          static_cast<double>(current), n());
      if (current != options_.clients) ok_ = false;
    }
    add_content_rows(*shared, pool, true);
    if (shared->complete != options_.clients) ok_ = false;
  }

  const Options& options_;
  Publisher& publisher_;
  std::string target_;
  Rows rows_;
  bool ok_ = true;
  bool content_ok_ = true;
  std::uint64_t connected_ = 0;  // clients connected (and holding their snapshot) after connect_all
};

std::string format(double value, int decimals) {
  if (std::isnan(value)) return "n/a";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  const std::string text = buffer;
  // Thousands separators on the integer part, for the large rates.
  const std::size_t sign = text[0] == '-' ? 1 : 0;
  const std::size_t digits = std::min(text.find('.'), text.size()) - sign;
  std::string out = text.substr(0, sign);
  for (std::size_t i = 0; i < digits; ++i) {
    if (i > 0 && (digits - i) % 3 == 0) out += ',';
    out += text[sign + i];
  }
  out += text.substr(sign + digits);
  return out;
}

// One table from rows of any number of runs: per label and target the median, and with more than one run
// "(min to max)" beside it; yes/no rows as "k/n". Ratios are of the medians.
void print_table(const Rows& rows) {
  static const std::vector<std::string> kTargets = {"ours", "bun", "nats"};
  std::vector<std::string> labels;
  std::map<std::string, const Row*> first;
  std::map<std::string, std::map<std::string, std::vector<double>>> values;
  for (const auto& row : rows) {
    if (!first.count(row.label)) {
      labels.push_back(row.label);
      first[row.label] = &row;
    }
    values[row.label][row.target].push_back(row.value);
  }
  std::cout << "| measure | ours | Bun | nats-server | ours/Bun | ours/nats | goal |\n"
               "|---|---|---|---|---|---|---|\n";
  for (const auto& label : labels) {
    const Row& meta = *first[label];
    std::map<std::string, double> medians;
    std::cout << "| " << label << " |";
    for (const auto& target : kTargets) {
      medians[target] = NAN;
      auto found = values[label].find(target);
      if (found == values[label].end()) {
        std::cout << " |";
        continue;
      }
      std::vector<double> measured;
      for (double value : found->second)
        if (!std::isnan(value)) measured.push_back(value);
      const std::size_t runs = found->second.size();
      std::string cell;
      if (meta.decimals < 0) {
        std::size_t yes = 0;
        for (double value : measured) yes += value != 0;
        cell = runs == 1 ? (yes ? "yes" : "no") : std::to_string(yes) + "/" + std::to_string(runs);
      } else if (measured.empty()) {
        cell = "n/a";
      } else {
        medians[target] = median_of(measured);
        cell = format(medians[target], meta.decimals);
        const auto [low, high] = std::minmax_element(measured.begin(), measured.end());
        if (measured.size() > 1 && *low != *high) {
          cell += " (" + format(*low, meta.decimals) + " to " + format(*high, meta.decimals) + ")";
        }
        if (measured.size() != runs)
          cell += " [" + std::to_string(measured.size()) + " of " + std::to_string(runs) + " runs]";
      }
      std::cout << " " << cell << " |";
    }
    auto ratio = [&](const std::string& other) {
      const double ours = medians["ours"], theirs = medians[other];
      return (meta.decimals < 0 || std::isnan(ours) || std::isnan(theirs) || theirs == 0)
                 ? std::string()
                 : format(ours / theirs, 2);
    };
    std::cout << " " << ratio("bun") << " | " << ratio("nats") << " | " << meta.goal << " |\n";
  }
  std::cout.flush();
}

// Rows as tab-separated lines: row, label, decimals, goal, target, value.
void append_rows(const std::string& path, const Rows& rows) {
  std::ofstream out(path, std::ios::app);
  for (const auto& row : rows) {
    out << "row\t" << row.label << "\t" << row.decimals << "\t" << row.goal << "\t" << row.target << "\t"
        << (std::isnan(row.value) ? std::string("nan") : std::to_string(row.value)) << "\n";
  }
  if (!out) throw std::runtime_error("cannot write " + path);
}

Rows read_rows(const std::vector<std::string>& paths) {
  Rows rows;
  for (const auto& path : paths) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::string line;
    while (std::getline(in, line)) {
      std::vector<std::string> fields;
      std::stringstream stream(line);
      std::string field;
      while (std::getline(stream, field, '\t')) fields.push_back(field);
      if (fields.size() != 6 || fields[0] != "row") continue;
      const double value = fields[5] == "nan" ? NAN : std::strtod(fields[5].c_str(), nullptr);
      rows.push_back({fields[1], std::atoi(fields[2].c_str()), fields[3], fields[4], value});
    }
  }
  return rows;
}

int run(const Options& options) {
  if (options.command == "summarize") {
    if (options.files.empty()) throw std::invalid_argument("summarize needs result files");
    print_table(read_rows(options.files));
    return 0;
  }
  raise_file_limit(options.clients + 16);
  Publisher publisher(options.nats_url, load_bench_data(options.prefix_events), std::size_t{1} << 22);
  std::cerr << "data: " << publisher.data().source << ", competition " << publisher.data().competition_id
            << ", " << publisher.data().prefix.size() << " prefix and " << publisher.data().live.size()
            << " live events\n";
  if (options.command == "prepare") {
    if (options.create_stream) publisher.create_stream(options.stream);
    publisher.publish_prefix();
    std::cerr << "published " << publisher.data().prefix.size() << " prefix events\n";
    return 0;
  }
  if (options.command != "run") throw std::invalid_argument("unknown command " + options.command);
  Rows rows;
  bool ok = true;
  bool content_ok = true;
  for (std::size_t i = 0; i < options.targets.size(); ++i) {
    Runner runner(options, publisher);
    const Rows target_rows = runner.run(options.targets[i]);
    rows.insert(rows.end(), target_rows.begin(), target_rows.end());
    ok = ok && runner.ok();
    content_ok = content_ok && runner.content_ok();
    if (i + 1 < options.targets.size()) std::this_thread::sleep_for(1s);  // let the server close them
  }
  if (!options.results_path.empty()) append_rows(options.results_path, rows);
  print_table(rows);
  if (!content_ok) {
    std::cerr << "CONTENT CHECK FAILED: a live frame's bytes differ from what was published\n";
    return 3;
  }
  if (options.check && !ok) {
    std::cerr << "CHECK FAILED: not every client got every live frame once and in order, or its snapshot, "
                 "or latencies are missing\n";
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
