#include "serve/replay_manager.hpp"

#include <chrono>

#include "ovalstream/core/record_codec.hpp"
#include "ovalstream/nats/jetstream.hpp"
#include "recording/recording_reader.hpp"
#include "replay/jetstream_sink.hpp"

namespace ovalstream::recorder {

// Forwards a replay's reports to the manager by id; the weak reference lets a replay outlive the manager.
class ReplayManager::Observer final : public ReplayObserver {
 public:
  Observer(std::weak_ptr<ReplayManager> manager, std::string id)
      : manager_(std::move(manager)), id_(std::move(id)) {}
  void on_progress(const ReplayProgress& progress) override {
    if (auto manager = manager_.lock()) manager->on_progress(id_, progress);
  }
  void on_end(ReplayEnd end, const std::optional<std::string>& error,
              const ReplayProgress& progress) override {
    if (auto manager = manager_.lock()) manager->on_end(id_, end, error, progress);
  }

 private:
  std::weak_ptr<ReplayManager> manager_;
  std::string id_;
};

namespace {

std::string now_rfc3339() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return core::format_rfc3339({std::chrono::duration_cast<std::chrono::microseconds>(now).count(), 0});
}

}  // namespace

ReplayManager::ReplayManager(const nats::Connection& connection, boost::asio::any_io_executor executor,
                             std::shared_ptr<RecordingCatalog> catalog,
                             std::shared_ptr<RecorderTelemetry> telemetry, runtime::Logger logger,
                             ReplayManagerOptions options)
    : connection_(connection),
      executor_(std::move(executor)),
      catalog_(std::move(catalog)),
      telemetry_(std::move(telemetry)),
      logger_(std::move(logger)),
      options_(std::move(options)),
      worker_(std::make_shared<PublishWorker>(connection_)) {}

std::optional<ReplayControl::Refusal> ReplayManager::check_stream(const std::string& stream,
                                                                  const std::string& subject) const {
  const auto info = nats::stream_info(connection_, stream);
  if (!info) return Refusal{503, "cannot look up stream " + stream + ": " + info.error().message};
  if (!info->exists) {
    return Refusal{409, "stream " + stream + " does not exist (serve --create-stream creates it)"};
  }
  if (!stream_captures(info->subjects, subject)) {
    std::string subjects;
    for (const auto& captured : info->subjects) subjects += (subjects.empty() ? "" : ", ") + captured;
    return Refusal{400, "stream " + stream + " does not capture " + subject + " (it captures " + subjects +
                            "): choose a subjectPrefix under it"};
  }
  return std::nullopt;
}

ReplayControl::StartResult ReplayManager::start(const ReplayRequest& request) {
  std::error_code error;
  const auto file = catalog_->resolve(request.recording, error);
  if (error == std::errc::invalid_argument)
    return {std::nullopt, {400, "bad recording name " + request.recording}};
  if (error) return {std::nullopt, {404, "no recording " + request.recording}};

  std::string id;
  {
    runtime::MutexLock lock(mutex_);
    if (running_locked() >= options_.max_running) {
      return {std::nullopt,
              {503, "already " + std::to_string(options_.max_running) + " replays running; stop one first"}};
    }
    // The start second keeps ids (and the default prefix replay.<id>) unique across restarts of the service,
    // so a new replay never mixes into an old one's subjects in the replay stream.
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    id = "r" + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now).count()) + "-" +
         std::to_string(next_id_++);
  }
  const std::string prefix = request.subject_prefix.value_or("replay." + id);
  const bool live = prefix.empty();
  if (live && !options_.allow_live_replay) {
    return {std::nullopt, {403, "replaying onto the live subjects needs serve --allow-live-replay"}};
  }
  if (!is_valid_subject_prefix(prefix)) {
    return {std::nullopt, {400, "subjectPrefix \"" + prefix + "\" is not dot-separated subject tokens"}};
  }

  RecordingReadOptions read_options;
  read_options.on_error = OnError::kSkip;  // a recording being written may end in a partial line
  read_options.require_subject = true;
  const std::string stream = live ? options_.live_stream : options_.replay_stream;
  {
    // Cheap checks first: the first event and the stream decide most refusals, so a refused request never
    // costs a parse of the whole recording.
    RecordingReadOptions first_line_options = read_options;
    first_line_options.max_lines = 1;
    const auto start = read_recording(file.string(), first_line_options);
    if (!start.ok())
      return {std::nullopt, {404, "cannot read " + request.recording + ": " + start.error().message}};
    if (start->lines.empty())
      return {std::nullopt, {400, "recording " + request.recording + " has no events to replay"}};
    const auto first_subject = JetStreamSink::subject(start->lines.front().event.header, 0, prefix);
    if (!first_subject)
      return {std::nullopt, {400, "the first event of " + request.recording + " has no subject"}};
    if (auto refusal = check_stream(stream, *first_subject)) return {std::nullopt, *refusal};
  }
  {
    runtime::MutexLock lock(mutex_);
    if (running_locked() >= options_.max_running) {
      return {std::nullopt,
              {503, "already " + std::to_string(options_.max_running) + " replays running; stop one first"}};
    }
  }
  auto read = read_recording(file.string(), read_options);
  if (!read.ok())
    return {std::nullopt, {404, "cannot read " + request.recording + ": " + read.error().message}};
  Recording recording = std::move(read).value();
  if (!recording.problems.empty()) {
    logger_.warn("replay skips lines it cannot publish",
                 {{"recording", request.recording},
                  {"lines", recording.problems.size()},
                  {"first", describe_problem(request.recording, recording.problems.front())}});
  }
  if (recording.lines.empty())
    return {std::nullopt, {400, "recording " + request.recording + " has no events to replay"}};

  auto lines = std::make_shared<const std::vector<core::RecordedEvent>>(std::move(recording.lines));
  ReplayPlan plan = make_replay_plan(lines, std::nullopt, request.speed, false);
  ReplayStatus status;
  status.id = id;
  status.recording = request.recording;
  status.speed = request.speed;
  status.subject_prefix = prefix;
  status.state = "running";
  status.total = plan.events_per_pass();
  status.started_at = now_rfc3339();

  auto sink = std::make_shared<JetStreamSink>(worker_, prefix);
  auto replayer =
      Replayer::create(executor_, std::move(plan), sink, std::make_shared<Observer>(weak_from_this(), id));
  {
    runtime::MutexLock lock(mutex_);
    if (running_locked() >= options_.max_running) {
      return {std::nullopt,
              {503, "already " + std::to_string(options_.max_running) + " replays running; stop one first"}};
    }
    entries_[id] = Entry{status, replayer};
  }
  telemetry_->replay_started(id);
  logger_.info("replay started", {{"replay", id},
                                  {"recording", request.recording},
                                  {"events", status.total},
                                  {"speed", format_replay_speed(request.speed)},
                                  {"subjectPrefix", prefix},
                                  {"stream", stream}});
  replayer->start();
  return {status, {}};
}

