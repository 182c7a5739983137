#pragma once
// Test support for the replay tests: recordings written to a temporary directory (generated events with
// chosen gaps, or raw text for corrupt files), the lines of a generated recording as the replayer gets them,
// and a fake sink that records what it was sent and when.
// Thread safety: FakeSink may be called from any thread (a mutex); the rest is for one test thread.

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ovalstream/core/replay.hpp"
#include "replay/replay_sink.hpp"

namespace ovalstream::recorder::itest {

// The first event's recorded time of generated recordings: 2020-01-12T14:45:54.216352+01:00.
inline constexpr std::int64_t kGeneratedStartMicros = 1578836754216352;

// `count` small valid events of one competition (activation, distance, heat, then race events), as JSON.
std::vector<std::string> generated_events(std::size_t count);

// The recording text of `events` at kGeneratedStartMicros + the cumulative gaps (gaps[0] is the first event's
// offset, usually 0), each line written by the core's codec with a +01:00 offset.
std::string recording_text(const std::vector<std::string>& events,
                           const std::vector<std::chrono::microseconds>& gaps);

// Writes `text` to `dir`/`name`; the path.
std::string write_text_file(const std::string& dir, const std::string& name, const std::string& text);

// The lines of a recording text (it must parse), as read_recording gives them.
std::shared_ptr<const std::vector<core::RecordedEvent>> parse_recording_text(const std::string& text);

class FakeSink : public ReplaySink {
 public:
  struct Sent {
    std::chrono::steady_clock::time_point at;
    std::string bytes;
  };
  void send(const core::Event& event, Done done) override;
  void begin_pass() override;

  std::vector<Sent> sent() const;
  std::size_t passes_begun() const;
  // The next send fails with this message (once).
  void fail_next(std::string message);

 private:
  mutable std::mutex mutex_;
  std::vector<Sent> sent_;
  std::size_t passes_begun_ = 0;
  std::string fail_next_;
};

}  // namespace ovalstream::recorder::itest
