#include <utility>  // before Asio: Boost 1.74 with C++20 needs it

#include "replay/replay_server.hpp"

#include <vector>

#include "ovalstream/hub/frame.hpp"
#include "ovalstream/runtime/mutex.hpp"
#include "replay/websocket_sink.hpp"

namespace ovalstream::recorder {

struct ReplayServer::Clients {
  boost::asio::io_context& io;
  ReplayPlan plan;
  runtime::Logger logger;
  mutable runtime::Mutex mutex;
  std::map<std::uint64_t, std::shared_ptr<Replayer>> replays GUARDED_BY(mutex);  // by connection id
  bool shutting_down GUARDED_BY(mutex) = false;

  Clients(boost::asio::io_context& io_context, ReplayPlan replay_plan, runtime::Logger log)
      : io(io_context), plan(std::move(replay_plan)), logger(std::move(log)) {}
};

namespace {

// Ends a client's replay: closes the connection when the recording is through, forgets the replayer.
class ClientObserver : public ReplayObserver {
 public:
  ClientObserver(std::weak_ptr<ReplayServer::Clients> clients, std::weak_ptr<hub::Connection> connection)
      : clients_(std::move(clients)), connection_(std::move(connection)) {}

  void on_end(ReplayEnd how, const std::optional<std::string>& error,
              const ReplayProgress& progress) override {
    auto connection = connection_.lock();
    auto clients = clients_.lock();
    if (!clients) return;
    const std::uint64_t id = connection ? connection->id() : 0;
    if (how == ReplayEnd::kFinished) {
      clients->logger.info("client replay finished", {{"connection", id}, {"sent", progress.sent}});
      if (connection) connection->close(hub::close_code::kNormal, "end of recording");
    } else if (how == ReplayEnd::kFailed) {
      clients->logger.info("client replay ended", {{"connection", id}, {"reason", error.value_or("")}});
    }
    if (connection) {
      runtime::MutexLock lock(clients->mutex);
      clients->replays.erase(id);
    }
  }

 private:
  std::weak_ptr<ReplayServer::Clients> clients_;
  std::weak_ptr<hub::Connection> connection_;
};

hub::HttpResponse use_a_websocket() {
  hub::HttpResponse response;
  response.status = 426;
  response.body =
      "This is a Vantage replay server: it streams a recording over a websocket, one JSON event per "
      "message.\n"
      "Connect with a websocket client, e.g. wscat -c ws://HOST:PORT (any path).\n";
  response.headers.emplace_back("Upgrade", "websocket");
  return response;
}

}  // namespace

ReplayServer::ReplayServer(boost::asio::io_context& io, ReplayServerOptions options, runtime::Logger logger)
    : clients_(std::make_shared<Clients>(io, std::move(options.plan), std::move(logger))) {
  hub::ServerOptions server_options;
  server_options.host = options.address.host;
  server_options.port = options.address.port;
  server_options.client_queue_bytes = options.client_queue_bytes;
  std::weak_ptr<Clients> weak = clients_;
  hub::Router router = [weak](const hub::Request& request) -> hub::Route {
    if (!request.websocket_upgrade) return use_a_websocket();
    hub::WebSocketHandlers handlers;
    handlers.endpoint = "replay";
    handlers.on_open = [weak](const std::shared_ptr<hub::Connection>& connection) {
      auto clients = weak.lock();
      if (!clients) return;
      auto replayer = Replayer::create(clients->io.get_executor(), clients->plan,
                                       std::make_shared<WebSocketSink>(connection),
                                       std::make_shared<ClientObserver>(weak, connection));
      {
        runtime::MutexLock lock(clients->mutex);
        if (clients->shutting_down) {
          connection->close(hub::close_code::kGoingAway, "server shutting down");
          return;
        }
        clients->replays[connection->id()] = replayer;
      }
      clients->logger.info("client connected; replaying", {{"connection", connection->id()}});
      replayer->start();
    };
    handlers.on_close = [weak](const std::shared_ptr<hub::Connection>& connection) {
      auto clients = weak.lock();
      if (!clients) return;
      std::shared_ptr<Replayer> replayer;
      {
        runtime::MutexLock lock(clients->mutex);
        const auto it = clients->replays.find(connection->id());
        if (it == clients->replays.end()) return;
        replayer = it->second;
        clients->replays.erase(it);
      }
      replayer->cancel();
    };
    return handlers;
  };
  server_ = std::make_unique<hub::Server>(io, server_options, std::move(router), nullptr);
}

ReplayServer::~ReplayServer() = default;

std::uint16_t ReplayServer::port() const {
  return server_->port();
}

void ReplayServer::start() {
  server_->start();
}

std::size_t ReplayServer::active_replays() const {
  runtime::MutexLock lock(clients_->mutex);
  return clients_->replays.size();
}

void ReplayServer::shut_down(std::function<void()> done) {
  std::vector<std::shared_ptr<Replayer>> replays;
  {
    runtime::MutexLock lock(clients_->mutex);
    clients_->shutting_down = true;
    for (auto& [id, replayer] : clients_->replays) replays.push_back(replayer);
    clients_->replays.clear();
  }
  for (auto& replayer : replays) replayer->cancel();
  server_->stop_accepting();
  server_->close_all(hub::close_code::kGoingAway, "server shutting down", std::chrono::milliseconds(0),
                     std::move(done));
}

}  // namespace ovalstream::recorder
