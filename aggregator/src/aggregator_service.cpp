#include <utility>  // before Asio: Boost 1.74 with C++20 needs it

#include "aggregator_service.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "access_control.hpp"
#include "competition_registry.hpp"
#include "expiry_watch.hpp"
#include "nats_consumers.hpp"
#include "ovalstream/auth/key_reloader.hpp"
#include "ovalstream/hub/health_routes.hpp"
#include "ovalstream/hub/server.hpp"
#include "ovalstream/nats/connection.hpp"
#include "ovalstream/nats/jetstream.hpp"
#include "ovalstream/nats/settings.hpp"
#include "ovalstream/runtime/duration.hpp"
#include "ovalstream/runtime/mutex.hpp"
#include "routes.hpp"
#include "telemetry.hpp"

#ifndef OVALSTREAM_VERSION
#define OVALSTREAM_VERSION "dev"
#endif

namespace ovalstream::aggregator {
namespace {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

constexpr auto kWatchInterval = std::chrono::seconds(1);
constexpr auto kGarbageInterval = std::chrono::seconds(60);

}  // namespace

class AggregatorService::Impl : public std::enable_shared_from_this<AggregatorService::Impl> {
 public:
  Impl(Config config, runtime::Logger logger)
      : config_(std::move(config)),
        logger_(std::move(logger)),
        telemetry_(std::make_shared<Telemetry>(OVALSTREAM_VERSION, logger_.child("ingest"))),
        garbage_timer_(io_),
        signals_(io_, SIGTERM, SIGINT) {}

  int run();

 private:
  void connect_nats();
  void start_servers();
  // --auth required: the keys, the access control of the routes and the expiry watch.
  std::shared_ptr<const AccessControl> make_access_control();

  void watch_stream();
  void watch_loop();
  // Sets stopping_ with the watcher's mutex held, so that a watcher between its check and its wait cannot
  // miss the wakeup (and sleep a whole interval before it sees the stop).
  void stop_watcher();
  // On the watcher thread: starts the one consumer at `start`, after telling the registry where the stream
  // ends now (ready = caught up to there).
  void start_consumer(const nats::StreamInfo& info, nats::StartPosition start);
  void schedule_garbage();
  void on_signal(int signal);
  void drain();
  void shut_down(int exit_code);
  std::string readiness_problems() const;

  Config config_;
  runtime::Logger logger_;
  std::shared_ptr<Telemetry> telemetry_;
  boost::asio::io_context io_;
  boost::asio::steady_timer garbage_timer_;
  boost::asio::signal_set signals_;
  std::unique_ptr<boost::asio::steady_timer> drain_timer_;

  std::shared_ptr<auth::KeyStore> keys_;             // --auth required only
  std::shared_ptr<ExpiryWatch> expiry_;              // --auth required only
  std::shared_ptr<auth::KeyReloader> key_reloader_;  // SIGHUP and changed key files

  std::unique_ptr<nats::Connection> nats_;
  std::shared_ptr<CompetitionRegistry> registry_;
  // The one consumer of this replica (watcher thread only; destroyed after the io threads stopped).
  std::unique_ptr<nats::OrderedConsumer> consumer_;
  std::int64_t stream_created_ns_ = 0;

  std::unique_ptr<hub::Server> hub_;
  std::unique_ptr<hub::Server> metrics_server_;

  std::atomic<bool> nats_connected_{false};
  std::atomic<bool> stream_present_{false};
  std::shared_ptr<std::atomic<bool>> draining_ = std::make_shared<std::atomic<bool>>(false);
  // The watcher runs blocking NATS requests, so it has its own thread, not an io_context one.
  std::thread watcher_;
  runtime::Mutex watcher_mutex_;
  runtime::CondVar watcher_wakeup_;
  std::atomic<bool> stopping_{false};
  int exit_code_ = 0;
};

int AggregatorService::Impl::run() {
  connect_nats();
  start_servers();
  signals_.async_wait([self = shared_from_this()](const boost::system::error_code& error, int signal) {
    if (!error) self->on_signal(signal);
  });
  key_reloader_ =
      std::make_shared<auth::KeyReloader>(io_, keys_, logger_.child("auth"), telemetry_->auth_observer());
  key_reloader_->start();
  watcher_ = std::thread([self = shared_from_this()] { self->watch_loop(); });
  schedule_garbage();

  const unsigned thread_count = io_thread_count();
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < thread_count; ++i) threads.emplace_back([this] { io_.run(); });
  io_.run();
  for (auto& thread : threads) thread.join();
  stop_watcher();
  watcher_.join();

  // The consumer stops before the registry and the connection go.
  consumer_.reset();
  registry_.reset();
  hub_.reset();
  metrics_server_.reset();
  return exit_code_;
}

