#include "ovalstream/nats/connection.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "ovalstream/nats/settings.hpp"
#include "ovalstream/runtime/mutex.hpp"
#include "subscription_error_router.hpp"

namespace ovalstream::nats {

namespace detail {

// What nats.c's connection callbacks reach through their closure pointer. It outlives the Connection until
// nats.c has run the closed callback, the last one it posts for a connection.
struct ConnectionCallbacks {
  // Held while a user callback runs, so that ~Connection can wait for a running one and stop new ones.
  runtime::Mutex callback_mutex;
  bool closing GUARDED_BY(callback_mutex) = false;
  std::function<void(bool)> on_connection_change;
  std::function<void(const Error&)> on_error;
  std::shared_ptr<SubscriptionErrorRouter> error_router;

  runtime::Mutex closed_mutex;
  runtime::CondVar closed_changed;
  bool closed GUARDED_BY(closed_mutex) = false;

  void report_connection_change(bool connected) {
    runtime::MutexLock lock(callback_mutex);
    if (closing || !on_connection_change) return;
    on_connection_change(connected);
  }
  void report_error(const Error& error) {
    runtime::MutexLock lock(callback_mutex);
    if (closing || !on_error) return;
    on_error(error);
  }
};

}  // namespace detail

namespace {

using detail::ConnectionCallbacks;

// Closing waits at most this long for nats.c to confirm; beyond it the callback state is leaked, not freed,
// so a late callback cannot touch freed memory.
constexpr std::chrono::seconds kCloseConfirmationTimeout{5};

ConnectionCallbacks& callbacks_of(void* closure) {
  return *static_cast<ConnectionCallbacks*>(closure);
}

void on_connected(natsConnection*, void* closure) {
  callbacks_of(closure).report_connection_change(true);
}
void on_disconnected(natsConnection*, void* closure) {
  callbacks_of(closure).report_connection_change(false);
}
void on_reconnected(natsConnection*, void* closure) {
  callbacks_of(closure).report_connection_change(true);
}

void on_closed(natsConnection*, void* closure) {
  auto& callbacks = callbacks_of(closure);
  // Notify under the lock: ~Connection may free `callbacks` as soon as it sees `closed`.
  runtime::MutexLock lock(callbacks.closed_mutex);
  callbacks.closed = true;
  callbacks.closed_changed.notify_all();
}

void on_async_error(natsConnection*, natsSubscription* subscription, natsStatus code, void* closure) {
  auto& callbacks = callbacks_of(closure);
  if (subscription != nullptr) {
    if (auto sink = callbacks.error_router->find(subscription)) {
      sink->on_subscription_error(subscription, code);
      return;
    }
  }
  callbacks.report_error(Error{code, 0, std::string("asynchronous NATS error: ") + natsStatus_GetText(code)});
}

// The URLs of a comma-separated list, each trimmed of spaces; empty entries left out.
std::vector<std::string> split_urls(std::string_view list) {
  std::vector<std::string> urls;
  for (;;) {
    const std::size_t comma = list.find(',');
    std::string_view url = list.substr(0, comma);
    while (!url.empty() && url.front() == ' ') url.remove_prefix(1);
    while (!url.empty() && url.back() == ' ') url.remove_suffix(1);
    if (!url.empty()) urls.emplace_back(url);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return urls;
}

// Any of the comma-separated URLs starts with tls:// (in any case).
bool any_url_uses_tls_scheme(std::string_view list) {
  constexpr std::string_view kScheme = "tls://";
  const std::vector<std::string> urls = split_urls(list);
  return std::any_of(urls.begin(), urls.end(), [&](const std::string& url) {
    return url.size() >= kScheme.size() &&
           std::equal(kScheme.begin(), kScheme.end(), url.begin(),
                      [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); });
  });
}

// Why `path` cannot be read ("cannot read the <what> '<path>': <reason>"); nullopt when it can (or is "").
std::optional<std::string> unreadable(const std::string& path, const char* what) {
  if (path.empty() || ::access(path.c_str(), R_OK) == 0) return std::nullopt;
  return std::string("cannot read the ") + what + " '" + path + "': " + std::strerror(errno);
}

// Failures a retry may cure: no server answered (refused, unresolvable, timed out).
bool is_unreachable(natsStatus status) {
  return status == NATS_NO_SERVER || status == NATS_TIMEOUT;
}

// What a failed TLS connect was checked against, for its error message.
std::string tls_context(const ConnectionOptions& options, natsStatus status) {
  std::string context = "; TLS: the server's certificate is checked against ";
  context +=
      options.ca_file.empty() ? "the system's CA certificates" : "the CA file '" + options.ca_file + "'";
  context += " and the URL's host, client certificate ";
  context += options.cert_file.empty() ? "none" : "'" + options.cert_file + "'";
  if (status == NATS_SECURE_CONNECTION_WANTED) context += "; the server offers no TLS";
  if (options.cert_file.empty() && status != NATS_SSL_ERROR && status != NATS_SECURE_CONNECTION_WANTED) {
    // nats-server with `verify: true` closes the connection of a client without a certificate after the
    // handshake, which nats.c reports as a protocol error.
    context += "; a server that verifies clients closes a connection without a client certificate";
  }
  return context;
}

}  // namespace

bool tls_enabled(const ConnectionOptions& options) {
  return options.tls || !options.ca_file.empty() || !options.cert_file.empty() || !options.key_file.empty() ||
         any_url_uses_tls_scheme(options.url);
}

Result<std::unique_ptr<Connection>> Connection::connect(const ConnectionOptions& options) {
  // nats.c reads the credentials file at each connect; with retries on, a missing file would look like a
  // server that is not up yet and be retried forever. The TLS files are read once, below, but a message
  // naming the file and the reason beats OpenSSL's.
  for (const auto& [path, what] :
       {std::pair{&options.credentials_file, "credentials file"}, std::pair{&options.ca_file, "TLS CA file"},
        std::pair{&options.cert_file, "TLS client certificate file"},
        std::pair{&options.key_file, "TLS client key file"}}) {
    if (auto problem = unreadable(*path, what)) return Error{NATS_INVALID_ARG, 0, std::move(*problem)};
  }
  if (options.cert_file.empty() != options.key_file.empty()) {
    return Error{NATS_INVALID_ARG, 0,
                 "a TLS client certificate and its key go together (certificate '" + options.cert_file +
                     "', key '" + options.key_file + "')"};
  }
  const bool tls = tls_enabled(options);

  std::unique_ptr<Connection> connection(new Connection());
  connection->url_ = options.url;
  connection->request_timeout_ = options.request_timeout;
  connection->error_router_ = std::make_shared<detail::SubscriptionErrorRouter>();
  auto callbacks = std::make_unique<ConnectionCallbacks>();
  callbacks->on_connection_change = options.on_connection_change;
  callbacks->on_error = options.on_error;
  callbacks->error_router = connection->error_router_;
  void* closure = callbacks.get();

  // `retry_in_background`: a first connect that fails returns NATS_NOT_YET_CONNECTED at once and retries in
  // the background (with a connected callback) instead of failing.
  auto make_options = [&](bool retry_in_background) -> Result<OptionsHandle> {
    natsOptions* raw_options = nullptr;
    if (natsStatus s = natsOptions_Create(&raw_options); s != NATS_OK) {
      return Error::from_nats(s, "natsOptions_Create");
    }
    OptionsHandle nats_options(raw_options);
    // Each setter's status is checked right away: Error::from_nats reads nats.c's thread-local error
    // detail.
    Status configured;
    auto apply = [&configured](natsStatus s, const std::string& what) {
      if (configured.ok() && s != NATS_OK) configured = Error::from_nats(s, what);
    };
    // natsOptions_SetURL takes one URL: a comma-separated list there is one bogus server that never
    // answers. A list goes to natsOptions_SetServers, the servers a connection tries and reconnects to.
    const std::vector<std::string> urls = split_urls(options.url);
    if (urls.size() > 1) {
      std::vector<const char*> servers;
      for (const std::string& url : urls) servers.push_back(url.c_str());
      apply(natsOptions_SetServers(raw_options, servers.data(), static_cast<int>(servers.size())),
            "natsOptions_SetServers");
    } else {
      apply(natsOptions_SetURL(raw_options, options.url.c_str()), "natsOptions_SetURL");
    }
    if (!options.username.empty() || !options.password.empty()) {
      apply(natsOptions_SetUserInfo(raw_options, options.username.c_str(), options.password.c_str()),
            "natsOptions_SetUserInfo");
    }
    // Explicitly: nats.c 3.4 connects in plain text to a tls:// URL, or with a CA loaded, when the server
    // offers no TLS; secure makes that an error instead.
    if (tls) apply(natsOptions_SetSecure(raw_options, true), "natsOptions_SetSecure");
    if (!options.ca_file.empty()) {
      apply(natsOptions_LoadCATrustedCertificates(raw_options, options.ca_file.c_str()),
            "loading the TLS CA file '" + options.ca_file + "'");
    }
    if (!options.cert_file.empty()) {
      apply(
          natsOptions_LoadCertificatesChain(raw_options, options.cert_file.c_str(), options.key_file.c_str()),
          "loading the TLS client certificate '" + options.cert_file + "' and key '" + options.key_file +
              "'");
    }
    if (!options.credentials_file.empty()) {
      apply(natsOptions_SetUserCredentialsFromFiles(raw_options, options.credentials_file.c_str(), nullptr),
            "natsOptions_SetUserCredentialsFromFiles");
    }
    if (!options.name.empty())
      apply(natsOptions_SetName(raw_options, options.name.c_str()), "natsOptions_SetName");
    // A live-timing service has nothing to do without NATS: reconnect forever, at a steady pace.
    apply(natsOptions_SetAllowReconnect(raw_options, true), "natsOptions_SetAllowReconnect");
    apply(natsOptions_SetMaxReconnect(raw_options, -1), "natsOptions_SetMaxReconnect");
    apply(natsOptions_SetReconnectWait(raw_options, options.reconnect_wait.count()),
          "natsOptions_SetReconnectWait");
    apply(natsOptions_SetTimeout(raw_options, options.connect_timeout.count()), "natsOptions_SetTimeout");
    apply(natsOptions_SetMaxPendingMsgs(raw_options, options.pending_messages_limit),
          "natsOptions_SetMaxPendingMsgs");
    if (retry_in_background) {
      apply(natsOptions_SetRetryOnFailedConnect(raw_options, true, on_connected, closure),
            "natsOptions_SetRetryOnFailedConnect");
    }
    apply(natsOptions_SetDisconnectedCB(raw_options, on_disconnected, closure),
          "natsOptions_SetDisconnectedCB");
    apply(natsOptions_SetReconnectedCB(raw_options, on_reconnected, closure), "natsOptions_SetReconnectedCB");
    apply(natsOptions_SetClosedCB(raw_options, on_closed, closure), "natsOptions_SetClosedCB");
    apply(natsOptions_SetErrorHandler(raw_options, on_async_error, closure), "natsOptions_SetErrorHandler");
    if (!configured.ok()) return std::move(configured).error();
    return nats_options;
  };

  const std::string target = "connecting to " + redact_url_credentials(options.url);
  natsConnection* raw_connection = nullptr;
  // nats.c's retrying connect takes every failed first connect for an absent server, and after a failed
  // TLS handshake (an untrusted certificate; a server that wants TLS or a client certificate) it closes the
  // connection for good without saying why. One attempt without it tells such a mistake, reported now,
  // from a server that is not up yet, retried in the background below.
  auto once = make_options(false);
  if (!once) return std::move(once).error();
  natsStatus connect_status = natsConnection_Connect(&raw_connection, once.value().get());
  if (connect_status != NATS_OK && !is_unreachable(connect_status)) {
    // No connection object exists, so no callback can reach `callbacks`.
    Error failed = Error::from_nats(connect_status, target);
    natsConnection_Destroy(raw_connection);
    if (tls || connect_status == NATS_SSL_ERROR) failed.message += tls_context(options, connect_status);
    return failed;
  }
  if (connect_status != NATS_OK) {
    natsConnection_Destroy(raw_connection);
    raw_connection = nullptr;
    auto retrying = make_options(true);
    if (!retrying) return std::move(retrying).error();
    connect_status = natsConnection_Connect(&raw_connection, retrying.value().get());
    if (connect_status != NATS_OK && connect_status != NATS_NOT_YET_CONNECTED) {
      Error failed = Error::from_nats(connect_status, target);
      natsConnection_Destroy(raw_connection);
      return failed;
    }
  }
  connection->connection_.reset(raw_connection);
  connection->callbacks_ = callbacks.release();  // from now on freed by ~Connection

  jsOptions js_options;
  jsOptions_Init(&js_options);
  js_options.Wait = options.request_timeout.count();
  jsCtx* raw_jetstream = nullptr;
  if (natsStatus s = natsConnection_JetStream(&raw_jetstream, raw_connection, &js_options); s != NATS_OK) {
    return Error::from_nats(s, "natsConnection_JetStream");
  }
  connection->jetstream_.reset(raw_jetstream);
  return connection;
}

Connection::~Connection() {
  if (callbacks_ != nullptr) {
    // Waits for a running user callback, and keeps later ones (including the disconnect that closing
    // causes) from reaching an owner that is being torn down.
    runtime::MutexLock lock(callbacks_->callback_mutex);
    callbacks_->closing = true;
  }
  jetstream_.reset();
  if (connection_ != nullptr) natsConnection_Close(connection_.get());

  bool confirmed = callbacks_ == nullptr;
  if (callbacks_ != nullptr) {
    runtime::MutexLock lock(callbacks_->closed_mutex);
    confirmed = callbacks_->closed_changed.wait_for(lock, kCloseConfirmationTimeout, [this] {
      callbacks_->closed_mutex.assert_held();
      return callbacks_->closed;
    });
  }
  connection_.reset();
  // Unconfirmed: nats.c may still call back with this closure, so it is deliberately leaked.
  if (confirmed) delete callbacks_;
}

bool Connection::connected() const {
  return connection_ != nullptr && natsConnection_Status(connection_.get()) == NATS_CONN_STATUS_CONNECTED;
}

}  // namespace ovalstream::nats
