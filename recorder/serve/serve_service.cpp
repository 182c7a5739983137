#include <utility>  // before Asio: Boost 1.74 with C++20 needs it

#include "serve/serve_service.hpp"

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "common/stop_signals.hpp"
#include "common/stoppable_sleep.hpp"
#include "ovalstream/auth/key_reloader.hpp"
#include "ovalstream/auth/key_store.hpp"
#include "ovalstream/auth/origin_policy.hpp"
#include "ovalstream/hub/health_routes.hpp"
#include "ovalstream/hub/server.hpp"
#include "ovalstream/nats/connection.hpp"
#include "ovalstream/nats/jetstream.hpp"
#include "ovalstream/nats/settings.hpp"
#include "record/jetstream_recorder.hpp"
#include "recording/recording_catalog.hpp"
#include "recording/recording_writer.hpp"
#include "serve/recorder_telemetry.hpp"
#include "serve/replay_manager.hpp"
#include "serve/serve_access.hpp"
#include "serve/serve_api.hpp"

#ifndef OVALSTREAM_VERSION
#define OVALSTREAM_VERSION "dev"
#endif

namespace ovalstream::recorder {
namespace {

constexpr std::string_view kReplaySubjects = "replay.>";
constexpr auto kStreamRetry = std::chrono::seconds(1);

}  // namespace

class ServeService::Impl : public std::enable_shared_from_this<ServeService::Impl> {
 public:
  Impl(ServeConfig config, runtime::Logger logger)
      : config_(std::move(config)),
        logger_(std::move(logger)),
        telemetry_(std::make_shared<RecorderTelemetry>(OVALSTREAM_VERSION)) {}

  int run();

 private:
  void connect_nats();
  void start_servers();
  // The recorder thread: creates the streams (--create-stream, retried), then records until stopped.
  void record();
  bool ensure_streams();
  void shut_down(int exit_code);
  std::string readiness_problems() const;

