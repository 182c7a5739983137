#pragma once
// Accepts TCP connections, each onto its own strand, and starts an HttpSession (plain or TLS) for it.

#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <memory>

#include "hub_state.hpp"

namespace ovalstream::hub {

class Listener final : public std::enable_shared_from_this<Listener> {
 public:
  // Binds and listens at once; throws std::system_error when the address cannot be bound.
  Listener(boost::asio::io_context& io, std::shared_ptr<HubState> hub);

  std::uint16_t port() const { return port_; }
  void start();  // any thread
  void stop();   // any thread: closes the listening socket, so new connection attempts are refused

 private:
  void accept_next();
  void on_accept(boost::system::error_code error, boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& io_;
  const std::shared_ptr<HubState> hub_;
  boost::asio::ip::tcp::acceptor acceptor_;  // on its own strand
  boost::asio::steady_timer retry_timer_;
  std::uint16_t port_ = 0;
  bool stopped_ = false;  // strand only
};

}  // namespace ovalstream::hub
