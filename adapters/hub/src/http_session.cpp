#include "http_session.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <span>
#include <sstream>
#include <type_traits>
#include <variant>

#include "handshake.hpp"
#include "websocket_session.hpp"

namespace ovalstream::hub {

namespace http = boost::beast::http;

namespace {

// Request bodies are small JSON commands (ServerOptions::max_request_body_bytes); the read buffer holds
// a header or the start of a body, the parser keeps the body itself.
constexpr std::uint32_t kMaxRequestHeaderBytes = 8 * 1024;
constexpr std::size_t kMaxBufferedBytes = 16 * 1024;

HttpResponse plain_response(unsigned status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

// The answer to a request that could not be parsed, or nothing when the connection just ended or failed.
std::optional<HttpResponse> response_to_read_error(boost::system::error_code error) {
  if (error.category() != http::make_error_code(http::error::end_of_stream).category() ||
      error == http::error::end_of_stream || error == http::error::partial_message) {
    return std::nullopt;
  }
  if (error == http::error::header_limit || error == http::error::buffer_overflow) {
    return plain_response(431, "request header too large\n");
  }
  if (error == http::error::body_limit) return plain_response(413, "request body too large\n");
  return plain_response(400, "bad request\n");
}

std::string_view upgrade_problem_text(UpgradeProblem problem) {
  switch (problem) {
    case UpgradeProblem::kNotGet:
      return "websocket upgrade needs GET\n";
    case UpgradeProblem::kBadVersion:
      return "unsupported Sec-WebSocket-Version (13 only)\n";
    case UpgradeProblem::kBadKey:
      return "missing or invalid Sec-WebSocket-Key\n";
    case UpgradeProblem::kNone:
      break;
  }
  return "bad websocket upgrade\n";
}

}  // namespace

template <class Stream>
HttpSession<Stream>::HttpSession(Stream stream, std::shared_ptr<HubState> hub, HttpSlot slot)
    : stream_(std::move(stream)),
      hub_(std::move(hub)),
      buffer_(kMaxBufferedBytes),
      deadline_(stream_.get_executor()),
      slot_(std::move(slot)) {
  boost::system::error_code error;
  const auto endpoint = tcp_socket(stream_).remote_endpoint(error);
  if (!error) remote_address_ = endpoint.address().to_string();
}

template <class Stream>
void HttpSession<Stream>::run() {
  if constexpr (kIsTls<Stream>) {
    arm_deadline(header_deadline(), "header_timeout");
    stream_.async_handshake(
        boost::asio::ssl::stream_base::server,
        boost::beast::bind_front_handler(&HttpSession::on_tls_handshake, this->shared_from_this()));
  } else {
    read_request();
  }
}

template <class Stream>
void HttpSession<Stream>::on_tls_handshake(boost::system::error_code error) {
  disarm_deadline();
  if (error) {
    close();
    return;
  }
  read_request();
}

template <class Stream>
void HttpSession<Stream>::read_request() {
  parser_.emplace();
  parser_->header_limit(kMaxRequestHeaderBytes);
  parser_->body_limit(hub_->options().max_request_body_bytes);
  // The header has its own, shorter deadline: a client that trickles it (slowloris) or idles on a kept-alive
  // connection gives its descriptor back soon.
  arm_deadline(header_deadline(), "header_timeout");
  http::async_read_header(
      stream_, buffer_, *parser_,
      boost::beast::bind_front_handler(&HttpSession::on_header_read, this->shared_from_this()));
}

template <class Stream>
void HttpSession<Stream>::on_header_read(boost::system::error_code error, std::size_t) {
  disarm_deadline();
  if (error) {
    on_read_error(error);
    return;
  }
  if (parser_->is_done()) {
    handle_request();
    return;
  }
  arm_deadline(hub_->options().request_timeout, "request_timeout");
  http::async_read(stream_, buffer_, *parser_,
                   boost::beast::bind_front_handler(&HttpSession::on_read, this->shared_from_this()));
}

template <class Stream>
void HttpSession<Stream>::on_read(boost::system::error_code error, std::size_t) {
  disarm_deadline();
  if (error) {
    on_read_error(error);
    return;
  }
  handle_request();
}

template <class Stream>
void HttpSession<Stream>::on_read_error(boost::system::error_code error) {
  if (auto response = response_to_read_error(error)) {
    write_response(std::move(*response), false);
  } else {
    close();
  }
}

template <class Stream>
void HttpSession<Stream>::handle_request() {
  const auto& message = parser_->get();
  request_version_ = message.version();

  Request request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  request.path = request.target.substr(0, request.target.find('?'));
  request.remote_address = remote_address_;
  for (const auto& field : message) {
    request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  request.body = message.body();

  const bool upgrade_requested = boost::beast::websocket::is_upgrade(message);
  if (upgrade_requested) {
    const UpgradeProblem problem = check_upgrade_request(message);
    if (problem != UpgradeProblem::kNone) {
      HttpResponse response = plain_response(400, std::string(upgrade_problem_text(problem)));
      if (problem == UpgradeProblem::kBadVersion)
        response.headers.emplace_back("Sec-WebSocket-Version", "13");
      write_response(std::move(response), false);
      return;
    }
    request.websocket_upgrade = true;
  }
  // An upgrade request answered with anything but 101 is not kept: the client expects a websocket.
  const bool keep_alive = message.keep_alive() && !upgrade_requested;

  Route route;
  try {
    route = hub_->router()(request);
  } catch (...) {
    write_response(plain_response(500, "internal error\n"), false);
    return;
  }

  if (auto* response = std::get_if<HttpResponse>(&route)) {
    write_response(std::move(*response), keep_alive);
  } else if (auto* handlers = std::get_if<WebSocketHandlers>(&route)) {
    answer_websocket_route(std::move(*handlers), upgrade_requested);
  } else {
    auto& deliver_later = std::get<std::function<void(Respond)>>(route);
    if (!deliver_later) {
      write_response(plain_response(500, "internal error\n"), false);
      return;
    }
    // The application answers from any thread, exactly once; the answer is carried back to the strand.
    auto answered = std::make_shared<std::atomic<bool>>(false);
    Respond respond = [self = this->shared_from_this(), executor = stream_.get_executor(), answered,
                       keep_alive](HttpResponse response) {
      if (answered->exchange(true)) return;
      boost::asio::post(executor, [self, keep_alive, response = std::move(response)]() mutable {
        self->write_response(std::move(response), keep_alive);
      });
    };
    try {
      deliver_later(respond);
    } catch (...) {
      respond(plain_response(500, "internal error\n"));  // ignored if it answered before throwing
    }
  }
}

template <class Stream>
void HttpSession<Stream>::answer_websocket_route(WebSocketHandlers handlers, bool upgrade_requested) {
  if (!upgrade_requested) {
    HttpResponse response = plain_response(426, "websocket upgrade required\n");
    response.headers.emplace_back("Upgrade", "websocket");
    response.headers.emplace_back("Sec-WebSocket-Version", "13");
    write_response(std::move(response), parser_->get().keep_alive());
    return;
  }
  if (!hub_->accepting()) {
    hub_->observer().connection_rejected("draining");
    write_response(plain_response(503, "server draining\n"), false);
    return;
  }
  if (!hub_->try_reserve_connection()) {
    hub_->observer().connection_rejected("max_connections");
    write_response(plain_response(503, "too many connections\n"), false);
    return;
  }
  const auto key = parser_->get()[http::field::sec_websocket_key];
  http::response<http::empty_body> upgrade_response(http::status::switching_protocols, request_version_);
  upgrade_response.set(http::field::upgrade, "websocket");
  upgrade_response.set(http::field::connection, "Upgrade");
  upgrade_response.set(http::field::sec_websocket_accept,
                       websocket_accept_key(std::string_view(key.data(), key.size())));
  if (!handlers.subprotocol.empty())
    upgrade_response.set(http::field::sec_websocket_protocol, handlers.subprotocol);
  // The websocket session writes the 101 itself, after subscribing the client (WebSocketSession::start).
  std::ostringstream response_bytes;
  response_bytes << upgrade_response;
  // Bytes the client sent right behind its request are the websocket's; this session (with its request
  // buffer and parser) ends when this function returns. From here on the websocket limits apply.
  slot_.release();
  const auto early = buffer_.data();
  auto session = std::make_shared<WebSocketSession<Stream>>(std::move(stream_), hub_, std::move(handlers));
  session->start(std::span<const std::uint8_t>(static_cast<const std::uint8_t*>(early.data()), early.size()),
                 std::make_shared<const std::string>(response_bytes.str()));
}

template <class Stream>
void HttpSession<Stream>::write_response(HttpResponse response, bool keep_alive) {
  parser_.reset();
  if (response.status < 100 || response.status > 999) response = plain_response(500, "internal error\n");
  held_until_written_ = std::move(response.held_until_written);
  const auto fill_head = [&](auto& message) {
    message.version(request_version_);
    message.result(response.status);
    if (!response.content_type.empty()) message.set(http::field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers) message.insert(name, value);
    message.keep_alive(keep_alive);
  };
  if (!response.body_file.empty()) {
    boost::beast::error_code open_error;
    http::file_body::value_type file;
    file.open(response.body_file.c_str(), boost::beast::file_mode::scan, open_error);
    if (!open_error) {
      file_response_.emplace();
      fill_head(*file_response_);
      file_response_->body() = std::move(file);
      file_response_->prepare_payload();
      file_serializer_.emplace(*file_response_);
      hub_->observer().http_response(response.status);
      write_next_piece(*file_serializer_, keep_alive);
      return;
    }
    response = plain_response(500, "cannot read file\n");
    keep_alive = false;
  }
  response_.emplace();
  fill_head(*response_);
  response_->body() = std::move(response.body);
  response_->prepare_payload();
  serializer_.emplace(*response_);
  hub_->observer().http_response(response.status);
  write_next_piece(*serializer_, keep_alive);
}

template <class Stream>
template <class Serializer>
void HttpSession<Stream>::write_next_piece(Serializer& serializer, bool keep_alive) {
  arm_deadline(hub_->options().write_stall_timeout, "write_stalled");
  http::async_write_some(stream_, serializer,
                         [self = this->shared_from_this(), &serializer, keep_alive](
                             boost::system::error_code error, std::size_t bytes) {
                           self->on_piece_written(serializer, keep_alive, error, bytes);
                         });
}

template <class Stream>
template <class Serializer>
void HttpSession<Stream>::on_piece_written(Serializer& serializer, bool keep_alive,
                                           boost::system::error_code error, std::size_t) {
  disarm_deadline();
  if (!error && !serializer.is_done()) {
    write_next_piece(serializer, keep_alive);
    return;
  }
  on_response_written(keep_alive, error);
}

template <class Stream>
void HttpSession<Stream>::on_response_written(bool keep_alive, boost::system::error_code error) {
  serializer_.reset();
  response_.reset();
  file_serializer_.reset();
  file_response_.reset();
  held_until_written_.reset();
  if (error || !keep_alive) {
    close();
    return;
  }
  read_request();
}

template <class Stream>
void HttpSession<Stream>::arm_deadline(std::chrono::milliseconds timeout, std::string_view reason) {
  const std::uint64_t generation = ++deadline_generation_;
  deadline_.expires_after(timeout);
  deadline_.async_wait(
      [self = this->shared_from_this(), generation, reason](boost::system::error_code error) {
        if (error || generation != self->deadline_generation_) return;
        self->hub_->observer().http_connection_dropped(std::string(reason));
        self->close();  // the pending read, write or handshake completes with an error and ends the session
      });
}

template <class Stream>
std::chrono::milliseconds HttpSession<Stream>::header_deadline() const {
  // The whole request has request_timeout; its header no more than that either.
  return std::min(hub_->options().header_timeout, hub_->options().request_timeout);
}

template <class Stream>
void HttpSession<Stream>::disarm_deadline() {
  ++deadline_generation_;
  deadline_.cancel();
}

template <class Stream>
void HttpSession<Stream>::close() {
  close_transport(stream_);
}

template class HttpSession<PlainStream>;
template class HttpSession<TlsStream>;

}  // namespace ovalstream::hub
