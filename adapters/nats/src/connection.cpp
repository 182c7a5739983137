#include "ovalstream/nats/connection.hpp"

#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <string_view>
#include <vector>

#include "ovalstream/nats/settings.hpp"
#include "subscription_error_router.hpp"

namespace ovalstream::nats {

namespace detail {

// What nats.c's connection callbacks reach through their closure pointer. It outlives the Connection until
// nats.c has run the closed callback, the last one it posts for a connection.
struct ConnectionCallbacks {
  // Held while a user callback runs, so that ~Connection can wait for a running one and stop new ones.
  std::mutex callback_mutex;
  bool closing = false;
  std::function<void(bool)> on_connection_change;
  std::function<void(const Status&)> on_error;
  std::shared_ptr<SubscriptionErrorRouter> error_router;

  std::mutex closed_mutex;
  std::condition_variable closed_changed;
  bool closed = false;

  void report_connection_change(bool connected) {
    std::lock_guard lock(callback_mutex);
    if (closing || !on_connection_change) return;
    on_connection_change(connected);
  }
  void report_error(const Status& status) {
    std::lock_guard lock(callback_mutex);
    if (closing || !on_error) return;
    on_error(status);
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
  std::lock_guard lock(callbacks.closed_mutex);
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
  callbacks.report_error(
      Status::error(code, std::string("asynchronous NATS error: ") + natsStatus_GetText(code)));
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

}  // namespace

Result<std::unique_ptr<Connection>> Connection::connect(const ConnectionOptions& options) {
  natsOptions* raw_options = nullptr;
  if (natsStatus s = natsOptions_Create(&raw_options); s != NATS_OK) {
    return Status::from_nats(s, "natsOptions_Create");
  }
  OptionsHandle nats_options(raw_options);

  std::unique_ptr<Connection> connection(new Connection());
  connection->url_ = options.url;
  connection->request_timeout_ = options.request_timeout;
  connection->error_router_ = std::make_shared<detail::SubscriptionErrorRouter>();
  auto callbacks = std::make_unique<ConnectionCallbacks>();
  callbacks->on_connection_change = options.on_connection_change;
  callbacks->on_error = options.on_error;
  callbacks->error_router = connection->error_router_;
  void* closure = callbacks.get();

  if (!options.credentials_file.empty() && ::access(options.credentials_file.c_str(), R_OK) != 0) {
    // nats.c reads the file at each connect; with retries on, a missing file would look like a server that
    // is not up yet and be retried forever.
    return Status::error(NATS_INVALID_ARG,
                         "cannot read the credentials file '" + options.credentials_file + "'");
  }

  // Each setter's status is checked right away: Status::from_nats reads nats.c's thread-local error detail.
  Status configured;
  auto apply = [&configured](natsStatus s, const char* what) {
    if (configured.ok() && s != NATS_OK) configured = Status::from_nats(s, what);
  };
  // natsOptions_SetURL takes one URL: a comma-separated list there is one bogus server that never answers.
  // A list goes to natsOptions_SetServers, the servers a connection tries and reconnects to.
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
  if (options.tls) apply(natsOptions_SetSecure(raw_options, true), "natsOptions_SetSecure");
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
  // With a connected callback, a first connect that fails returns NATS_NOT_YET_CONNECTED at once and
  // retries in the background instead of blocking the caller.
  apply(natsOptions_SetRetryOnFailedConnect(raw_options, true, on_connected, closure),
        "natsOptions_SetRetryOnFailedConnect");
  apply(natsOptions_SetDisconnectedCB(raw_options, on_disconnected, closure),
        "natsOptions_SetDisconnectedCB");
  apply(natsOptions_SetReconnectedCB(raw_options, on_reconnected, closure), "natsOptions_SetReconnectedCB");
  apply(natsOptions_SetClosedCB(raw_options, on_closed, closure), "natsOptions_SetClosedCB");
  apply(natsOptions_SetErrorHandler(raw_options, on_async_error, closure), "natsOptions_SetErrorHandler");
  if (!configured.ok()) return configured;

  natsConnection* raw_connection = nullptr;
  const natsStatus connect_status = natsConnection_Connect(&raw_connection, raw_options);
  if (connect_status != NATS_OK && connect_status != NATS_NOT_YET_CONNECTED) {
    // No connection object exists, so no callback can reach `callbacks`.
    natsConnection_Destroy(raw_connection);
    return Status::from_nats(connect_status, "connecting to " + redact_url_credentials(options.url));
  }
  connection->connection_.reset(raw_connection);
  connection->callbacks_ = callbacks.release();  // from now on freed by ~Connection

  jsOptions js_options;
  jsOptions_Init(&js_options);
  js_options.Wait = options.request_timeout.count();
  jsCtx* raw_jetstream = nullptr;
  if (natsStatus s = natsConnection_JetStream(&raw_jetstream, raw_connection, &js_options); s != NATS_OK) {
    return Status::from_nats(s, "natsConnection_JetStream");
  }
  connection->jetstream_.reset(raw_jetstream);
  return connection;
}

Connection::~Connection() {
  if (callbacks_ != nullptr) {
    // Waits for a running user callback, and keeps later ones (including the disconnect that closing
    // causes) from reaching an owner that is being torn down.
    std::lock_guard lock(callbacks_->callback_mutex);
    callbacks_->closing = true;
  }
  jetstream_.reset();
  if (connection_ != nullptr) natsConnection_Close(connection_.get());

  bool confirmed = callbacks_ == nullptr;
  if (callbacks_ != nullptr) {
    std::unique_lock lock(callbacks_->closed_mutex);
    confirmed = callbacks_->closed_changed.wait_for(lock, kCloseConfirmationTimeout,
                                                    [this] { return callbacks_->closed; });
  }
  connection_.reset();
  // Unconfirmed: nats.c may still call back with this closure, so it is deliberately leaked.
  if (confirmed) delete callbacks_;
}

bool Connection::connected() const {
  return connection_ != nullptr && natsConnection_Status(connection_.get()) == NATS_CONN_STATUS_CONNECTED;
}

}  // namespace ovalstream::nats
