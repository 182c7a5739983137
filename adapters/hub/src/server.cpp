#include <utility>

#include <algorithm>

#include "ovalstream/hub/server.hpp"

#include <openssl/ssl.h>

#include "close_all_operation.hpp"
#include "hub_state.hpp"
#include "listener.hpp"
#include "liveness_sweep.hpp"

namespace ovalstream::hub {

namespace {

// A client-initiated TLS 1.2 renegotiation costs the server a full handshake per request of the peer, and
// nothing here needs one.
ServerOptions without_renegotiation(ServerOptions options) {
  if (options.tls) {
    SSL_CTX* context = options.tls->native_handle();
    SSL_CTX_set_options(context, SSL_OP_NO_RENEGOTIATION);
#ifdef SSL_OP_NO_CLIENT_RENEGOTIATION
    SSL_CTX_set_options(context, SSL_OP_NO_CLIENT_RENEGOTIATION);
#endif
  }
  return options;
}

}  // namespace

// Owns the listener and the sweep; sessions share the HubState, so they outlive neither each other's
// bookkeeping nor the Server's handlers still in flight.
class Server::Impl {
 public:
  Impl(boost::asio::io_context& io, ServerOptions options, Router router,
       std::shared_ptr<HubObserver> observer)
      : io_(io),
        hub_(std::make_shared<HubState>(without_renegotiation(std::move(options)), std::move(router),
                                        std::move(observer))),
        listener_(std::make_shared<Listener>(io, hub_)),
        sweep_(std::make_shared<LivenessSweep>(io, hub_)) {}

  boost::asio::io_context& io_;
  const std::shared_ptr<HubState> hub_;
  const std::shared_ptr<Listener> listener_;
  const std::shared_ptr<LivenessSweep> sweep_;
};

Server::Server(boost::asio::io_context& io, ServerOptions options, Router router,
               std::shared_ptr<HubObserver> observer)
    : impl_(std::make_shared<Impl>(io, std::move(options), std::move(router), std::move(observer))) {}

Server::~Server() {
  impl_->hub_->stop_accepting();
  impl_->listener_->stop();
  impl_->sweep_->stop();
  // Taking the connections out of the registry breaks the registry <-> session ownership, so they are
  // freed even if the io_context never runs their teardown.
  for (const auto& connection : impl_->hub_->take_all()) connection->abort();
}

std::uint16_t Server::port() const {
  return impl_->listener_->port();
}

void Server::start() {
  impl_->listener_->start();
  impl_->sweep_->start();
}

void Server::stop_accepting() {
  impl_->hub_->stop_accepting();
  impl_->listener_->stop();
}

void Server::close_all(std::uint16_t code, std::string reason, std::chrono::milliseconds spread,
                       std::function<void()> done) {
  auto connections = impl_->hub_->snapshot();
  if (connections.empty()) {
    if (done) done();
    return;
  }
  std::make_shared<CloseAllOperation>(impl_->io_, std::move(connections), code, std::move(reason), spread,
                                      std::move(done))
      ->start();
}

std::size_t Server::open_connections() const {
  return impl_->hub_->open_connections();
}

QueuedBytes Server::queued_bytes() const {
  QueuedBytes queued;
  for (const auto& connection : impl_->hub_->snapshot()) {
    const std::size_t bytes = connection->queued_bytes();
    queued.total += bytes;
    queued.largest = std::max(queued.largest, bytes);
  }
  return queued;
}

}  // namespace ovalstream::hub

namespace ovalstream::hub {

std::string_view Request::header(std::string_view name) const noexcept {
  const auto same_ascii_case_insensitive = [](std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      const auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
      if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
  };
  for (const auto& [field_name, value] : headers) {
    if (same_ascii_case_insensitive(field_name, name)) return value;
  }
  return {};
}

}  // namespace ovalstream::hub
