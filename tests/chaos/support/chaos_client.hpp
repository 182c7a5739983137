#pragma once
// Chaos-test support: a websocket viewer of one competition that behaves like the scoreboard page behind a
// load balancer. It asks for positions (?positions=1), pings every `ping_every` and gives a connection up
// when nothing (not even a pong) arrived for `dead_after` (a paused aggregator keeps its sockets open), and
// then, or when the connection ends, goes to the other aggregator and resumes with ?since=P&epoch=E. It
// leaves and rejoins on a schedule (some rejoins resume, some start afresh). Its view follows the client
// rule of docs/protocol.md: events count once the position frame after them arrived (events after the last
// position are dropped when the connection ends, the resume sends them again), a reset or a fresh join
// empties it. Every connection is kept as a segment (its URL and every text frame) for the checks.
// Thread safety: the client runs on its own thread; the accessors may be called from any thread.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ovalstream/core/competition_state.hpp"

namespace ovalstream::chaos {

// The websocket ports of the aggregators (0 while one is down), shared by the clients and the test.
class AggregatorDirectory {
 public:
  explicit AggregatorDirectory(std::size_t size) : ports_(size, 0) {}
  void set(std::size_t index, std::uint16_t port);
  std::uint16_t port(std::size_t index) const;
  std::size_t size() const { return ports_.size(); }

 private:
  mutable std::mutex mutex_;
  std::vector<std::uint16_t> ports_;
};

struct Segment {
  std::size_t aggregator = 0;
  std::string target;                   // the request target
  std::optional<core::Position> since;  // a resume from this position
  std::vector<std::string> frames;      // every text frame, control frames included, in order
  std::string end;                      // why it ended
};

struct ChurnStep {
  std::chrono::milliseconds at{0};    // after start()
  std::chrono::milliseconds away{0};  // how long the client stays away
  bool fresh = false;                 // rejoin without since (a new viewer on that screen)
};

struct ChaosClientOptions {
  std::string name;
  std::string competition_id;
  std::size_t home = 0;  // the aggregator it joins first
  std::vector<ChurnStep> churn;
  std::chrono::milliseconds ping_every{500};
  std::chrono::milliseconds dead_after{3000};
};

class ChaosClient {
 public:
  ChaosClient(ChaosClientOptions options, const AggregatorDirectory& directory);
  ~ChaosClient();
  ChaosClient(const ChaosClient&) = delete;
  ChaosClient& operator=(const ChaosClient&) = delete;

  void start();
  // No more leaving (pending churn steps are dropped); a client that is away comes back at once.
  void stop_churn();
  void stop();

  const std::string& name() const { return options_.name; }
  // Connected, live (the live frame arrived) at `position`, nothing uncommitted.
  bool settled_at(core::Position position) const;
  std::string epoch() const;     // of the latest live frame
  std::string describe() const;  // for failure messages
  // The committed view's event frames (since the last reset or fresh join).
  std::vector<std::string> view_frames() const;
  std::vector<Segment> segments() const;
  std::size_t reconnects() const;

 private:
  void run();
  void handle_text(std::string text);
  void end_segment(const std::string& why);

  ChaosClientOptions options_;
  const AggregatorDirectory& directory_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> churn_stopped_{false};

  mutable std::mutex mutex_;
  std::vector<Segment> segments_;
  bool connected_ = false;
  bool live_ = false;
  std::vector<std::string> committed_;
  std::vector<std::string> pending_;
  std::optional<core::Position> position_;
  std::string epoch_;
  std::size_t reconnects_ = 0;
};

}  // namespace ovalstream::chaos