void AggregatorService::Impl::connect_nats() {
  std::weak_ptr<Impl> weak = weak_from_this();
  nats_ = nats::connect_logged(
      config_.nats, "ovalstream-aggregator", logger_,
      [weak](bool connected) {
        if (auto self = weak.lock()) {
          self->nats_connected_ = connected;
          self->telemetry_->set_nats_connected(connected);
        }
      },
      [telemetry = telemetry_] { telemetry->nats_async_error(); });
  nats_connected_ = nats_->connected();
  telemetry_->set_nats_connected(nats_connected_);
  RegistryOptions registry_options;
  registry_options.filter.insert(config_.filter.begin(), config_.filter.end());
  registry_options.idle_drop_ns = config_.idle_drop.count();
  registry_options.max_competitions = static_cast<std::size_t>(config_.max_competitions);
  registry_options.resume_limits.max_bytes = static_cast<std::size_t>(config_.resume_window_bytes);
  registry_options.resume_limits.max_age_ns = config_.resume_window.count();
  registry_options.fanout_lanes = fanout_lanes(config_);
  registry_ = std::make_shared<CompetitionRegistry>(
      io_, std::move(registry_options), std::make_shared<EventValidator>(), telemetry_, telemetry_);
}

void AggregatorService::Impl::start_servers() {
  hub::ServerOptions hub_options;
  hub_options.host = config_.hub_address.host;
  hub_options.port = config_.hub_address.port;
  hub_options.client_queue_bytes = static_cast<std::size_t>(config_.client_queue_bytes);
  hub_options.max_connections = static_cast<std::size_t>(config_.max_connections);
  config_.edge.apply_to(hub_options);
  config_.client_frames.apply_to(hub_options);
  if (!config_.cert_file.empty()) {
    auto tls = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
    tls->set_options(boost::asio::ssl::context::default_workarounds | boost::asio::ssl::context::no_sslv2 |
                     boost::asio::ssl::context::no_sslv3 | boost::asio::ssl::context::no_tlsv1 |
                     boost::asio::ssl::context::no_tlsv1_1);
    tls->use_certificate_chain_file(config_.cert_file);
    tls->use_private_key_file(config_.key_file, boost::asio::ssl::context::pem);
    hub_options.tls = std::move(tls);
  }
  std::shared_ptr<const hub::StaticFiles> static_files;
  if (!config_.static_dir.empty()) static_files = std::make_shared<hub::StaticFiles>(config_.static_dir);
  auto access = make_access_control();
  hub_ = std::make_unique<hub::Server>(
      io_, hub_options, make_hub_router(registry_, draining_, static_files, access, expiry_), telemetry_);
  telemetry_->set_limits(hub_options.max_connections, hub_options.client_queue_bytes);
  {
    // Read when scraped, on the metrics server's thread; the hub and the registry outlive its io threads.
    std::weak_ptr<Impl> self = weak_from_this();
    Telemetry::Sources sources;
    sources.competitions = [self] {
      auto me = self.lock();
      return me && me->registry_ ? me->registry_->held_competitions()
                                 : std::vector<CompetitionRegistry::HeldCompetition>{};
    };
    sources.queued_bytes = [self] {
      auto me = self.lock();
      return me && me->hub_ ? me->hub_->queued_bytes() : hub::QueuedBytes{};
    };
    sources.ready = [self] {
      auto me = self.lock();
      return me && me->readiness_problems().empty();
    };
    telemetry_->attach(std::move(sources));
  }
  hub::ServerOptions metrics_options;
  metrics_options.host = config_.metrics_address.host;
  metrics_options.port = config_.metrics_address.port;
  std::weak_ptr<Impl> weak = weak_from_this();
  metrics_server_ = std::make_unique<hub::Server>(
      io_, metrics_options,
      hub::make_health_router({[telemetry = telemetry_] { return telemetry->scrape(); },
                               [weak] {
                                 auto self = weak.lock();
                                 return self ? self->readiness_problems() : std::string("shutting down; ");
                               }}),
      nullptr);
  hub_->start();
  metrics_server_->start();
  logger_.info("serving websockets",
               {{"address", runtime::format_listen_address({config_.hub_address.host, hub_->port()})},
                {"tls", hub_options.tls != nullptr},
                {"staticDir", config_.static_dir},
                {"fanoutLanes", fanout_lanes(config_)}});
  logger_.info(
      "serving metrics and health",
      {{"address", runtime::format_listen_address({config_.metrics_address.host, metrics_server_->port()})}});
}

