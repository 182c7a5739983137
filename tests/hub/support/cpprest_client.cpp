#include "hub/support/cpprest_client.hpp"

// cpprestsdk would define a macro U(), which breaks Boost headers included after it.
#define _TURN_OFF_PLATFORM_STRING
#include <cpprest/ws_client.h>

#include <future>

namespace ovalstream::hub::testing {

namespace ws = web::websockets::client;

struct CppRestClient::State {
  mutable std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::string> messages;
  bool closed = false;
  int close_code = 0;
};

struct CppRestClient::ClientHolder {
  explicit ClientHolder(ws::websocket_client_config config) : client(std::move(config)) {}
  ws::websocket_callback_client client;
};

namespace {

bool wait_task(pplx::task<void> task, std::chrono::milliseconds timeout) {
  auto promise = std::make_shared<std::promise<bool>>();
  auto future = promise->get_future();
  task.then([promise](pplx::task<void> finished) {
    try {
      finished.get();
      promise->set_value(true);
    } catch (...) {
      promise->set_value(false);
    }
  });
  return future.wait_for(timeout) == std::future_status::ready && future.get();
}

}  // namespace

CppRestClient::CppRestClient(const std::string& uri) : uri_(uri), state_(std::make_shared<State>()) {
  ws::websocket_client_config config;
  config.set_validate_certificates(false);
  client_ = std::make_unique<ClientHolder>(std::move(config));
  auto state = state_;
  client_->client.set_message_handler([state](const ws::websocket_incoming_message& message) {
    std::string text;
    try {
      text = message.extract_string().get();
    } catch (...) {
      return;
    }
    std::lock_guard lock(state->mutex);
    state->messages.push_back(std::move(text));
    state->changed.notify_all();
  });
  client_->client.set_close_handler(
      [state](ws::websocket_close_status status, const utility::string_t&, const std::error_code&) {
        std::lock_guard lock(state->mutex);
        state->closed = true;
        state->close_code = static_cast<int>(status);
        state->changed.notify_all();
      });
}

CppRestClient::~CppRestClient() {
  if (!closed()) close(std::chrono::seconds(2));
}

bool CppRestClient::connect(std::chrono::milliseconds timeout) {
  try {
    return wait_task(client_->client.connect(web::uri(uri_)), timeout);
  } catch (...) {
    return false;
  }
}

std::vector<std::string> CppRestClient::wait_for_messages(std::size_t count,
                                                          std::chrono::milliseconds timeout) {
  std::unique_lock lock(state_->mutex);
  state_->changed.wait_for(lock, timeout, [&] { return state_->messages.size() >= count || state_->closed; });
  return state_->messages;
}

std::size_t CppRestClient::message_count() const {
  std::lock_guard lock(state_->mutex);
  return state_->messages.size();
}

bool CppRestClient::wait_closed(std::chrono::milliseconds timeout) {
  std::unique_lock lock(state_->mutex);
  return state_->changed.wait_for(lock, timeout, [&] { return state_->closed; });
}

bool CppRestClient::closed() const {
  std::lock_guard lock(state_->mutex);
  return state_->closed;
}

int CppRestClient::close_code() const {
  std::lock_guard lock(state_->mutex);
  return state_->close_code;
}

bool CppRestClient::close(std::chrono::milliseconds timeout) {
  try {
    return wait_task(client_->client.close(), timeout);
  } catch (...) {
    return false;
  }
}

}  // namespace ovalstream::hub::testing
