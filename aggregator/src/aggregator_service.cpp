#include <utility>  // before Asio: Boost 1.74 with C++20 needs it

#include "aggregator_service.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "competition_registry.hpp"
#include "nats_consumers.hpp"
#include "ovalstream/hub/health_routes.hpp"
#include "ovalstream/hub/server.hpp"
#include "ovalstream/nats/connection.hpp"
#include "ovalstream/nats/jetstream.hpp"
#include "ovalstream/runtime/duration.hpp"
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
// The top-level consumer delivered nothing this long after starting: nothing was pending.
constexpr auto kNothingPendingAfter = std::chrono::seconds(2);
const std::string kTopLevelSubject = "competition.*";

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
  void watch_stream();
  void watch_loop();
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

  std::unique_ptr<nats::Connection> nats_;
  std::shared_ptr<NatsConsumerFactory> consumers_;
  std::shared_ptr<CompetitionRegistry> registry_;
  std::unique_ptr<ConsumerHandle> top_level_consumer_;
  std::chrono::steady_clock::time_point top_level_started_;
  std::atomic<std::uint64_t> top_level_delivered_{0};
  std::int64_t stream_created_ns_ = 0;

  std::unique_ptr<hub::Server> hub_;
  std::unique_ptr<hub::Server> metrics_server_;

  std::atomic<bool> nats_connected_{false};
  std::atomic<bool> stream_present_{false};
  std::shared_ptr<std::atomic<bool>> draining_ = std::make_shared<std::atomic<bool>>(false);
  // The watcher runs blocking NATS requests, so it has its own thread, not an io_context one.
  std::thread watcher_;
  std::mutex watcher_mutex_;
  std::condition_variable watcher_wakeup_;
  std::atomic<bool> stopping_{false};
  int exit_code_ = 0;
};

int AggregatorService::Impl::run() {
  connect_nats();
  start_servers();
  signals_.async_wait([self = shared_from_this()](const boost::system::error_code& error, int signal) {
    if (!error) self->on_signal(signal);
  });
  watcher_ = std::thread([self = shared_from_this()] { self->watch_loop(); });
  schedule_garbage();

  const unsigned thread_count = std::max(2u, std::thread::hardware_concurrency());
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < thread_count; ++i) threads.emplace_back([this] { io_.run(); });
  io_.run();
  for (auto& thread : threads) thread.join();
  stopping_ = true;
  watcher_wakeup_.notify_all();
  watcher_.join();

  // Consumers stop before the registry and the connection go.
  top_level_consumer_.reset();
  registry_.reset();
  hub_.reset();
  metrics_server_.reset();
  return exit_code_;
}

void AggregatorService::Impl::connect_nats() {
  std::weak_ptr<Impl> weak = weak_from_this();
  nats_ = nats::connect_logged(config_.nats, "ovalstream-aggregator", logger_, [weak](bool connected) {
    if (auto self = weak.lock()) {
      self->nats_connected_ = connected;
      self->telemetry_->set_nats_connected(connected);
    }
  });
  nats_connected_ = nats_->connected();
  telemetry_->set_nats_connected(nats_connected_);
  consumers_ = std::make_shared<NatsConsumerFactory>(*nats_, config_.nats.stream, logger_.child("ingest"));
  RegistryOptions registry_options;
  registry_options.filter = config_.filter;
  registry_options.idle_drop_ns = config_.idle_drop.count();
  registry_ =
      std::make_shared<CompetitionRegistry>(io_, std::move(registry_options), consumers_,
                                            std::make_shared<EventValidator>(), telemetry_, telemetry_);
}

void AggregatorService::Impl::start_servers() {
  hub::ServerOptions hub_options;
  hub_options.host = config_.hub_address.host;
  hub_options.port = config_.hub_address.port;
  hub_options.client_queue_bytes = static_cast<std::size_t>(config_.client_queue_bytes);
  hub_options.max_connections = static_cast<std::size_t>(config_.max_connections);
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
  hub_ = std::make_unique<hub::Server>(io_, hub_options, make_hub_router(registry_, draining_, static_files),
                                       telemetry_);
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
                {"staticDir", config_.static_dir}});
  logger_.info(
      "serving metrics and health",
      {{"address", runtime::format_listen_address({config_.metrics_address.host, metrics_server_->port()})}});
}

