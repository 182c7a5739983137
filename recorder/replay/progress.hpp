#pragma once
// Progress of a replay for people: on a terminal a live one-line bar on stderr, redrawn at most every
// `redraw_interval` (and once at the end, then a newline); otherwise (a pipe, a log collector) a JSON log
// line every `log_interval` and one at the end. Both show events sent of total, the recorded clock reached,
// the speed and the time left in the pass. Thread safety: the ReplayObserver calls may come from any thread;
// a mutex serializes them.

#include <chrono>
#include <functional>
#include <iosfwd>
#include <mutex>
#include <optional>
#include <string>

#include "ovalstream/runtime/log.hpp"
#include "ovalstream/runtime/mutex.hpp"
#include "replay/replayer.hpp"

namespace ovalstream::recorder {

struct ProgressOptions {
  bool terminal = false;  // isatty(stderr)
  std::chrono::milliseconds redraw_interval{250};
  std::chrono::milliseconds log_interval{5000};
  int bar_width = 30;
  std::function<std::chrono::steady_clock::time_point()> clock = std::chrono::steady_clock::now;
};

class ProgressReporter : public ReplayObserver {
 public:
  // `terminal` receives the bar (when options.terminal); `logger` the log lines otherwise. `terminal` must
  // outlive the reporter.
  ProgressReporter(std::ostream& terminal, runtime::Logger logger, ProgressOptions options);

  void on_progress(const ReplayProgress& progress) override;
  void on_end(ReplayEnd how, const std::optional<std::string>& error,
              const ReplayProgress& progress) override;

  // The bar's text, without "\r": "[#####.....]  278/555 events  14:47:54  x2  ETA 1m58s".
  static std::string format_bar(const ReplayProgress& progress, int width);
  // "x2", "x0.5", "max".
  static std::string format_speed(const core::ReplaySpeed& speed);
  // The recorded clock as it was written: "2020-01-12T14:47:54.1+01:00".
  static std::string format_recorded_time(const ReplayProgress& progress);

 private:
  void draw(const ReplayProgress& progress) REQUIRES(mutex_);
  void log(const ReplayProgress& progress, std::string_view message);

  std::ostream& terminal_;
  runtime::Logger logger_;
  ProgressOptions options_;
  runtime::Mutex mutex_;
  std::optional<std::chrono::steady_clock::time_point> last_output_ GUARDED_BY(mutex_);
  bool drawn_ GUARDED_BY(mutex_) = false;
};

}  // namespace ovalstream::recorder