std::size_t ReplayManager::running() const {
  runtime::MutexLock lock(mutex_);
  return running_locked();
}

std::size_t ReplayManager::running_locked() const {
  std::size_t count = 0;
  for (const auto& [id, entry] : entries_) count += entry.replayer ? 1 : 0;
  return count;
}

std::vector<ReplayStatus> ReplayManager::list() {
  runtime::MutexLock lock(mutex_);
  std::vector<ReplayStatus> running_first;
  for (const bool want_running : {true, false}) {
    for (const auto& [id, entry] : entries_) {
      if (static_cast<bool>(entry.replayer) == want_running) running_first.push_back(entry.status);
    }
  }
  return running_first;
}

std::optional<ReplayStatus> ReplayManager::find(const std::string& id) {
  runtime::MutexLock lock(mutex_);
  const auto it = entries_.find(id);
  if (it == entries_.end()) return std::nullopt;
  return it->second.status;
}

std::optional<ReplayStatus> ReplayManager::stop(const std::string& id) {
  std::shared_ptr<Replayer> replayer;
  ReplayStatus status;
  {
    runtime::MutexLock lock(mutex_);
    const auto it = entries_.find(id);
    if (it == entries_.end()) return std::nullopt;
    replayer = it->second.replayer;
    // Reported at once: cancel() guarantees nothing more is sent after on_end, which follows shortly.
    if (replayer) it->second.status.state = "cancelled";
    status = it->second.status;
  }
  if (replayer) replayer->cancel();
  return status;
}

void ReplayManager::stop_all() {
  std::vector<std::shared_ptr<Replayer>> replayers;
  {
    runtime::MutexLock lock(mutex_);
    for (auto& [id, entry] : entries_) {
      if (entry.replayer) replayers.push_back(entry.replayer);
    }
  }
  for (const auto& replayer : replayers) replayer->cancel();
}

void ReplayManager::on_progress(const std::string& id, const ReplayProgress& progress) {
  {
    runtime::MutexLock lock(mutex_);
    const auto it = entries_.find(id);
    if (it == entries_.end()) return;
    it->second.status.sent = progress.sent;
  }
  telemetry_->replay_progressed(id, progress);
}

void ReplayManager::on_end(const std::string& id, ReplayEnd end, const std::optional<std::string>& error,
                           const ReplayProgress& progress) {
  {
    runtime::MutexLock lock(mutex_);
    const auto it = entries_.find(id);
    if (it == entries_.end()) return;
    Entry& entry = it->second;
    entry.replayer.reset();
    entry.status.sent = progress.sent;
    entry.status.state = std::string(replay_end_name(end));
    if (error) entry.status.error = *error;
    ended_order_.push_back(id);
    while (ended_order_.size() > options_.max_ended) {
      entries_.erase(ended_order_.front());
      ended_order_.pop_front();
    }
  }
  telemetry_->replay_progressed(id, progress);
  telemetry_->replay_ended(id, end);
  logger_.info("replay ended", {{"replay", id},
                                {"state", std::string(replay_end_name(end))},
                                {"sent", progress.sent},
                                {"error", error.value_or("")}});
}

}  // namespace ovalstream::recorder
