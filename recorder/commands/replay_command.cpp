// recorder replay: a recording into JetStream (or, with --address, over websocket to every client that
// connects), paced by the recorded gaps divided by --speed. Wiring only: reading (recording_reader), seeking
// and pacing (core/replay), driving (replayer), sinks and progress have their own files.
#include <utility>  // before Asio: Boost 1.74 with C++20 needs it

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <ostream>

#include "commands/commands.hpp"
#include "ovalstream/nats/jetstream.hpp"
#include "ovalstream/nats/settings.hpp"
#include "ovalstream/runtime/flags.hpp"
#include "ovalstream/runtime/log.hpp"
#include "recording/recording_reader.hpp"
#include "replay/jetstream_sink.hpp"
#include "replay/progress.hpp"
#include "replay/publish_worker.hpp"
#include "replay/replay_server.hpp"
#include "replay/replay_time.hpp"
#include "replay/replayer.hpp"

#ifndef OVALSTREAM_VERSION
#define OVALSTREAM_VERSION "dev"
#endif

namespace ovalstream::recorder {
namespace {

struct ReplayConfig {
  nats::NatsSettings nats;
  std::string file;
  core::ReplaySpeed speed = core::ReplaySpeed::times(1);
  std::optional<ReplayFrom> from;
  std::string from_text;
  bool loop = false;
  std::optional<runtime::ListenAddress> address;
  std::string subject_prefix;
  OnError on_error = OnError::kStop;
  bool debug = false;
};

std::optional<std::string> set_speed(std::string_view text, core::ReplaySpeed& speed) {
  if (text == "max") {
    speed = core::ReplaySpeed::max();
    return std::nullopt;
  }
  const std::string copy(text);
  char* end = nullptr;
  const double value = std::strtod(copy.c_str(), &end);
  if (copy.empty() || end != copy.c_str() + copy.size() || !std::isfinite(value))
    return "not a number or \"max\"";
  if (value <= 0) return "must be greater than 0 (use \"max\" for no waiting)";
  speed = core::ReplaySpeed::times(value);
  return std::nullopt;
}

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

// Publishes the plan into JetStream; the exit code.
int replay_into_jetstream(const ReplayConfig& config, ReplayPlan plan, const runtime::Logger& logger,
                          std::ostream& err) {
  auto connection =
      nats::Connection::connect(nats::connection_options(config.nats, "ovalstream-recorder-replay"));
  if (!connection) {
    err << "recorder replay: cannot use NATS at " << config.nats.url << ": " << connection.status().message
        << "\n";
    return 1;
  }
  const nats::Connection& nats_connection = *connection.value();
  const std::string wanted_subjects = replay_stream_subject(config.subject_prefix);
  auto info = nats::stream_info(nats_connection, config.nats.stream);
  if (info && !info->exists && config.nats.create_stream) {
    info = nats::create_stream(nats_connection, config.nats.stream, {wanted_subjects});
    if (info)
      logger.info("created stream (--create-stream)",
                  {{"stream", config.nats.stream}, {"subjects", wanted_subjects}});
  }
  if (!info) {
    err << "recorder replay: cannot look up stream " << config.nats.stream << " at " << config.nats.url
        << ": " << info.status().message << "\n";
    return 1;
  }
  if (!info->exists) {
    err << "recorder replay: stream " << config.nats.stream << " does not exist at " << config.nats.url
        << " (--create-stream creates it capturing " << wanted_subjects << ")\n";
    return 1;
  }
  // Checked before anything is published: the first event's subject must land in --stream.
  const std::uint64_t total = plan.events_per_pass();
  if (total > 0) {
    const auto& first =
        plan.snapshot.empty() ? (*plan.lines)[plan.next_index] : (*plan.lines)[plan.snapshot.front()];
    const auto subject = JetStreamSink::subject(first.event.header, 0, config.subject_prefix);
    if (subject && !stream_captures(info->subjects, *subject)) {
      std::string subjects;
      for (const auto& s : info->subjects) subjects += (subjects.empty() ? "" : ", ") + s;
      err << "recorder replay: stream " << config.nats.stream << " does not capture subject " << *subject
          << " (it captures " << subjects << "); use a stream capturing " << wanted_subjects << "\n";
      return 1;
    }
  }

  boost::asio::io_context io;
  auto worker = std::make_shared<PublishWorker>(nats_connection);
  auto sink = std::make_shared<JetStreamSink>(worker, config.subject_prefix);
  ProgressOptions progress_options;
  progress_options.terminal = &err == &std::cerr && ::isatty(STDERR_FILENO) == 1;
  auto progress = std::make_shared<ProgressReporter>(err, logger, progress_options);
  ReplayEnd outcome = ReplayEnd::kFailed;
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  auto observer = std::make_shared<CommandObserver>(progress, [&](ReplayEnd how) {
    outcome = how;
    signals.cancel();
  });
  logger.info("replaying into JetStream", {{"file", config.file},
                                           {"events", total},
                                           {"snapshotEvents", plan.snapshot.size()},
                                           {"speed", ProgressReporter::format_speed(config.speed)},
                                           {"loop", config.loop},
                                           {"stream", config.nats.stream},
                                           {"subjectPrefix", config.subject_prefix}});
  auto replayer = Replayer::create(io.get_executor(), std::move(plan), sink, observer);
  bool signalled = false;
  signals.async_wait([&](const boost::system::error_code& error, int signal_number) {
    if (error) return;
    signalled = true;
    logger.info("signal received; stopping the replay", {{"signal", signal_number}});
    replayer->cancel();
  });
  replayer->start();
  io.run();
  worker.reset();
  sink.reset();
  if (outcome == ReplayEnd::kFailed) return 1;
  if (outcome == ReplayEnd::kCancelled && !signalled) return 1;
  return 0;
}

// Serves the plan to every websocket client until a signal; the exit code.
int serve_replays(const ReplayConfig& config, ReplayPlan plan, const runtime::Logger& logger,
                  std::ostream& err) {
  boost::asio::io_context io;
  std::unique_ptr<ReplayServer> server;
  ReplayServerOptions options;
  options.address = *config.address;
  options.plan = std::move(plan);
  const std::uint64_t total = options.plan.events_per_pass();
  try {
    server = std::make_unique<ReplayServer>(io, std::move(options), logger);
  } catch (const std::exception& error) {
    err << "recorder replay: cannot listen on " << runtime::format_listen_address(*config.address) << ": "
        << error.what() << "\n";
    return 1;
  }
  server->start();
  logger.info("serving replays over websocket",
              {{"address", runtime::format_listen_address({config.address->host, server->port()})},
               {"file", config.file},
               {"events", total},
               {"speed", ProgressReporter::format_speed(config.speed)},
               {"loop", config.loop}});
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  std::function<void(const boost::system::error_code&, int)> on_signal;
  bool stopping = false;
  on_signal = [&](const boost::system::error_code& error, int signal_number) {
    if (error) return;
    if (stopping) {
      io.stop();
      return;
    }
    stopping = true;
    logger.info("signal received; closing clients", {{"signal", signal_number}});
    signals.async_wait(on_signal);
    server->shut_down([&io] { boost::asio::post(io, [&io] { io.stop(); }); });
  };
  signals.async_wait(on_signal);
  io.run();
  server.reset();
  return 0;
}

runtime::FlagSet replay_flags(ReplayConfig& replay) {
  runtime::FlagSet flags(
      "recorder replay", OVALSTREAM_VERSION,
      "Replays a recording into NATS JetStream, or over websocket with --address, waiting the "
      "recorded gaps divided by --speed.",
      "--file F [flags]");
  flags.add_string("file", &replay.file, "the recording to replay (JSON lines with _time)");
  flags.add_custom("speed", "N|max", "1",
                   "divide the recorded gaps by N (fractions allowed: 0.5 is half speed); max: no waiting",
                   [&replay](std::string_view value) { return set_speed(value, replay.speed); });
  flags.add_custom(
      "from", "TIME", "",
      "start at this recorded time (RFC 3339, as in _time) or this long after the first event "
      "(a duration, e.g. 10m): the state at that time goes out first, then the replay continues",
      [&replay](std::string_view value) -> std::optional<std::string> {
        replay.from = parse_replay_from(value);
        replay.from_text = std::string(value);
        if (!replay.from)
          return "not an RFC 3339 time (e.g. 2020-01-12T14:47:00+01:00) or a duration from the first "
                 "event (e.g. 10m)";
        return std::nullopt;
      });
  flags.add_bool("loop", &replay.loop, "start over when the recording ends");
  flags.add_custom("address", "host:port", "",
                   "serve the replay over websocket instead of publishing: every client gets its own replay "
                   "(e.g. :3000)",
                   [&replay](std::string_view value) -> std::optional<std::string> {
                     const auto parsed = runtime::parse_listen_address(value);
                     if (!parsed.ok()) return runtime::describe_address_error(parsed.error, value);
                     replay.address = parsed.address;
                     return std::nullopt;
                   });
  flags.add_string("subject-prefix", &replay.subject_prefix,
                   "publish under <prefix>.competition.... instead of the live subjects");
  flags.add_custom("on-error", "skip|stop", "stop",
                   "a corrupt line in the recording: stop (exit 1 before anything is published) or skip it",
                   [&replay](std::string_view value) -> std::optional<std::string> {
                     const auto parsed = parse_on_error(value);
                     if (!parsed) return "must be skip or stop";
                     replay.on_error = *parsed;
                     return std::nullopt;
                   });
  flags.add_bool("debug", &replay.debug, "log debug lines");
  flags.add_short_name("d", "debug");
  nats::add_nats_flags(flags, &replay.nats);
  return flags;
}

}  // namespace

std::vector<std::string> replay_flag_names() {
  ReplayConfig unused;
  return replay_flags(unused).names();
}

int run_replay(std::span<const std::string> args, std::ostream& out, std::ostream& err) {
  ReplayConfig config;
  runtime::FlagSet flags = replay_flags(config);
  add_recorder_config_file(flags);

  const runtime::ParseOutcome parsed = flags.parse(args, out, err);
  if (!parsed.should_run()) return parsed.exit_code;
  if (!parsed.positionals.empty())
    return flags.usage_error(err, "unexpected argument \"" + parsed.positionals.front() + "\"").exit_code;
  if (config.file.empty()) return flags.usage_error(err, "--file is required").exit_code;
  if (const auto problem = nats::check_nats_settings(config.nats))
    return flags.usage_error(err, *problem).exit_code;
  if (!is_valid_subject_prefix(config.subject_prefix)) {
    return flags
        .usage_error(err,
                     "--subject-prefix \"" + config.subject_prefix +
                         "\" is not a subject prefix: dot-separated tokens without '*', '>' or whitespace")
        .exit_code;
  }

  if (config.address && !config.subject_prefix.empty()) {
    return flags
        .usage_error(err, "--subject-prefix is for replays into JetStream; --address serves websockets")
        .exit_code;
  }

  runtime::LoggerOptions log_options;
  log_options.level = config.debug ? runtime::LogLevel::kDebug : runtime::LogLevel::kInfo;
  runtime::Logger logger("recorder", out, log_options);
  log_parse_outcome(logger, parsed);

  RecordingReadOptions read_options;
  read_options.on_error = config.on_error;
  read_options.require_subject = !config.address.has_value();
  Recording recording = read_recording(config.file, read_options);
  if (recording.open_error) {
    err << "recorder replay: " << *recording.open_error << "\n";
    return 1;
  }
  for (const RecordingProblem& problem : recording.problems) {
    const std::string text = describe_problem(config.file, problem);
    if (config.on_error == OnError::kStop) {
      logger.error("corrupt line in the recording; nothing replayed",
                   {{"file", config.file}, {"line", problem.line_number}, {"reason", problem.reason}});
      err << "recorder replay: " << text << " (nothing replayed; --on-error=skip skips corrupt lines)\n";
      return 1;
    }
    logger.warn("skipping a corrupt line",
                {{"file", config.file}, {"line", problem.line_number}, {"reason", problem.reason}});
    err << "recorder replay: skipping " << text << "\n";
  }
  if (recording.lines.empty()) {
    err << "recorder replay: " << config.file << " holds no events to replay\n";
    return 1;
  }
  auto lines = std::make_shared<const std::vector<core::RecordedEvent>>(std::move(recording.lines));
  std::optional<std::int64_t> from;
  if (config.from) {
    const ResolvedFrom resolved = resolve_replay_from(*config.from, *lines);
    if (!resolved.unix_micros) return flags.usage_error(err, resolved.error).exit_code;
    from = resolved.unix_micros;
  }
  ReplayPlan plan = make_replay_plan(lines, from, config.speed, config.loop);
  if (from) {
    logger.info("seeking", {{"from", config.from_text},
                            {"snapshotEvents", plan.snapshot.size()},
                            {"skippedLines", plan.next_index},
                            {"remainingLines", lines->size() - plan.next_index}});
  }
  try {
    if (config.address) return serve_replays(config, std::move(plan), logger, err);
    return replay_into_jetstream(config, std::move(plan), logger, err);
  } catch (const std::exception& error) {
    logger.error("replay failed", {{"error", error.what()}});
    err << "recorder replay: " << error.what() << "\n";
    return 1;
  }
}

}  // namespace ovalstream::recorder
