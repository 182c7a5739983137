#pragma once
// A NATS connection with its JetStream context. A service connects once at startup: a server that is not
// up yet is retried in the background, and a lost server is reconnected forever (every reconnect_wait), so
// the connection object stays valid for the life of the process.
// Thread safety: every member function may be called from any thread (nats.c connections and JetStream
// contexts are thread-safe). The callbacks in ConnectionOptions run on nats.c's callback thread, one at a
// time; they must not destroy the Connection. No callback runs after the destructor returns.

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "ovalstream/nats/handles.hpp"
#include "ovalstream/nats/status.hpp"

namespace ovalstream::nats {

namespace detail {
struct ConnectionCallbacks;
class SubscriptionErrorRouter;
}  // namespace detail

struct ConnectionOptions {
  std::string url = "nats://127.0.0.1:4222";
  std::string username, password;
  // TLS is on with `tls`, a tls:// URL, a CA file or a client certificate (tls_enabled()). The server's
  // certificate is checked against ca_file (else the system's CAs) and against the URL's host name or IP.
  bool tls = false;
  std::string ca_file;    // PEM CA certificates trusted for the server's certificate
  std::string cert_file;  // PEM client certificate chain, for servers that verify clients; with key_file
  std::string key_file;   // PEM private key of cert_file
  std::string credentials_file;  // a NATS .creds file (JWT and NKey seed)
  std::string name;              // shown by the server's monitoring
  // false when the connection to the server is lost, true when it is (re-)established after connect()
  // returned. Not called for a connect() that succeeded at once.
  std::function<void(bool connected)> on_connection_change;
  // Asynchronous errors that belong to no consumer (a consumer's own go to its status handler).
  std::function<void(const Error&)> on_error;

  std::chrono::milliseconds reconnect_wait{1000};
  // A single TCP connect attempt.
  std::chrono::milliseconds connect_timeout{2000};
  // JetStream API requests (stream info, publish acks, consumer creation and deletion).
  std::chrono::milliseconds request_timeout{5000};
  // The bound, in messages, of each subscription's queue from its first message on (nats.c's
  // natsOptions_SetMaxPendingMsgs). A consumer's own limit replaces it once the consumer is created;
  // messages that arrive in between (a backlog arrives at once) see this one. nats.c also bounds each
  // queue at 64 MiB.
  int pending_messages_limit = 65536;
};

// Whether `options` connect with TLS (see ConnectionOptions::tls).
bool tls_enabled(const ConnectionOptions& options);

class Connection {
 public:
  // Connects. When no server answers yet, succeeds anyway with connected() == false and keeps trying in
  // the background (on_connection_change(true) tells when it connects). Fails for invalid options (bad URL,
  // unreadable credentials or TLS files, a certificate without its key) and for errors a retry cannot fix
  // (e.g. authorization; with TLS, a failed handshake: an untrusted server certificate, or a server that
  // wants a client certificate).
  static Result<std::unique_ptr<Connection>> connect(const ConnectionOptions& options);

  // Closes the connection. Consumers created on it must be destroyed first.
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool connected() const;
  const std::string& url() const noexcept { return url_; }
  std::chrono::milliseconds request_timeout() const noexcept { return request_timeout_; }

  // The nats.c handles, for calls this adapter does not wrap. Owned by the Connection.
  natsConnection* native() const noexcept { return connection_.get(); }
  jsCtx* jetstream() const noexcept { return jetstream_.get(); }

 private:
  friend class OrderedConsumer;
  Connection() = default;

  std::string url_;
  std::chrono::milliseconds request_timeout_{};
  // Shared with nats.c's callbacks; freed once nats.c reported the connection closed (see ~Connection).
  detail::ConnectionCallbacks* callbacks_ = nullptr;
  std::shared_ptr<detail::SubscriptionErrorRouter> error_router_;
  ConnectionHandle connection_;
  JetStreamHandle jetstream_;
};

}  // namespace ovalstream::nats
