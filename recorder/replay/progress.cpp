#include "replay/progress.hpp"

#include <cstdio>
#include <ostream>

#include "ovalstream/core/record_codec.hpp"
#include "ovalstream/runtime/duration.hpp"

namespace ovalstream::recorder {
namespace {

// Whole seconds are enough for a person: "1m58s".
std::string format_eta(std::chrono::nanoseconds eta) {
  return runtime::format_go_duration(std::chrono::duration_cast<std::chrono::seconds>(eta));
}

}  // namespace

ProgressReporter::ProgressReporter(std::ostream& terminal, runtime::Logger logger, ProgressOptions options)
    : terminal_(terminal), logger_(std::move(logger)), options_(std::move(options)) {}

std::string ProgressReporter::format_speed(const core::ReplaySpeed& speed) {
  if (speed.unlimited) return "max";
  char text[32];
  std::snprintf(text, sizeof text, "x%g", speed.factor);
  return text;
}

std::string ProgressReporter::format_recorded_time(const ReplayProgress& progress) {
  return core::format_rfc3339(core::RecordTime{progress.recorded_unix_micros, progress.utc_offset_minutes});
}

std::string ProgressReporter::format_bar(const ReplayProgress& progress, int width) {
  const double fraction =
      progress.total == 0 ? 1.0 : static_cast<double>(progress.sent) / static_cast<double>(progress.total);
  const int filled = static_cast<int>(fraction * width);
  std::string bar = "[";
  bar.append(static_cast<std::size_t>(filled), '#');
  bar.append(static_cast<std::size_t>(width - filled), '.');
  bar += "] ";
  bar += std::to_string(progress.sent) + "/" + std::to_string(progress.total) + " events  ";
  // The clock of day as recorded: "14:47:54" from "2020-01-12T14:47:54.1+01:00".
  const std::string time = format_recorded_time(progress);
  bar += time.size() >= 19 ? time.substr(11, 8) : time;
  bar += "  " + format_speed(progress.speed);
  if (progress.pass > 0) bar += "  pass " + std::to_string(progress.pass + 1);
  bar += "  ETA " + (progress.eta ? format_eta(*progress.eta) : std::string("?"));
  return bar;
}

void ProgressReporter::draw(const ReplayProgress& progress) {
  // "\r" and erase the line, so a shorter line leaves nothing behind.
  terminal_ << "\r\x1b[2K" << format_bar(progress, options_.bar_width) << std::flush;
  drawn_ = true;
}

void ProgressReporter::log(const ReplayProgress& progress, std::string_view message) {
  logger_.info(message, {{"sent", progress.sent},
                         {"total", progress.total},
                         {"pass", progress.pass + 1},
                         {"recordedTime", format_recorded_time(progress)},
                         {"speed", format_speed(progress.speed)},
                         {"eta", progress.eta ? format_eta(*progress.eta) : std::string("unknown")}});
}

void ProgressReporter::on_progress(const ReplayProgress& progress) {
  runtime::MutexLock lock(mutex_);
  const auto now = options_.clock();
  const auto interval = options_.terminal ? options_.redraw_interval : options_.log_interval;
  if (last_output_ && now - *last_output_ < interval) return;
  last_output_ = now;
  if (options_.terminal) {
    draw(progress);
  } else {
    log(progress, "replay progress");
  }
}

void ProgressReporter::on_end(ReplayEnd how, const std::optional<std::string>& error,
                              const ReplayProgress& progress) {
  runtime::MutexLock lock(mutex_);
  if (options_.terminal) {
    draw(progress);
    terminal_ << "\n" << std::flush;
  }
  switch (how) {
    case ReplayEnd::kFinished:
      log(progress, "replay finished");
      break;
    case ReplayEnd::kCancelled:
      log(progress, "replay stopped");
      break;
    case ReplayEnd::kFailed:
      logger_.error("replay failed", {{"error", error.value_or("")},
                                      {"sent", progress.sent},
                                      {"total", progress.total},
                                      {"recordedTime", format_recorded_time(progress)}});
      break;
  }
}

}  // namespace ovalstream::recorder