std::shared_ptr<const AccessControl> AggregatorService::Impl::make_access_control() {
  AccessOptions options;
  options.auth_required = config_.auth.mode == auth::AuthMode::kRequired;
  options.verify = config_.auth.verify_options();
  // Checked with the flags (check_auth_settings): a parse error here cannot happen.
  if (auto origins = auth::OriginPolicy::parse(config_.auth.allowed_origins);
      std::holds_alternative<auth::OriginPolicy>(origins)) {
    options.origins = std::get<auth::OriginPolicy>(std::move(origins));
  }
  if (options.auth_required) {
    auto opened = auth::KeyStore::open(config_.auth.key_files);
    if (auto* error = std::get_if<std::string>(&opened))
      throw std::runtime_error("cannot load the keys: " + *error);
    keys_ = std::get<std::shared_ptr<auth::KeyStore>>(std::move(opened));
    expiry_ = std::make_shared<ExpiryWatch>(io_);
    expiry_->start();
    const auto keys = keys_->current();
    logger_.info("access control: tokens required",
                 {{"hmacSecret", keys->hmac_secret.has_value()},
                  {"publicKeys", keys->public_keys.size()},
                  {"audience", config_.auth.audience},
                  {"clockSkew", runtime::format_go_duration(config_.auth.clock_skew)}});
  }
  if (!options.origins.allows_every_origin()) {
    logger_.info("access control: websocket origins restricted",
                 {{"allowedOrigins", config_.auth.allowed_origins.size()}});
  }
  return std::make_shared<const AccessControl>(std::move(options), keys_, telemetry_->auth_observer());
}

std::string AggregatorService::Impl::readiness_problems() const {
  std::string problems;
  if (!nats_connected_) problems += "nats not connected; ";
  if (!stream_present_) problems += "stream " + config_.nats.stream + " not found; ";
  if (registry_ && !registry_->caught_up()) problems += "catching up; ";
  if (draining_->load()) problems += "draining; ";
  return problems;
}

// Once a second: find the stream (or create it with --create-stream), start the one consumer, replace it
// when it gave up, and rebuild when the stream went backwards. Blocking NATS requests run here only, on
// the watcher's own thread, holding no lock that an io thread takes.
void AggregatorService::Impl::watch_loop() {
  runtime::MutexLock lock(watcher_mutex_);
  while (!stopping_) {
    lock.unlock();
    watch_stream();
    lock.lock();
    watcher_wakeup_.wait_for(lock, kWatchInterval, [this] { return stopping_.load(); });
  }
}

void AggregatorService::Impl::stop_watcher() {
  {
    runtime::MutexLock lock(watcher_mutex_);
    stopping_ = true;
  }
  watcher_wakeup_.notify_all();
}

void AggregatorService::Impl::watch_stream() {
  // Read before the request: events applied while it is in flight would otherwise look like the stream
  // going backwards, and every client would be rebuilt and resent its snapshot for nothing.
  const auto applied_before = registry_->highest_sequence();
  auto info = nats::stream_info(*nats_, config_.nats.stream);
  if (info && !info->exists && config_.nats.create_stream) {
    info = nats::create_stream(*nats_, config_.nats.stream, {kIngestSubject});
    if (info) logger_.info("created stream (--create-stream)", {{"stream", config_.nats.stream}});
  }
  if (!info) {
    logger_.log_every("stream-info", std::chrono::seconds(10), runtime::LogLevel::kWarn,
                      "cannot look up the stream; retrying",
                      {{"stream", config_.nats.stream}, {"status", info.error().message}});
    return;
  }
  if (!info->exists) {
    stream_present_ = false;
    // The first thing an operator sees on a new nats-server: say exactly what to run.
    logger_.log_every("stream-missing", std::chrono::seconds(5), runtime::LogLevel::kWarn,
                      "stream does not exist; waiting for it. The aggregator does not create it: create it "
                      "with `" +
                          nats::stream_add_command(config_.nats, {kIngestSubject}) +
                          "` (as docs/deploy.md, section 1, says; --replicas 1 on a single server), or "
                          "restart the aggregator with --create-stream (development: one replica, no limits)",
                      {{"stream", config_.nats.stream}, {"subjects", kIngestSubject}});
    return;
  }
  stream_present_ = true;
  const bool went_backwards = info->last_sequence < applied_before;
  const bool recreated = stream_created_ns_ != 0 && info->created_ns != stream_created_ns_;
  stream_created_ns_ = info->created_ns;
  if (consumer_ && (went_backwards || recreated)) {
    logger_.warn("the stream was recreated or purged; rebuilding every competition and resending snapshots",
                 {{"stream", config_.nats.stream}, {"lastSequence", info->last_sequence}});
    consumer_.reset();  // waits for a running callback; the watcher holds no lock it takes
    registry_->rebuild();
  }
  if (consumer_ && !consumer_->stats().healthy) {
    // nats.c's ordered consumer could not re-create itself: a new one goes on after what was delivered.
    const std::uint64_t resume_after = consumer_->last_delivered_sequence();
    logger_.warn("the JetStream consumer stopped; starting a new one after the last delivered event",
                 {{"stream", config_.nats.stream}, {"afterSequence", resume_after}});
    consumer_.reset();
    start_consumer(info.value(), nats::StartPosition::at_sequence(resume_after + 1));
    return;
  }
  if (!consumer_)
    start_consumer(info.value(), nats::StartPosition::at_time(now_ns() - config_.history.count()));
}

