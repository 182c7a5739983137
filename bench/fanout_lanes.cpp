// Fan-out lanes (docs/architecture.md, docs/benchmarks.md): the wall time to hand one event of one
// competition to N connected websockets, with 1 lane (every write on the feed's strand) against more.
//
// The server side is the aggregator's own CompetitionFeed behind the hub (hub::Server, real sockets on
// loopback); the clients live in a child process (so that each side's descriptors stay under the usual
// 20,000 limit at N = 10,000), each with a large receive buffer, and are not read while an event is timed.
// One measure: feed->apply(event) (what the consumer's thread does) until the hub reports N frames written
// (every client's frame is in its socket's kernel buffer). The clients are drained between measures, untimed.
//
// Usage: fanout_lanes [--clients 1000,10000] [--lanes 1,2] [--events 200] [--warmup 20] [--io-threads 2]
//                     [--receive-buffer-bytes 1048576] [--smoke]
// --smoke: 200 clients, 30 events, 5 warm-up (a few seconds; the CTest test fanout_lanes_smoke, label
// bench); exits 1 when a measure times out or clients did not all receive the same bytes.
// Prints one line per (clients, lanes): median, min and max microseconds per event, over --events events.
#include <utility>  // before Asio

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "competition_feed.hpp"
#include "ovalstream/hub/server.hpp"
#include "support/event_builder.hpp"

namespace {

using namespace ovalstream;
using Clock = std::chrono::steady_clock;

std::vector<std::size_t> parse_list(const char* text) {
  std::vector<std::size_t> values;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    const long value = std::strtol(item.c_str(), nullptr, 10);
    if (value <= 0) {
      std::fprintf(stderr, "not a positive number: %s\n", item.c_str());
      std::exit(2);
    }
    values.push_back(static_cast<std::size_t>(value));
  }
  return values;
}

// ---- the client process: commands and replies are lines on a socketpair ----

bool write_line(int fd, const std::string& line) {
  const std::string text = line + "\n";
  return ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
}

std::string read_line(int fd) {
  std::string line;
  char c = 0;
  while (::read(fd, &c, 1) == 1 && c != '\n') line.push_back(c);
  return line;
}

int connect_websocket(std::uint16_t port, int receive_buffer_bytes) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer_bytes, sizeof receive_buffer_bytes);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const std::string request =
      "GET /v1/competitions/bench HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: "
      "Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
    ::close(fd);
    return -1;
  }
  // Reads the 101 byte by byte, so that the frames behind it stay in the socket for the drains to count.
  std::string head;
  char c = 0;
  while (head.size() < 4096 && ::recv(fd, &c, 1, 0) == 1) {
    head.push_back(c);
    if (head.ends_with("\r\n\r\n")) break;
  }
  if (!head.starts_with("HTTP/1.1 101")) {
    ::close(fd);
    return -1;
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

// Commands: "connect PORT N RCVBUF" -> "ok" or "error ..."; "drain" -> "ok MIN MAX" (bytes received per
// client since its 101, over every drain); "close" -> "ok"; "quit".
int client_process(int control) {
  std::vector<int> sockets;
  std::vector<std::uint64_t> received;
  std::vector<char> buffer(1 << 16);
  for (;;) {
    std::istringstream command(read_line(control));
    std::string verb;
    command >> verb;
    if (verb == "connect") {
      unsigned port = 0;
      std::size_t count = 0;
      int receive_buffer = 0;
      command >> port >> count >> receive_buffer;
      bool failed = false;
      for (std::size_t i = 0; i < count && !failed; ++i) {
        const int fd = connect_websocket(static_cast<std::uint16_t>(port), receive_buffer);
        if (fd < 0) failed = true;
        sockets.push_back(fd);
        received.push_back(0);
      }
      write_line(control, failed ? "error connect " + std::string(std::strerror(errno)) : "ok");
    } else if (verb == "drain") {
      for (std::size_t i = 0; i < sockets.size(); ++i) {
        for (;;) {
          const ssize_t got = ::recv(sockets[i], buffer.data(), buffer.size(), 0);
          if (got <= 0) break;
          received[i] += static_cast<std::uint64_t>(got);
        }
      }
      const auto [low, high] = std::minmax_element(received.begin(), received.end());
      write_line(control,
                 received.empty() ? "ok 0 0" : "ok " + std::to_string(*low) + " " + std::to_string(*high));
    } else if (verb == "close") {
      for (const int fd : sockets) ::close(fd);
      sockets.clear();
      received.clear();
      write_line(control, "ok");
    } else {
      return 0;
    }
  }
}

// ---- the server side ----

// Counts the websocket frames the hub wrote; wakes the timer when a target is reached.
class CountingObserver final : public hub::HubObserver {
 public:
  void connection_opened(const std::string&) override {}
  void connection_closed(const std::string&) override {}
  void connection_rejected(const std::string&) override {}
  void publish_to_write(std::chrono::nanoseconds) override {}
  void slow_consumer_closed() override { slow_consumers.fetch_add(1); }
  void frames_written(std::uint64_t frames, std::uint64_t) override {
    const std::uint64_t now = written.fetch_add(frames) + frames;
    if (now >= target.load()) {
      std::lock_guard lock(mutex);
      reached.notify_all();
    }
  }
  // Waits until `count` frames were written in all; false on timeout.
  bool wait_for(std::uint64_t count, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex);
    return reached.wait_for(lock, timeout, [&] { return written.load() >= count; });
  }

  std::atomic<std::uint64_t> written{0};
  std::atomic<std::uint64_t> target{~std::uint64_t{0}};
  std::atomic<std::uint64_t> slow_consumers{0};
  std::mutex mutex;
  std::condition_variable reached;
};

