#pragma once
// The two transports a session runs over: plain TCP and TLS over TCP. Sessions are templates over the
// stream type; the few places where the transports differ are the helpers here.

#include <utility>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <type_traits>

namespace ovalstream::hub {

// Sockets are accepted onto their own strand, so every handler of a session runs serialized on it.
using PlainStream = boost::asio::ip::tcp::socket;
using TlsStream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;

template <class Stream>
inline constexpr bool kIsTls = std::is_same_v<Stream, TlsStream>;

template <class Stream>
boost::asio::ip::tcp::socket& tcp_socket(Stream& stream) {
  return boost::beast::get_lowest_layer(stream);
}

// Closes the TCP socket, which cancels every pending operation on the stream. Errors are irrelevant.
template <class Stream>
void close_transport(Stream& stream) {
  boost::system::error_code ignored;
  auto& socket = tcp_socket(stream);
  if (!socket.is_open()) return;
  socket.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

// Half-closes the sending side after the last bytes (plain TCP: FIN). Over TLS the hub does not wait
// for a close_notify exchange: the websocket close frame already ends the conversation.
template <class Stream>
void shutdown_sending(Stream& stream) {
  if constexpr (!kIsTls<Stream>) {
    boost::system::error_code ignored;
    tcp_socket(stream).shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
  }
}

}  // namespace ovalstream::hub