  ServeConfig config_;
  runtime::Logger logger_;
  std::shared_ptr<RecorderTelemetry> telemetry_;
  boost::asio::io_context io_;
  boost::asio::io_context metrics_io_;
  std::optional<StopSignals> signals_;  // from the start of run() on
  std::unique_ptr<nats::Connection> nats_;
  std::unique_ptr<RecordingWriter> writer_;
  std::unique_ptr<JetstreamRecorder> recorder_;
  std::shared_ptr<RecordingCatalog> catalog_;
  std::shared_ptr<ReplayManager> replays_;
  std::unique_ptr<hub::Server> api_server_;
  std::shared_ptr<auth::KeyStore> keys_;             // --auth required only
  std::shared_ptr<auth::KeyReloader> key_reloader_;  // SIGHUP and changed key files
  std::unique_ptr<hub::Server> metrics_server_;
  std::thread recorder_thread_;
  std::atomic<bool> nats_connected_{false};
  std::atomic<bool> recording_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<int> exit_code_{0};
};

int ServeService::Impl::run() {
  // Taken from here on; handled once io_ runs.
  signals_.emplace(io_, [weak = weak_from_this()](int signal) {
    if (const auto self = weak.lock()) {
      self->logger_.info("stopping", {{"signal", signal}});
      self->shut_down(0);
    }
  });
  std::error_code error;
  std::filesystem::create_directories(config_.directory, error);
  if (error) {
    throw std::runtime_error("cannot create the recordings directory " + config_.directory + ": " +
                             error.message());
  }
  writer_ = RecordingWriter::for_directory(config_.directory, logger_.child("writer"), *telemetry_);
  writer_->set_max_open_files(static_cast<std::size_t>(config_.max_open_files));
  if (const auto opened = writer_->open(); !opened.ok()) {
    throw std::runtime_error("cannot open the recordings directory " + config_.directory + ": " +
                             opened.error().message());
  }
  connect_nats();
  catalog_ = std::make_shared<RecordingCatalog>(config_.directory);
  ReplayManagerOptions replay_options;
  replay_options.live_stream = config_.nats.stream;
  replay_options.replay_stream = config_.replay_stream;
  replay_options.allow_live_replay = config_.allow_live_replay;
  replay_options.max_running = static_cast<std::size_t>(config_.max_replays);
  replays_ = std::make_shared<ReplayManager>(*nats_, io_.get_executor(), catalog_, telemetry_,
                                             logger_.child("replay"), replay_options);
  start_servers();

  JetstreamRecorderOptions options;
  options.consumer.stream = config_.nats.stream;
  options.consumer.durable = config_.durable;
  options.consumer.filter_subject = "competition.>";
  options.consumer.ack_wait = config_.ack_wait;
  recorder_ =
      std::make_unique<JetstreamRecorder>(*nats_, *writer_, options, logger_.child("jetstream"), *telemetry_);
  recorder_thread_ = std::thread([self = shared_from_this()] { self->record(); });

  // Health and metrics run on their own thread and io_context: a burst of API work (a replay request
  // reading a recording, many downloads) never delays a liveness probe.
  auto metrics_work = boost::asio::make_work_guard(metrics_io_);
  std::thread metrics_thread([this] { metrics_io_.run(); });
  std::thread second_thread([this] { io_.run(); });
  io_.run();
  second_thread.join();
  metrics_work.reset();
  metrics_io_.stop();
  metrics_thread.join();
  recorder_->stop();
  recorder_thread_.join();
  api_server_.reset();
  metrics_server_.reset();
  replays_.reset();
  recorder_.reset();
  return exit_code_;
}

void ServeService::Impl::connect_nats() {
  std::weak_ptr<Impl> weak = weak_from_this();
  nats_ = nats::connect_logged(
      config_.nats, "ovalstream-recorder", logger_,
      [weak](bool connected) {
        if (auto self = weak.lock()) {
          self->nats_connected_ = connected;
          self->telemetry_->set_nats_connected(connected);
        }
      },
      [telemetry = telemetry_] { telemetry->nats_async_error(); });
  telemetry_->attach_readiness([weak] {
    auto self = weak.lock();
    return self && self->readiness_problems().empty();
  });
  nats_connected_ = nats_->connected();
  telemetry_->set_nats_connected(nats_connected_);
}

void ServeService::Impl::start_servers() {
  hub::ServerOptions api_options;
  api_options.host = config_.address.host;
  api_options.port = config_.address.port;
  config_.edge.apply_to(api_options);
  ServeApiOptions api;
  api.max_downloads = static_cast<std::size_t>(config_.max_downloads);
  api.download_hooks = {[telemetry = telemetry_] { telemetry->download_started(); },
                        [telemetry = telemetry_] { telemetry->download_ended(); },
                        [telemetry = telemetry_] { telemetry->download_refused(); }};
  ServeAccessOptions access;
  access.auth_required = config_.auth.mode == auth::AuthMode::kRequired;
  access.verify = config_.auth.verify_options();
  // Checked with the flags (check_auth_settings): a parse error here cannot happen.
  if (auto origins = auth::OriginPolicy::parse(config_.auth.allowed_origins);
      std::holds_alternative<auth::OriginPolicy>(origins)) {
    access.origins = std::get<auth::OriginPolicy>(std::move(origins));
  }
  if (access.auth_required) {
    auto opened = auth::KeyStore::open(config_.auth.key_files);
    if (auto* error = std::get_if<std::string>(&opened))
      throw std::runtime_error("cannot load the keys: " + *error);
    keys_ = std::get<std::shared_ptr<auth::KeyStore>>(std::move(opened));
  }
  logger_.info(access.auth_required ? "access control: operator tokens required"
                                    : "access control: --auth off (loopback address only)",
               {{"allowedOrigins", config_.auth.allowed_origins.size()}});
  api_server_ =
      std::make_unique<hub::Server>(io_, api_options,
                                    guard_serve_api(make_serve_api_router(catalog_, replays_, api),
                                                    std::move(access), keys_, telemetry_->auth_observer()),
                                    telemetry_);
  key_reloader_ =
      std::make_shared<auth::KeyReloader>(io_, keys_, logger_.child("auth"), telemetry_->auth_observer());
  key_reloader_->start();
  hub::ServerOptions metrics_options;
  metrics_options.host = config_.metrics_address.host;
  metrics_options.port = config_.metrics_address.port;
  // No descriptor reserve (the default): health must answer even when clients took the rest.
  std::weak_ptr<Impl> weak = weak_from_this();
  metrics_server_ = std::make_unique<hub::Server>(
      metrics_io_, metrics_options,
      hub::make_health_router({[telemetry = telemetry_] { return telemetry->scrape(); },
                               [weak] {
                                 auto self = weak.lock();
                                 return self ? self->readiness_problems() : std::string("shutting down; ");
                               }}),
      nullptr);
  api_server_->start();
  metrics_server_->start();
  logger_.info("serving the recordings API",
               {{"address", runtime::format_listen_address({config_.address.host, api_server_->port()})},
                {"directory", config_.directory}});
  logger_.info(
      "serving metrics and health",
      {{"address", runtime::format_listen_address({config_.metrics_address.host, metrics_server_->port()})}});
}

bool ServeService::Impl::ensure_streams() {
  if (!config_.nats.create_stream) return true;
  const std::vector<std::pair<std::string, std::string>> streams = {
      {config_.nats.stream, "competition.>"}, {config_.replay_stream, std::string(kReplaySubjects)}};
  for (const auto& [name, subjects] : streams) {
    auto created = nats::create_stream(*nats_, name, {subjects});
    if (!created.ok()) {
      logger_.log_every("create-stream", std::chrono::seconds(10), runtime::LogLevel::kWarn,
                        "cannot create the stream yet (--create-stream); retrying",
                        {{"stream", name}, {"error", created.error().message}});
      return false;
    }
  }
  return true;
}

void ServeService::Impl::record() {
  while (!stopping_ && !ensure_streams()) sleep_unless_stopped(stopping_, kStreamRetry);
  if (stopping_) return;
  recording_ = true;
  logger_.info("recording every competition", {{"directory", config_.directory},
                                               {"stream", config_.nats.stream},
                                               {"durable", config_.durable},
                                               {"resumeAfter", writer_->last_sequence()}});
  const int code = recorder_->run();
  recording_ = false;
  if (!stopping_) {
    logger_.error("recording stopped; exiting", {{"code", code}});
    boost::asio::post(io_, [self = shared_from_this(), code] { self->shut_down(code == 0 ? 1 : code); });
  }
}

void ServeService::Impl::shut_down(int exit_code) {
  if (stopping_.exchange(true)) return;
  exit_code_ = exit_code;
  signals_->cancel();
  if (key_reloader_) key_reloader_->stop();
  recorder_->stop();
  replays_->stop_all();
  api_server_->stop_accepting();
  metrics_server_->stop_accepting();
  io_.stop();
}

std::string ServeService::Impl::readiness_problems() const {
  std::string problems;
  if (!nats_connected_) problems += "nats not connected; ";
  if (!recording_) problems += "not recording yet; ";
  if (stopping_) problems += "stopping; ";
  return problems;
}

ServeService::ServeService(ServeConfig config, runtime::Logger logger)
    : impl_(std::make_shared<Impl>(std::move(config), std::move(logger))) {}

ServeService::~ServeService() = default;

int ServeService::run() {
  return impl_->run();
}

}  // namespace ovalstream::recorder
