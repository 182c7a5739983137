#pragma once
// Drives one replay on an io_context: the lines of a recording go to a sink (JetStream or one websocket),
// each when the core's pacing says it is due. Waiting is a steady_timer on the replayer's strand, so there is
// no thread per replay: `serve` and the replay server run many replayers on one io_context and cancel any
// one. A replay that seeks (--from) first sends the state at that time (the core's snapshot), at once, then
// the lines after it, paced from that time. With `loop` it starts over when the last line is sent.
// The sink is called one event at a time; the next event is scheduled only when the sink reported the
// previous one done, so a slow sink (publish acknowledgements) slows the replay instead of queueing it.
// Due times are offsets from the replay's start on the steady clock, so delays do not accumulate: after a
// stall the replay catches up.
// Ownership: the caller keeps the shared_ptr until on_end (pending timers hold it too, sink callbacks only
// weakly); dropping it while a sink call is pending ends the replay without on_end.
// Thread safety: start() and cancel() may be called from any thread. The observer is called on the strand,
// one call at a time; on_end exactly once (unless the io_context is destroyed before the replay ends).

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ovalstream/core/replay.hpp"
#include "replay/replay_sink.hpp"

namespace ovalstream::recorder {

// What one replay sends.
struct ReplayPlan {
  std::shared_ptr<const std::vector<core::RecordedEvent>> lines;  // the whole recording
  std::vector<std::size_t> snapshot;   // indexes into lines sent first, at once (after a seek)
  std::size_t next_index = 0;          // then lines[next_index..], paced
  std::int64_t start_unix_micros = 0;  // the recorded time the pass starts at
  core::ReplaySpeed speed;
  bool loop = false;

  // Events one pass sends.
  std::uint64_t events_per_pass() const;
};

// A plan from the start (`from` = nullopt) or seeking to the recorded time `from`.
ReplayPlan make_replay_plan(std::shared_ptr<const std::vector<core::RecordedEvent>> lines,
                            std::optional<std::int64_t> from_unix_micros, core::ReplaySpeed speed, bool loop);

struct ReplayProgress {
  std::uint64_t sent = 0;   // events sent in this pass
  std::uint64_t total = 0;  // events of one pass
  std::uint64_t pass = 0;   // 0-based loop pass
  std::uint64_t sent_overall = 0;
  // The recorded clock the replay has reached: the time of the last line sent (the --from time while the
  // snapshot goes out).
  std::int64_t recorded_unix_micros = 0;
  int utc_offset_minutes = 0;
  core::ReplaySpeed speed;
  std::chrono::nanoseconds elapsed{0};  // since start
  // Until the end of this pass; nullopt when unknown (--speed max before anything was sent).
  std::optional<std::chrono::nanoseconds> eta;
};

enum class ReplayEnd : std::uint8_t { kFinished, kCancelled, kFailed };
// "finished", "cancelled", "failed" (API states and metric labels).
std::string_view replay_end_name(ReplayEnd end) noexcept;

class ReplayObserver {
 public:
  virtual ~ReplayObserver() = default;
  // After each event sent.
  virtual void on_progress(const ReplayProgress&) {}
  // `error` is set for kFailed.
  virtual void on_end(ReplayEnd, const std::optional<std::string>& /*error*/, const ReplayProgress&) {}
};

class Replayer : public std::enable_shared_from_this<Replayer> {
 public:
  // `observer` may be null.
  static std::shared_ptr<Replayer> create(boost::asio::any_io_executor executor, ReplayPlan plan,
                                          std::shared_ptr<ReplaySink> sink,
                                          std::shared_ptr<ReplayObserver> observer);

  void start();
  // Stops the replay: no event is sent after on_end(kCancelled). An event handed to the sink already may
  // still be delivered. No-op once ended.
  void cancel();

  Replayer(const Replayer&) = delete;
  Replayer& operator=(const Replayer&) = delete;

 private:
  struct Private {};

 public:
  Replayer(Private, boost::asio::any_io_executor executor, ReplayPlan plan, std::shared_ptr<ReplaySink> sink,
           std::shared_ptr<ReplayObserver> observer);

 private:
  using Clock = std::chrono::steady_clock;

  void step();
  void send_current();
  void on_sent(std::optional<std::string> error);
  void end(ReplayEnd how, std::optional<std::string> error);
  const core::RecordedEvent& line_of(std::size_t item) const;
  std::chrono::nanoseconds due_of(std::size_t item) const;
  ReplayProgress progress() const;

  boost::asio::strand<boost::asio::any_io_executor> strand_;
  boost::asio::steady_timer timer_;
  ReplayPlan plan_;
  core::ReplayPacing pacing_;
  std::shared_ptr<ReplaySink> sink_;
  std::shared_ptr<ReplayObserver> observer_;

  Clock::time_point started_{};
  Clock::time_point pass_started_{};
  std::uint64_t pass_ = 0;
  std::size_t item_ = 0;  // the next item of the pass: snapshot entries, then lines from next_index
  std::uint64_t sent_overall_ = 0;
  std::int64_t recorded_unix_micros_ = 0;
  int utc_offset_minutes_ = 0;
  bool started_flag_ = false;
  bool ended_ = false;
};

}  // namespace ovalstream::recorder
