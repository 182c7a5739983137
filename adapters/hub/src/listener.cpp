#include "listener.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <string>
#include <system_error>

#include "http_session.hpp"

namespace ovalstream::hub {

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

// After an accept failure such as EMFILE, wait before the next attempt instead of spinning.
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};

[[noreturn]] void throw_listen_error(boost::system::error_code error, const ServerOptions& options) {
  throw std::system_error(static_cast<std::error_code>(error),
                          "ovalstream hub: cannot listen on " + (options.host.empty() ? "*" : options.host) +
                              ":" + std::to_string(options.port));
}

// Opens, binds and listens; "" listens on every interface (IPv6 dual-stack when available, else IPv4).
void open_acceptor(tcp::acceptor& acceptor, const ServerOptions& options) {
  boost::system::error_code error;
  std::vector<tcp::endpoint> candidates;
  if (options.host.empty()) {
    candidates.emplace_back(tcp::v6(), options.port);
    candidates.emplace_back(tcp::v4(), options.port);
  } else {
    const auto address = net::ip::make_address(options.host, error);
    if (!error) {
      candidates.emplace_back(address, options.port);
    } else {
      tcp::resolver resolver(acceptor.get_executor());
      const auto results = resolver.resolve(options.host, std::to_string(options.port), error);
      if (error) throw_listen_error(error, options);
      for (const auto& entry : results) candidates.push_back(entry.endpoint());
    }
  }
  for (const tcp::endpoint& endpoint : candidates) {
    error = {};
    if (acceptor.is_open()) acceptor.close();
    acceptor.open(endpoint.protocol(), error);
    if (!error) acceptor.set_option(net::socket_base::reuse_address(true), error);
    if (!error && options.host.empty() && endpoint.protocol() == tcp::v6()) {
      acceptor.set_option(net::ip::v6_only(false), error);
    }
    if (!error) acceptor.bind(endpoint, error);
    if (!error) acceptor.listen(net::socket_base::max_listen_connections, error);
    if (!error) return;
  }
  throw_listen_error(error, options);
}

}  // namespace

Listener::Listener(net::io_context& io, std::shared_ptr<HubState> hub)
    : io_(io), hub_(std::move(hub)), acceptor_(net::make_strand(io)), retry_timer_(acceptor_.get_executor()) {
  open_acceptor(acceptor_, hub_->options());
  port_ = acceptor_.local_endpoint().port();
}

void Listener::start() {
  net::post(acceptor_.get_executor(), [self = shared_from_this()] {
    if (!self->stopped_) self->accept_next();
  });
}

void Listener::stop() {
  net::post(acceptor_.get_executor(), [self = shared_from_this()] {
    self->stopped_ = true;
    boost::system::error_code ignored;
    self->acceptor_.close(ignored);
    self->retry_timer_.cancel();
  });
}

void Listener::accept_next() {
  // Every connection gets its own strand: its handlers never run concurrently, different connections do.
  acceptor_.async_accept(net::make_strand(io_),
                         boost::beast::bind_front_handler(&Listener::on_accept, shared_from_this()));
}

void Listener::on_accept(boost::system::error_code error, tcp::socket socket) {
  if (stopped_) return;
  if (error) {
    retry_timer_.expires_after(kAcceptRetryDelay);
    retry_timer_.async_wait([self = shared_from_this()](boost::system::error_code wait_error) {
      if (!wait_error && !self->stopped_) self->accept_next();
    });
    return;
  }
  boost::system::error_code ignored;
  // Frames are small and latency matters; batching is done by the corked writes, not by Nagle.
  socket.set_option(tcp::no_delay(true), ignored);
  try {
    if (const auto& tls = hub_->options().tls) {
      std::make_shared<HttpSession<TlsStream>>(TlsStream(std::move(socket), *tls), hub_)->run();
    } else {
      std::make_shared<HttpSession<PlainStream>>(std::move(socket), hub_)->run();
    }
  } catch (...) {
    // Out of memory for one session (or SSL_new failed): that connection is dropped, accepting goes on.
  }
  accept_next();
}

}  // namespace ovalstream::hub
