#include <utility>  // before Asio: Boost 1.74 with C++20 needs it

#include "replay/replayer.hpp"

#include <algorithm>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>

namespace ovalstream::recorder {

std::string_view replay_end_name(ReplayEnd end) noexcept {
  switch (end) {
    case ReplayEnd::kFinished:
      return "finished";
    case ReplayEnd::kCancelled:
      return "cancelled";
    case ReplayEnd::kFailed:
      break;
  }
  return "failed";
}
namespace {

std::vector<std::int64_t> pass_times(const ReplayPlan& plan) {
  std::vector<std::int64_t> times;
  if (!plan.lines) return times;
  for (std::size_t i = plan.next_index; i < plan.lines->size(); ++i)
    times.push_back((*plan.lines)[i].unix_micros);
  return times;
}

}  // namespace

std::uint64_t ReplayPlan::events_per_pass() const {
  const std::size_t size = lines ? lines->size() : 0;
  return snapshot.size() + (size > next_index ? size - next_index : 0);
}

ReplayPlan make_replay_plan(std::shared_ptr<const std::vector<core::RecordedEvent>> lines,
                            std::optional<std::int64_t> from_unix_micros, core::ReplaySpeed speed,
                            bool loop) {
  ReplayPlan plan;
  plan.speed = speed;
  plan.loop = loop;
  if (from_unix_micros) {
    core::SeekResult seek = core::seek(*lines, *from_unix_micros);
    plan.snapshot = std::move(seek.snapshot);
    plan.next_index = seek.next_index;
    // A time before the recording starts waits for nothing: the pass starts with the first line.
    plan.start_unix_micros =
        lines->empty() ? *from_unix_micros : std::max(*from_unix_micros, lines->front().unix_micros);
  } else if (!lines->empty()) {
    plan.start_unix_micros = lines->front().unix_micros;
  }
  plan.lines = std::move(lines);
  return plan;
}

std::shared_ptr<Replayer> Replayer::create(boost::asio::any_io_executor executor, ReplayPlan plan,
                                           std::shared_ptr<ReplaySink> sink,
                                           std::shared_ptr<ReplayObserver> observer) {
  return std::make_shared<Replayer>(Private{}, std::move(executor), std::move(plan), std::move(sink),
                                    std::move(observer));
}

Replayer::Replayer(Private, boost::asio::any_io_executor executor, ReplayPlan plan,
                   std::shared_ptr<ReplaySink> sink, std::shared_ptr<ReplayObserver> observer)
    : strand_(boost::asio::make_strand(executor)),
      timer_(strand_),
      plan_(std::move(plan)),
      pacing_(pass_times(plan_), plan_.start_unix_micros, plan_.speed),
      sink_(std::move(sink)),
      observer_(std::move(observer)),
      recorded_unix_micros_(plan_.start_unix_micros) {
  if (!plan_.snapshot.empty()) utc_offset_minutes_ = line_of(0).utc_offset_minutes;
}

void Replayer::start() {
  boost::asio::post(strand_, [self = shared_from_this()] {
    if (self->started_flag_ || self->ended_) return;
    self->started_flag_ = true;
    self->started_ = Clock::now();
    self->pass_started_ = self->started_;
    self->step();
  });
}

void Replayer::cancel() {
  boost::asio::post(strand_, [self = shared_from_this()] {
    if (self->ended_) return;
    self->timer_.cancel();
    self->end(ReplayEnd::kCancelled, std::nullopt);
  });
}

const core::RecordedEvent& Replayer::line_of(std::size_t item) const {
  if (item < plan_.snapshot.size()) return (*plan_.lines)[plan_.snapshot[item]];
  return (*plan_.lines)[plan_.next_index + (item - plan_.snapshot.size())];
}

std::chrono::nanoseconds Replayer::due_of(std::size_t item) const {
  // The snapshot goes out at the start of each pass, at once.
  if (item < plan_.snapshot.size()) return pacing_.pass_duration() * static_cast<std::int64_t>(pass_);
  return pacing_.due(item - plan_.snapshot.size(), pass_);
}

void Replayer::step() {
  if (ended_) return;
  const std::uint64_t total = plan_.events_per_pass();
  if (item_ >= total) {
    if (!plan_.loop || total == 0) {
      end(ReplayEnd::kFinished, std::nullopt);
      return;
    }
    ++pass_;
    item_ = 0;
    pass_started_ = Clock::now();
    sink_->begin_pass();
  }
  const Clock::time_point due = started_ + due_of(item_);
  if (due > Clock::now()) {
    timer_.expires_at(due);
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& error) {
      if (error || self->ended_) return;
      self->send_current();
    });
    return;
  }
  send_current();
}

void Replayer::send_current() {
  const core::RecordedEvent& line = line_of(item_);
  // The callback holds the replayer weakly: it may run on a sink's thread (the publish worker), and that
  // thread must never drop the last reference (the replayer owns the sink, the sink the worker, and a
  // thread cannot join itself). Whoever started the replay keeps it alive until on_end.
  sink_->send(line.event, [weak = weak_from_this(), strand = strand_](std::optional<std::string> error) {
    // Always through the strand: the sink may call back inline or from its own thread, and an inline call
    // must not recurse (--speed max would grow the stack with every event).
    boost::asio::post(strand, [weak, error = std::move(error)]() mutable {
      if (auto self = weak.lock()) self->on_sent(std::move(error));
    });
  });
}

void Replayer::on_sent(std::optional<std::string> error) {
  if (ended_) return;
  if (error) {
    end(ReplayEnd::kFailed, std::move(error));
    return;
  }
  const core::RecordedEvent& line = line_of(item_);
  if (item_ >= plan_.snapshot.size()) recorded_unix_micros_ = line.unix_micros;
  utc_offset_minutes_ = line.utc_offset_minutes;
  ++item_;
  ++sent_overall_;
  if (observer_) observer_->on_progress(progress());
  step();
}

ReplayProgress Replayer::progress() const {
  ReplayProgress progress;
  progress.sent = item_;
  progress.total = plan_.events_per_pass();
  progress.pass = pass_;
  progress.sent_overall = sent_overall_;
  progress.recorded_unix_micros = recorded_unix_micros_;
  progress.utc_offset_minutes = utc_offset_minutes_;
  progress.speed = plan_.speed;
  const auto now = Clock::now();
  progress.elapsed = started_flag_ ? std::chrono::duration_cast<std::chrono::nanoseconds>(now - started_)
                                   : std::chrono::nanoseconds(0);
  if (!plan_.speed.unlimited) {
    // Due times are fixed offsets from the start: the pass ends when its last line is due.
    const auto pass_end = pacing_.pass_duration() * static_cast<std::int64_t>(pass_ + 1);
    const auto left = pass_end - progress.elapsed;
    progress.eta = left.count() > 0 ? left : std::chrono::nanoseconds(0);
  } else if (progress.sent > 0) {
    // At the rate so far in this pass.
    const auto in_pass = std::chrono::duration_cast<std::chrono::nanoseconds>(now - pass_started_);
    const auto per_event = in_pass / static_cast<std::int64_t>(progress.sent);
    progress.eta = per_event * static_cast<std::int64_t>(progress.total - progress.sent);
  }
  if (progress.sent >= progress.total) progress.eta = std::chrono::nanoseconds(0);
  return progress;
}

void Replayer::end(ReplayEnd how, std::optional<std::string> error) {
  if (ended_) return;
  ended_ = true;
  if (observer_) {
    try {
      observer_->on_end(how, error, progress());
    } catch (...) {
      // An observer must not throw; nothing more to do.
    }
  }
}

}  // namespace ovalstream::recorder
