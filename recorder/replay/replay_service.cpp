#include <utility>  // before Asio: Boost 1.74 with C++20 needs it

#include "replay/replay_service.hpp"

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <exception>
#include <functional>
#include <iostream>
#include <memory>
#include <ostream>

#include "common/stop_signals.hpp"
#include "ovalstream/nats/jetstream.hpp"
#include "replay/jetstream_sink.hpp"
#include "replay/progress.hpp"
#include "replay/publish_worker.hpp"
#include "replay/replay_server.hpp"

namespace ovalstream::recorder {
namespace {

// Ends the command when the replay ends; forwards progress to the reporter.
class CommandObserver : public ReplayObserver {
 public:
  CommandObserver(std::shared_ptr<ProgressReporter> progress, std::function<void(ReplayEnd)> ended)
      : progress_(std::move(progress)), ended_(std::move(ended)) {}
  void on_progress(const ReplayProgress& progress) override { progress_->on_progress(progress); }
  void on_end(ReplayEnd how, const std::optional<std::string>& error,
              const ReplayProgress& progress) override {
    progress_->on_end(how, error, progress);
    ended_(how);
  }

 private:
  std::shared_ptr<ProgressReporter> progress_;
  std::function<void(ReplayEnd)> ended_;
};

}  // namespace

LoadedReplay load_replay(const ReplayConfig& config, const runtime::Logger& logger, std::ostream& err) {
  LoadedReplay loaded;
  RecordingReadOptions read_options;
  read_options.on_error = config.on_error;
  read_options.require_subject = !config.address.has_value();
  auto read = read_recording(config.file, read_options);
  if (!read.ok()) {
    err << "recorder replay: " << read.error().message << "\n";
    return loaded;
  }
  Recording recording = std::move(read).value();
  for (const RecordingProblem& problem : recording.problems) {
    const std::string text = describe_problem(config.file, problem);
    if (config.on_error == OnError::kStop) {
      logger.error("corrupt line in the recording; nothing replayed",
                   {{"file", config.file}, {"line", problem.line_number}, {"reason", problem.reason}});
      err << "recorder replay: " << text << " (nothing replayed; --on-error=skip skips corrupt lines)\n";
      return loaded;
    }
    logger.warn("skipping a corrupt line",
                {{"file", config.file}, {"line", problem.line_number}, {"reason", problem.reason}});
    err << "recorder replay: skipping " << text << "\n";
  }
  if (recording.lines.empty()) {
    err << "recorder replay: " << config.file << " holds no events to replay\n";
    return loaded;
  }
  auto lines = std::make_shared<const std::vector<core::RecordedEvent>>(std::move(recording.lines));
  std::optional<std::int64_t> from;
  if (config.from) {
    const ResolvedFrom resolved = resolve_replay_from(*config.from, *lines);
    if (!resolved.unix_micros) {
      loaded.exit_code = 2;
      loaded.usage_error = resolved.error;
      return loaded;
    }
    from = resolved.unix_micros;
  }
  loaded.plan = make_replay_plan(lines, from, config.speed, config.loop);
  if (from) {
    logger.info("seeking", {{"from", config.from_text},
                            {"snapshotEvents", loaded.plan->snapshot.size()},
                            {"skippedLines", loaded.plan->next_index},
                            {"remainingLines", lines->size() - loaded.plan->next_index}});
  }
  loaded.exit_code = 0;
  return loaded;
}

ReplayService::ReplayService(ReplayConfig config, ReplayPlan plan, runtime::Logger logger, std::ostream& err)
    : config_(std::move(config)), plan_(std::move(plan)), logger_(std::move(logger)), err_(err) {}

int ReplayService::run() {
  try {
    return config_.address ? over_websocket() : into_jetstream();
  } catch (const std::exception& error) {
    logger_.error("replay failed", {{"error", error.what()}});
    err_ << "recorder replay: " << error.what() << "\n";
    return 1;
  }
}

int ReplayService::into_jetstream() {
  auto connection =
      nats::Connection::connect(nats::connection_options(config_.nats, "ovalstream-recorder-replay"));
  if (!connection) {
    err_ << "recorder replay: cannot use NATS at " << config_.nats.url << ": " << connection.error().message
         << "\n";
    return 1;
  }
  const nats::Connection& nats_connection = *connection.value();
  const std::string wanted_subjects = replay_stream_subject(config_.subject_prefix);
  auto info = nats::stream_info(nats_connection, config_.nats.stream);
  if (info && !info->exists && config_.nats.create_stream) {
    info = nats::create_stream(nats_connection, config_.nats.stream, {wanted_subjects});
    if (info)
      logger_.info("created stream (--create-stream)",
                   {{"stream", config_.nats.stream}, {"subjects", wanted_subjects}});
  }
  if (!info) {
    err_ << "recorder replay: cannot look up stream " << config_.nats.stream << " at " << config_.nats.url
         << ": " << info.error().message << "\n";
    return 1;
  }
  if (!info->exists) {
    err_ << "recorder replay: stream " << config_.nats.stream << " does not exist at " << config_.nats.url
         << " (--create-stream creates it capturing " << wanted_subjects << ")\n";
    return 1;
  }
  // Checked before anything is published: the first event's subject must land in --stream.
  const std::uint64_t total = plan_.events_per_pass();
  if (total > 0) {
    const auto& first =
        plan_.snapshot.empty() ? (*plan_.lines)[plan_.next_index] : (*plan_.lines)[plan_.snapshot.front()];
    const auto subject = JetStreamSink::subject(first.event.header, 0, config_.subject_prefix);
    if (subject && !stream_captures(info->subjects, *subject)) {
      std::string subjects;
      for (const auto& s : info->subjects) subjects += (subjects.empty() ? "" : ", ") + s;
      err_ << "recorder replay: stream " << config_.nats.stream << " does not capture subject " << *subject
           << " (it captures " << subjects << "); use a stream capturing " << wanted_subjects << "\n";
      return 1;
    }
  }

  boost::asio::io_context io;
  auto worker = std::make_shared<PublishWorker>(nats_connection);
  auto sink = std::make_shared<JetStreamSink>(worker, config_.subject_prefix);
  ProgressOptions progress_options;
  progress_options.terminal = &err_ == &std::cerr && ::isatty(STDERR_FILENO) == 1;
  auto progress = std::make_shared<ProgressReporter>(err_, logger_, progress_options);
  ReplayEnd outcome = ReplayEnd::kFailed;
  std::shared_ptr<Replayer> replayer;
  bool signalled = false;
  StopSignals signals(io, [&](int signal_number) {
    signalled = true;
    logger_.info("signal received; stopping the replay", {{"signal", signal_number}});
    if (replayer) replayer->cancel();
  });
  auto observer = std::make_shared<CommandObserver>(progress, [&](ReplayEnd how) {
    outcome = how;
    signals.cancel();
  });
  logger_.info("replaying into JetStream", {{"file", config_.file},
                                            {"events", total},
                                            {"snapshotEvents", plan_.snapshot.size()},
                                            {"speed", ProgressReporter::format_speed(config_.speed)},
                                            {"loop", config_.loop},
                                            {"stream", config_.nats.stream},
                                            {"subjectPrefix", config_.subject_prefix}});
  replayer = Replayer::create(io.get_executor(), std::move(plan_), sink, observer);
  replayer->start();
  io.run();
  worker.reset();
  sink.reset();
  if (outcome == ReplayEnd::kFailed) return 1;
  if (outcome == ReplayEnd::kCancelled && !signalled) return 1;
  return 0;
}

int ReplayService::over_websocket() {
  boost::asio::io_context io;
  std::unique_ptr<ReplayServer> server;
  ReplayServerOptions options;
  options.address = *config_.address;
  options.plan = std::move(plan_);
  const std::uint64_t total = options.plan.events_per_pass();
  try {
    server = std::make_unique<ReplayServer>(io, std::move(options), logger_);
  } catch (const std::exception& error) {
    err_ << "recorder replay: cannot listen on " << runtime::format_listen_address(*config_.address) << ": "
         << error.what() << "\n";
    return 1;
  }
  server->start();
  logger_.info("serving replays over websocket",
               {{"address", runtime::format_listen_address({config_.address->host, server->port()})},
                {"file", config_.file},
                {"events", total},
                {"speed", ProgressReporter::format_speed(config_.speed)},
                {"loop", config_.loop}});
  // The first signal closes the clients (the io_context then runs out of work); a second stops at once.
  bool stopping = false;
  StopSignals signals(io, [&](int signal_number) {
    if (stopping) {
      io.stop();
      return;
    }
    stopping = true;
    logger_.info("signal received; closing clients", {{"signal", signal_number}});
    server->shut_down([&io] { boost::asio::post(io, [&io] { io.stop(); }); });
  });
  io.run();
  server.reset();
  return 0;
}

}  // namespace ovalstream::recorder