void AggregatorService::Impl::start_consumer(const nats::StreamInfo& info, nats::StartPosition start) {
  // Ready once the consumer reached what the stream holds now; nothing to reach when the stream is empty or
  // its last event is older than the history window.
  const bool nothing_to_read =
      info.last_sequence == 0 ||
      (start.kind == nats::StartPosition::Kind::kTime && info.last_time_ns < start.time_ns) ||
      (start.kind == nats::StartPosition::Kind::kSequence && info.last_sequence < start.sequence);
  // Positions are exact from where the consumer reads: every event after the stream's last one now, or
  // after the sequence it resumes from (the first message it delivers may lower that).
  const std::uint64_t floor =
      start.kind == nats::StartPosition::Kind::kSequence ? start.sequence - 1 : info.last_sequence;
  registry_->begin_catch_up(nothing_to_read ? 0 : info.last_sequence, std::to_string(info.created_ns), floor);
  logger_.info("starting the one ordered consumer over the stream",
               {{"stream", config_.nats.stream},
                {"filter", kIngestSubject},
                {"history", runtime::format_go_duration(config_.history)},
                {"catchUpTo", nothing_to_read ? std::uint64_t{0} : info.last_sequence}});
  std::weak_ptr<Impl> weak = weak_from_this();
  const runtime::Logger ingest_logger = logger_.child("ingest");
  auto started = start_ingest_consumer(
      *nats_, config_.nats.stream, start,
      [weak](FeedMessage message) {
        if (auto self = weak.lock()) self->registry_->on_message(std::move(message));
      },
      ingest_logger);
  if (!started) {
    // Retried by the next stream check.
    ingest_logger.log_every("consumer-start", std::chrono::seconds(10), runtime::LogLevel::kWarn,
                            "could not start the JetStream consumer; retrying",
                            {{"filter", kIngestSubject}, {"status", started.error().message}});
    return;
  }
  consumer_ = std::move(started).value();
}

void AggregatorService::Impl::schedule_garbage() {
  garbage_timer_.expires_after(kGarbageInterval);
  garbage_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& error) {
    if (error || self->stopping_) return;
    const std::int64_t now = now_ns();
    self->registry_->collect_garbage(now, now - self->config_.history.count());
    self->schedule_garbage();
  });
}

void AggregatorService::Impl::on_signal(int signal) {
  if (draining_->load()) {
    logger_.warn("second signal: exiting without finishing the drain", {{"signal", signal}});
    shut_down(0);
    return;
  }
  signals_.async_wait([self = shared_from_this()](const boost::system::error_code& error, int next) {
    if (!error) self->on_signal(next);
  });
  drain();
}

// Phase 1: /readyz turns 503 at once and new upgrades are refused with 503 so the load balancer moves new
// clients elsewhere, while open connections are served for --drain-delay. Phase 2: stop accepting and close
// open connections with 1001, spread over --drain-seconds so their reconnects do not arrive all at once.
void AggregatorService::Impl::drain() {
  draining_->store(true);
  telemetry_->set_draining(true);
  logger_.info("draining", {{"delay", runtime::format_go_duration(config_.drain_delay)},
                            {"drainSeconds", config_.drain_seconds},
                            {"connections", hub_->open_connections()}});
  drain_timer_ = std::make_unique<boost::asio::steady_timer>(io_);
  drain_timer_->expires_after(config_.drain_delay);
  drain_timer_->async_wait([self = shared_from_this()](const boost::system::error_code& error) {
    if (error) return;
    self->hub_->stop_accepting();
    self->hub_->close_all(1001, "server shutting down", std::chrono::seconds(self->config_.drain_seconds),
                          [weak = std::weak_ptr<Impl>(self)] {
                            if (auto me = weak.lock()) {
                              boost::asio::post(me->io_, [me] {
                                me->logger_.info("drained; exiting", {});
                                me->shut_down(0);
                              });
                            }
                          });
  });
}

void AggregatorService::Impl::shut_down(int exit_code) {
  stop_watcher();
  exit_code_ = exit_code;
  garbage_timer_.cancel();
  signals_.cancel();
  if (key_reloader_) key_reloader_->stop();
  if (expiry_) expiry_->stop();
  if (drain_timer_) drain_timer_->cancel();
  io_.stop();
}

AggregatorService::AggregatorService(Config config, runtime::Logger logger)
    : impl_(std::make_shared<Impl>(std::move(config), std::move(logger))) {}

AggregatorService::~AggregatorService() = default;

int AggregatorService::run() {
  return impl_->run();
}

}  // namespace ovalstream::aggregator
