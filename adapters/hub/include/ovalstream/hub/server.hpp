#pragma once
// An HTTP/1.1 server (Boost.Beast) that answers plain requests and upgrades websocket requests to
// Connections. The application decides per request through a Router; the hub owns sockets, timers,
// queues and close codes.
// Thread safety: start(), stop_accepting() and close_all() may be called from any thread; the Router and
// the handlers are called on connection strands, concurrently for different connections.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "ovalstream/hub/connection.hpp"

namespace ovalstream::hub {

struct Request {
  std::string method;              // "GET"
  std::string target;              // path and query, e.g. "/v1/competitions/abc"
  std::string path;                // target without the query
  bool websocket_upgrade = false;  // a valid websocket upgrade request
  std::string remote_address;
  // Header fields in arrival order, names as sent; header() looks one up case-insensitively.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // at most max_request_body_bytes (larger bodies are answered 413 by the hub)

  // The first field named `name` (ASCII case-insensitive); "" when absent.
  std::string_view header(std::string_view name) const noexcept;
};

struct HttpResponse {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // Set: the body is this file instead of `body`, streamed through a small fixed buffer (a download never
  // holds the file in memory). A file that cannot be opened is answered 500.
  std::string body_file = {};
  // Released once the response is written or the connection is gone: lets the application count (and
  // bound) responses still being written, e.g. downloads in progress.
  std::shared_ptr<void> held_until_written = {};
};

// Delivers a response later, from any thread; call it exactly once.
using Respond = std::function<void(HttpResponse)>;

struct WebSocketHandlers {
  std::string endpoint;  // label for metrics, e.g. "competitions"
  // After the 101 response is written; the connection may be sent frames from now on.
  std::function<void(const std::shared_ptr<Connection>&)> on_open;
  // Once, when the connection is closed for any reason. The Connection must not be used after.
  std::function<void(const std::shared_ptr<Connection>&)> on_close;
  // Not empty: the 101 names this Sec-WebSocket-Protocol (one the client offered; a browser fails a
  // handshake that names none after it offered some).
  std::string subprotocol = {};
};

// What to do with a request: answer now, answer later, or accept the websocket upgrade.
using Route = std::variant<HttpResponse, std::function<void(Respond)>, WebSocketHandlers>;
using Router = std::function<Route(const Request&)>;

// What the hub reports, for metrics. Called from connection strands and from the threads that call
// Connection::send (a write made at once by the sender); implementations must be thread-safe.
class HubObserver {
 public:
  virtual ~HubObserver() = default;
  virtual void connection_opened(const std::string& endpoint) = 0;
  virtual void connection_closed(const std::string& endpoint) = 0;
  virtual void connection_rejected(const std::string& reason) = 0;  // "max_connections", "draining", ...
  virtual void frames_written(std::uint64_t frames, std::uint64_t bytes) = 0;
  // The oldest frame of a completed write that had a publish time: now - published_ns.
  virtual void publish_to_write(std::chrono::nanoseconds latency) = 0;
  virtual void slow_consumer_closed() = 0;
  // A ping answered by replacing a pong still queued (only the latest ping is answered, RFC 6455 5.5.3).
  virtual void pong_coalesced() {}
  // A connection stopped reading its client's frames because its queue is over the read-pause mark.
  virtual void reads_paused() {}
  // A data frame from a client (a heartbeat), read and discarded.
  virtual void client_frame_discarded() {}
  // A connection closed for its client's data frames: "message_size" (1009, a message over
  // max_client_message_bytes) or "frame_rate" (1008, over client_frame_rate).
  virtual void client_frame_limit_closed(const std::string& reason) { (void)reason; }
  // A plain HTTP connection refused at accept ("http_connections", "http_connections_per_address",
  // "descriptor_reserve") or cut for lack of progress ("header_timeout", "request_timeout",
  // "write_stalled").
  virtual void http_connection_dropped(const std::string& reason) { (void)reason; }
  // Why a websocket closed (one of kWebSocketCloseReasons), once per connection, after connection_closed.
  virtual void websocket_closed(const std::string& reason) { (void)reason; }
  // A plain HTTP response (not a 101) about to be written, by its status code.
  virtual void http_response(unsigned status) { (void)status; }
};

// Why a websocket closed, as HubObserver::websocket_closed reports it; the first cause wins:
//   client_close    the client sent a close frame
//   client_gone     the connection ended without a close handshake (EOF, reset, a failed write)
//   ping_timeout    no frame from the client for pong_timeout (1001)
//   slow_consumer   the queue passed client_queue_bytes (1008)
//   message_size    a client message over max_client_message_bytes (1009)
//   frame_rate      client data frames over client_frame_rate (1008)
//   protocol_error  the client broke the websocket protocol (1002, 1007)
//   server          the application closed it (Connection::close, close_all when draining)
//   shutdown        the server was destroyed with the connection open
inline constexpr const char* kWebSocketCloseReasons[] = {"client_close",   "client_gone",  "ping_timeout",
                                                         "slow_consumer",  "message_size", "frame_rate",
                                                         "protocol_error", "server",       "shutdown"};
// The reasons HubObserver::connection_rejected reports for a refused upgrade.
inline constexpr const char* kUpgradeRejectionReasons[] = {"draining", "max_connections"};
// The reasons HubObserver::http_connection_dropped reports.
inline constexpr const char* kHttpDropReasons[] = {"http_connections",   "http_connections_per_address",
                                                   "descriptor_reserve", "header_timeout",
                                                   "request_timeout",    "write_stalled"};

// Memory queued to websocket clients (what client_queue_bytes bounds per connection), at one moment.
struct QueuedBytes {
  std::size_t total = 0;    // over every open connection
  std::size_t largest = 0;  // of one connection
};

// Bounds on connections that are not (yet) websockets: from accept until the 101 is written, or for as
// long as a plain HTTP connection lives. Over a bound a new connection gets a best-effort 503 and is
// closed at once (counted in HubObserver::http_connection_dropped), so unfinished requests cannot take
// every descriptor.
struct HttpLimits {
  std::size_t max_connections = 1024;             // in all; 0 = unlimited
  std::size_t max_connections_per_address = 128;  // per client IP address; 0 = unlimited
  // Accepted connections are closed at once while fewer than this many descriptors are free below
  // RLIMIT_NOFILE, so the process keeps descriptors for its files, NATS and its other listeners. 0 here (a
  // server that must always answer, metrics and health); client-facing servers get EdgeSettings' 64.
  std::size_t descriptor_reserve = 0;
};

struct ServerOptions {
  std::string host;                                // "" = all interfaces
  std::uint16_t port = 8080;                       // 0 = any free port (tests)
  std::shared_ptr<boost::asio::ssl::context> tls;  // set: serve https/wss only
  std::size_t max_connections = 0;                 // websocket connections; 0 = unlimited. Over it: 503.
  std::size_t client_queue_bytes = 8 << 20;
  std::chrono::milliseconds ping_interval{54'000};
  std::chrono::milliseconds pong_timeout{60'000};  // no frame from the peer for this long: close
  // Data frames from clients (text, binary, continuations: the JSON heartbeats of browsers, which cannot
  // ping) are read and discarded, never buffered, and count as signs of life, within two bounds:
  std::uint64_t max_client_message_bytes = 64 * 1024;  // a message (all its frames) over it: close 1009
  // Data frames per second, on average over 10 s (a bucket of 10 s worth); over it: close 1008. 0 = no
  // limit. Control frames do not count.
  std::uint32_t client_frame_rate = 10;
  std::chrono::milliseconds request_timeout{10'000};  // reading an HTTP request (header and body)
  std::uint64_t max_request_body_bytes = 8 * 1024;    // larger request bodies: 413
  // Reading a request's header (and waiting for the next request on a kept-alive connection): an
  // unfinished header (slowloris) holds a descriptor only this long.
  std::chrono::milliseconds header_timeout{5'000};
  // Writing a response: closed when the peer takes no byte for this long. No bound on the total time, so
  // an honest slow download completes.
  std::chrono::milliseconds write_stall_timeout{10'000};
  HttpLimits http;
};

class Server {
 public:
  // Binds and listens; throws std::system_error when the address cannot be bound (a startup mistake).
  Server(boost::asio::io_context& io, ServerOptions options, Router router,
         std::shared_ptr<HubObserver> observer);
  ~Server();

  std::uint16_t port() const;  // the bound port
  void start();                // begins accepting
  // Stops accepting; new connection attempts are refused. Open connections stay.
  void stop_accepting();
  // Closes every open websocket with `code`, spreading the closes evenly over `spread`; calls `done` when
  // all are closed (or at once when there are none).
  void close_all(std::uint16_t code, std::string reason, std::chrono::milliseconds spread,
                 std::function<void()> done);
  std::size_t open_connections() const;
  // Locks each open connection's queue in turn: O(connections), for a scrape, not for a hot path.
  QueuedBytes queued_bytes() const;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace ovalstream::hub