std::string AggregatorService::Impl::readiness_problems() const {
  std::string problems;
  if (!nats_connected_) problems += "nats not connected; ";
  if (!stream_present_) problems += "stream " + config_.nats.stream + " not found; ";
  if (registry_ && !registry_->caught_up()) problems += "catching up; ";
  if (draining_->load()) problems += "draining; ";
  return problems;
}

// Once a second: find the stream (or create it with --create-stream), start the top-level consumer, notice
// catching up, retry consumers that could not start, and rebuild when the stream went backwards.
void AggregatorService::Impl::watch_loop() {
  std::unique_lock lock(watcher_mutex_);
  while (!stopping_) {
    lock.unlock();
    watch_stream();
    lock.lock();
    watcher_wakeup_.wait_for(lock, kWatchInterval, [this] { return stopping_.load(); });
  }
}

void AggregatorService::Impl::watch_stream() {
  // Read before the request: events applied while it is in flight would otherwise look like the stream
  // going backwards, and every client would be rebuilt and resent its snapshot for nothing.
  const auto applied_before = registry_->highest_sequence();
  auto info = nats::stream_info(*nats_, config_.nats.stream);
  if (info && !info->exists && config_.nats.create_stream) {
    info = nats::create_stream(*nats_, config_.nats.stream, {"competition.>"});
    if (info) logger_.info("created stream (--create-stream)", {{"stream", config_.nats.stream}});
  }
  if (!info) {
    logger_.log_every("stream-info", std::chrono::seconds(10), runtime::LogLevel::kWarn,
                      "cannot look up the stream; retrying",
                      {{"stream", config_.nats.stream}, {"status", info.status().message}});
  } else if (!info->exists) {
    stream_present_ = false;
    logger_.log_every("stream-missing", std::chrono::seconds(5), runtime::LogLevel::kWarn,
                      "stream does not exist; waiting for it (the aggregator does not create it; "
                      "--create-stream does, for development)",
                      {{"stream", config_.nats.stream}});
  } else {
    stream_present_ = true;
    const bool went_backwards = info->last_sequence < applied_before;
    const bool recreated = stream_created_ns_ != 0 && info->created_ns != stream_created_ns_;
    if (top_level_consumer_ && (went_backwards || recreated)) {
      logger_.warn("the stream was recreated or purged; rebuilding every competition and resending snapshots",
                   {{"stream", config_.nats.stream}, {"lastSequence", info->last_sequence}});
      top_level_consumer_.reset();
      registry_->rebuild();
    }
    stream_created_ns_ = info->created_ns;
    if (!top_level_consumer_) {
      top_level_delivered_ = 0;
      std::weak_ptr<Impl> weak = weak_from_this();
      top_level_consumer_ = consumers_->start_at_time(
          kTopLevelSubject, now_ns() - config_.history.count(), [weak](FeedMessage message) {
            if (auto self = weak.lock()) {
              ++self->top_level_delivered_;
              self->registry_->on_top_level_message(std::move(message));
            }
          });
      top_level_started_ = std::chrono::steady_clock::now();
      if (top_level_consumer_) {
        logger_.info(
            "following competition activations",
            {{"stream", config_.nats.stream}, {"history", runtime::format_go_duration(config_.history)}});
      }
    } else if (!registry_->caught_up() && top_level_delivered_ == 0 &&
               std::chrono::steady_clock::now() - top_level_started_ > kNothingPendingAfter) {
      registry_->mark_caught_up();
    }
    registry_->retry_failed_consumers();
  }
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
  stopping_ = true;
  watcher_wakeup_.notify_all();
  exit_code_ = exit_code;
  garbage_timer_.cancel();
  signals_.cancel();
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
