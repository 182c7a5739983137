#include "listener.hpp"

#include <sys/resource.h>
#include <sys/socket.h>

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

// Sent without waiting to a connection refused at accept: the client learns why instead of seeing a reset.
constexpr std::string_view kRefusedResponse =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 21\r\n"
    "Connection: close\r\nRetry-After: 1\r\n\r\ntoo many connections\n";

// Descriptors are allocated lowest-free first, so a new descriptor's number is a lower bound of how many
// are open: within `reserve` of the soft limit, the process is about to run out.
bool within_descriptor_reserve(int descriptor, std::size_t reserve) {
  if (reserve == 0) return false;
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return false;
  return static_cast<rlim_t>(descriptor) + reserve >= limit.rlim_cur;
}

void refuse(tcp::socket& socket, bool plain) {
  boost::system::error_code ignored;
  if (plain) {
    ::send(socket.native_handle(), kRefusedResponse.data(), kRefusedResponse.size(),
           MSG_DONTWAIT | MSG_NOSIGNAL);
    socket.shutdown(tcp::socket::shutdown_send, ignored);
    // A close with unread request bytes would reset the connection and could destroy the 503 before the
    // client reads it: what already arrived is read and dropped (bounded, without waiting).
    char discard[4096];
    for (int i = 0; i < 4; ++i) {
      if (::recv(socket.native_handle(), discard, sizeof discard, MSG_DONTWAIT) <= 0) break;
    }
  }
  socket.close(ignored);
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
  const bool plain = !hub_->options().tls;
  if (within_descriptor_reserve(socket.native_handle(), hub_->options().http.descriptor_reserve)) {
    hub_->observer().http_connection_dropped("descriptor_reserve");
    refuse(socket, plain);
    accept_next();
    return;
  }
  boost::system::error_code ignored;
  const auto remote = socket.remote_endpoint(ignored);
  std::string address = ignored ? std::string() : remote.address().to_string();
  if (const std::string_view refusal = hub_->try_acquire_http_slot(address); !refusal.empty()) {
    hub_->observer().http_connection_dropped(std::string(refusal));
    refuse(socket, plain);
    accept_next();
    return;
  }
  HttpSlot slot(hub_, std::move(address));
  // Frames are small and latency matters; batching is done by the corked writes, not by Nagle.
  socket.set_option(tcp::no_delay(true), ignored);
  try {
    if (const auto& tls = hub_->options().tls) {
      std::make_shared<HttpSession<TlsStream>>(TlsStream(std::move(socket), *tls), hub_, std::move(slot))
          ->run();
    } else {
      std::make_shared<HttpSession<PlainStream>>(std::move(socket), hub_, std::move(slot))->run();
    }
  } catch (...) {
    // Out of memory for one session (or SSL_new failed): that connection is dropped, accepting goes on.
  }
  accept_next();
}

}  // namespace ovalstream::hub
