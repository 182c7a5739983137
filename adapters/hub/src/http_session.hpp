#pragma once
// One HTTP/1.1 connection before (or instead of) a websocket: reads requests with Beast under size and
// time limits, asks the Router, and writes the answer (keep-alive for plain requests), or writes the 101
// and hands the stream over to a WebSocketSession, freeing the request buffer and parser with itself.

#include <utility>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/file_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "hub_state.hpp"
#include "transport.hpp"

namespace ovalstream::hub {

template <class Stream>
class HttpSession final : public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  // `slot`: this connection's place under options.http, released when the session ends or hands over.
  HttpSession(Stream stream, std::shared_ptr<HubState> hub, HttpSlot slot);

  // On the session's strand: the TLS handshake if any, then the first request.
  void run();

 private:
  void on_tls_handshake(boost::system::error_code error);
  void read_request();
  void on_header_read(boost::system::error_code error, std::size_t bytes);
  void on_read(boost::system::error_code error, std::size_t bytes);
  void on_read_error(boost::system::error_code error);
  void handle_request();
  void answer_websocket_route(WebSocketHandlers handlers, bool upgrade_requested);
  void write_response(HttpResponse response, bool keep_alive);
  // Writes the response in pieces, each guarded by options.write_stall_timeout: a slow reader that keeps
  // taking bytes is never cut off, one that takes nothing is.
  template <class Serializer>
  void write_next_piece(Serializer& serializer, bool keep_alive);
  template <class Serializer>
  void on_piece_written(Serializer& serializer, bool keep_alive, boost::system::error_code error,
                        std::size_t);
  void on_response_written(bool keep_alive, boost::system::error_code error);
  // Guards a read or write: the connection is closed after `timeout` (counted as `reason`); the generation
  // retires stale expiries.
  void arm_deadline(std::chrono::milliseconds timeout, std::string_view reason);
  void disarm_deadline();
  std::chrono::milliseconds header_deadline() const;
  void close();

  Stream stream_;
  const std::shared_ptr<HubState> hub_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  unsigned request_version_ = 11;
  using StringResponse = boost::beast::http::response<boost::beast::http::string_body>;
  using FileResponse = boost::beast::http::response<boost::beast::http::file_body>;
  std::optional<StringResponse> response_;
  std::optional<boost::beast::http::response_serializer<boost::beast::http::string_body>> serializer_;
  std::optional<FileResponse> file_response_;
  std::optional<boost::beast::http::response_serializer<boost::beast::http::file_body>> file_serializer_;
  std::shared_ptr<void> held_until_written_;  // HttpResponse::held_until_written of the response in flight
  boost::asio::steady_timer deadline_;
  std::uint64_t deadline_generation_ = 0;
  std::string remote_address_;
  HttpSlot slot_;
};

extern template class HttpSession<PlainStream>;
extern template class HttpSession<TlsStream>;

}  // namespace ovalstream::hub
