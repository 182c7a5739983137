#pragma once
// cpprestsdk's websocket client (websocketpp inside): a second, independent implementation of RFC 6455
// on the other end. Waits are bounded: every task is awaited through a future with a timeout.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace ovalstream::hub::testing {

class CppRestClient {
 public:
  // `uri`: ws://127.0.0.1:port/ws or wss://... (certificates are not verified: tests use self-signed ones).
  explicit CppRestClient(const std::string& uri);
  ~CppRestClient();

  bool connect(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Waits until `count` messages arrived; returns all received so far.
  std::vector<std::string> wait_for_messages(std::size_t count, std::chrono::milliseconds timeout);
  std::size_t message_count() const;
  bool wait_closed(std::chrono::milliseconds timeout);
  bool closed() const;
  int close_code() const;  // the server's close code, once closed
  bool close(std::chrono::milliseconds timeout);

 private:
  struct State;
  std::string uri_;
  std::shared_ptr<State> state_;
  struct ClientHolder;
  std::unique_ptr<ClientHolder> client_;
};

}  // namespace ovalstream::hub::testing
