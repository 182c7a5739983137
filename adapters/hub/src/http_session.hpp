#pragma once
// One HTTP/1.1 connection before (or instead of) a websocket: reads requests with Beast under size and
// time limits, asks the Router, and writes the answer (keep-alive for plain requests), or writes the 101
// and hands the stream over to a WebSocketSession, freeing the request buffer and parser with itself.

#include <utility>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "hub_state.hpp"
#include "transport.hpp"

namespace ovalstream::hub {

template <class Stream>
class HttpSession final : public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  HttpSession(Stream stream, std::shared_ptr<HubState> hub);

  // On the session's strand: the TLS handshake if any, then the first request.
  void run();

 private:
  void on_tls_handshake(boost::system::error_code error);
  void read_request();
  void on_read(boost::system::error_code error, std::size_t bytes);
  void handle_request();
  void answer_websocket_route(WebSocketHandlers handlers, bool upgrade_requested);
  void write_response(HttpResponse response, bool keep_alive);
  void on_response_written(bool keep_alive, boost::system::error_code error, std::size_t bytes);
  void on_upgrade_written(boost::system::error_code error, std::size_t bytes);
  // Guards every read and write with options.request_timeout; the generation retires stale expiries.
  void arm_deadline();
  void disarm_deadline();
  void close();

  Stream stream_;
  const std::shared_ptr<HubState> hub_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  unsigned request_version_ = 11;
  std::optional<boost::beast::http::response<boost::beast::http::string_body>> response_;
  std::optional<boost::beast::http::response<boost::beast::http::empty_body>> upgrade_response_;
  WebSocketHandlers upgrade_handlers_;
  boost::asio::steady_timer deadline_;
  std::uint64_t deadline_generation_ = 0;
  std::string remote_address_;
};

extern template class HttpSession<PlainStream>;
extern template class HttpSession<TlsStream>;

}  // namespace ovalstream::hub