struct Settings {
  std::vector<std::size_t> clients{1000, 10000};
  std::vector<std::size_t> lanes{1, 2};
  std::size_t events = 200;
  std::size_t warmup = 20;
  unsigned io_threads = 2;
  int receive_buffer_bytes = 1 << 20;
  bool smoke = false;
};

struct Measure {
  std::vector<double> micros;  // per event
  bool ok = true;
  std::string problem;
};

std::string command(int control, const std::string& line) {
  write_line(control, line);
  return read_line(control);
}

Measure measure(const Settings& settings, std::size_t clients, std::size_t lanes, int control) {
  Measure result;
  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  auto observer = std::make_shared<CountingObserver>();
  testing::EventSequence seq;
  seq.competition_activated()
      .distance_activated(testing::kDistanceA)
      .heat_activated(testing::kDistanceA, 1, {"r1", "r2"});
  const std::size_t setup_events = seq.events().size();
  const std::size_t total = settings.warmup + settings.events;
  for (std::size_t i = 0; i < total; ++i) {
    seq.race_event(
        "LastRaceSpeedChangedEvent", testing::kDistanceA, 1, i % 2 ? "r2" : "r1",
        R"("passing":{"speed":)" + std::to_string(40 + i % 20) + R"(,"index":)" + std::to_string(i) + "}");
  }
  auto feed =
      std::make_shared<aggregator::CompetitionFeed>(io, testing::kCompetition, nullptr, core::ResumeLimits{},
                                                    aggregator::CompetitionFeed::kResumeCatchUpWait, lanes);
  for (std::size_t i = 0; i < setup_events; ++i) {
    (void)feed->apply(seq.events()[i].event, seq.events()[i].position, 0);
  }

  hub::ServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.ping_interval = std::chrono::hours(1);  // the clients never answer pings
  options.pong_timeout = std::chrono::hours(2);
  options.http = {0, 0, 0};
  hub::Router router = [feed](const hub::Request&) -> hub::Route {
    hub::WebSocketHandlers handlers;
    handlers.endpoint = "competition";
    handlers.on_open = [feed](const std::shared_ptr<hub::Connection>& connection) { feed->join(connection); };
    handlers.on_close = [feed](const std::shared_ptr<hub::Connection>& connection) {
      feed->leave(connection);
    };
    return handlers;
  };
  auto server = std::make_unique<hub::Server>(io, options, router, observer);
  server->start();
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < settings.io_threads; ++i) threads.emplace_back([&io] { io.run(); });

  auto fail = [&](std::string problem) {
    result.ok = false;
    result.problem = std::move(problem);
  };
  const std::string connected =
      command(control, "connect " + std::to_string(server->port()) + " " + std::to_string(clients) + " " +
                           std::to_string(settings.receive_buffer_bytes));
  if (connected != "ok") fail("clients: " + connected);
  // Every client joined (its snapshot written) before the first event.
  if (result.ok && !observer->wait_for(clients * setup_events, std::chrono::seconds(60))) {
    fail("not every client got its snapshot");
  }
  if (result.ok) command(control, "drain");

  std::uint64_t event_bytes = 0;  // of the events' frames, per client
  for (std::size_t i = 0; i < total && result.ok; ++i) {
    const core::PositionedEvent& event = seq.events()[setup_events + i];
    event_bytes += event.event.raw().size() + (event.event.raw().size() < 126 ? 2 : 4);
    const std::uint64_t target = observer->written.load() + clients;
    observer->target.store(target);
    const auto start = Clock::now();
    (void)feed->apply(event.event, event.position, 0);
    if (!observer->wait_for(target, std::chrono::seconds(30))) {
      fail("event " + std::to_string(i) + " did not reach every client within 30 s");
      break;
    }
    const auto elapsed = Clock::now() - start;
    if (i >= settings.warmup) {
      result.micros.push_back(std::chrono::duration<double, std::micro>(elapsed).count());
    }
    command(control, "drain");  // untimed: keeps the kernel's receive queues short
  }
  if (result.ok) {
    // Every client received the same bytes (its snapshot and every event), and at least every event's frame.
    std::istringstream reply(command(control, "drain"));
    std::string ok;
    std::uint64_t low = 0, high = 0;
    reply >> ok >> low >> high;
    if (ok != "ok" || low != high || low < event_bytes) {
      fail("clients received " + std::to_string(low) + ".." + std::to_string(high) +
           " bytes, expected the same, " + ">= " + std::to_string(event_bytes));
    }
    if (observer->slow_consumers.load() != 0) fail("slow consumers were closed");
  }
  command(control, "close");
  // Lets the sessions see their clients go before the io_context stops.
  for (int i = 0; i < 500 && server->open_connections() != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  server.reset();
  work.reset();
  io.stop();
  for (auto& thread : threads) thread.join();
  return result;
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto index = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

std::string load_average() {
  std::ifstream file("/proc/loadavg");
  std::string one, five, fifteen;
  file >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    if (flag == "--smoke") {
      settings.smoke = true;
      settings.clients = {200};
      settings.events = 30;
      settings.warmup = 5;
    } else if (value && flag == "--clients") {
      settings.clients = parse_list(argv[++i]);
    } else if (value && flag == "--lanes") {
      settings.lanes = parse_list(argv[++i]);
    } else if (value && flag == "--events") {
      settings.events = parse_list(argv[++i]).front();
    } else if (value && flag == "--warmup") {
      settings.warmup = static_cast<std::size_t>(std::strtoul(argv[++i], nullptr, 10));
    } else if (value && flag == "--io-threads") {
      settings.io_threads = static_cast<unsigned>(parse_list(argv[++i]).front());
    } else if (value && flag == "--receive-buffer-bytes") {
      settings.receive_buffer_bytes = static_cast<int>(parse_list(argv[++i]).front());
    } else {
      std::fprintf(stderr,
                   "usage: fanout_lanes [--clients N,...] [--lanes L,...] [--events E] [--warmup W] "
                   "[--io-threads T] [--receive-buffer-bytes B] [--smoke]\n");
      return 2;
    }
  }

  // The clients' process starts before any thread does.
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0) {
    std::perror("socketpair");
    return 1;
  }
  const pid_t child = ::fork();
  if (child < 0) {
    std::perror("fork");
    return 1;
  }
  if (child == 0) {
    ::close(pair[0]);
    return client_process(pair[1]);
  }
  ::close(pair[1]);
  const int control = pair[0];

  std::printf(
      "fanout_lanes: wall time to hand one event to N websockets (io threads %u, %zu events after %zu "
      "warm-up, receive buffers %d bytes, load average %s, %u hardware threads)\n",
      settings.io_threads, settings.events, settings.warmup, settings.receive_buffer_bytes,
      load_average().c_str(), std::thread::hardware_concurrency());
  std::printf("%8s %6s %12s %12s %12s %16s\n", "clients", "lanes", "median_us", "min_us", "max_us",
              "writes_per_s");
  int exit_code = 0;
  for (const std::size_t clients : settings.clients) {
    for (const std::size_t lanes : settings.lanes) {
      const Measure result = measure(settings, clients, lanes, control);
      if (!result.ok) {
        std::printf("%8zu %6zu FAILED: %s\n", clients, lanes, result.problem.c_str());
        exit_code = 1;
        continue;
      }
      const double median = percentile(result.micros, 0.5);
      std::printf("%8zu %6zu %12.1f %12.1f %12.1f %16.0f\n", clients, lanes, median,
                  percentile(result.micros, 0.0), percentile(result.micros, 1.0),
                  median > 0 ? static_cast<double>(clients) / (median / 1e6) : 0.0);
      std::fflush(stdout);
    }
  }
  write_line(control, "quit");
  int status = 0;
  ::waitpid(child, &status, 0);
  return exit_code;
}
