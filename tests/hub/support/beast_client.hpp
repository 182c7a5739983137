#pragma once
// A Boost.Beast websocket client (plain or TLS) driven by its own io_context: one read is always pending
// (so pings are answered, as a real client would), received messages are queued, and every wait is bounded
// by pumping the io_context for at most the given time.

#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <deque>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace ovalstream::hub::testing {

template <class NextLayer>
class BasicBeastClient {
 public:
  static constexpr bool kTls = !std::is_same_v<NextLayer, boost::asio::ip::tcp::socket>;

  // Connects and handshakes (TLS first when NextLayer is an ssl::stream); connected() tells the outcome.
  BasicBeastClient(std::uint16_t port, std::string target = "/ws", boost::asio::ssl::context* tls = nullptr,
                   std::chrono::milliseconds timeout = std::chrono::seconds(5))
      : ws_(make_stream(tls)) {
    ws_.control_callback([this](boost::beast::websocket::frame_type kind, boost::beast::string_view payload) {
      if (kind == boost::beast::websocket::frame_type::pong)
        pongs_.emplace_back(payload.data(), payload.size());
      if (kind == boost::beast::websocket::frame_type::ping) ++pings_;
    });
    auto& socket = boost::beast::get_lowest_layer(ws_);
    boost::system::error_code error;
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), port}, error);
    if (error) {
      error_ = error;
      return;
    }
    if constexpr (kTls) {
      if (!run(
              [&](auto handler) {
                ws_.next_layer().async_handshake(boost::asio::ssl::stream_base::client, handler);
              },
              timeout)) {
        return;
      }
    }
    if (!run([&](auto handler) { ws_.async_handshake("127.0.0.1", target, handler); }, timeout)) return;
    connected_ = true;
    start_read();
  }

  ~BasicBeastClient() {
    boost::system::error_code ignored;
    boost::beast::get_lowest_layer(ws_).close(ignored);
    io_.restart();
    io_.run_for(std::chrono::seconds(1));
  }

  bool connected() const { return connected_; }
  bool closed() const { return closed_; }
  boost::system::error_code error() const { return error_; }
  // The close frame the server sent (valid once closed()).
  boost::beast::websocket::close_reason close_reason() const { return ws_.reason(); }
  const std::vector<std::string>& pongs() const { return pongs_; }
  int pings() const { return pings_; }

  // The next message, or nullopt on timeout or close.
  std::optional<std::string> next_message(std::chrono::milliseconds timeout) {
    pump_until([&] { return !messages_.empty() || closed_; }, timeout);
    if (messages_.empty()) return std::nullopt;
    std::string message = std::move(messages_.front());
    messages_.pop_front();
    return message;
  }

  // Runs the client (answering pings, collecting messages) for `duration`.
  void pump(std::chrono::milliseconds duration) {
    pump_until([] { return false; }, duration);
  }

  // Waits until the server closes the connection.
  bool wait_closed(std::chrono::milliseconds timeout) {
    return pump_until([&] { return closed_; }, timeout);
  }

  bool ping(const std::string& payload, std::chrono::milliseconds timeout) {
    return run([&](auto handler) { ws_.async_ping(boost::beast::websocket::ping_data(payload), handler); },
               timeout);
  }

  // Sends one text message (what a browser's heartbeat is); true once written.
  bool send_text(const std::string& text, std::chrono::milliseconds timeout) {
    ws_.text(true);
    return run([&](auto handler) { ws_.async_write(boost::asio::buffer(text), handler); }, timeout);
  }

  // Starts the closing handshake and waits until it completes (the pending read ends).
  bool close(std::uint16_t code, std::chrono::milliseconds timeout) {
    if (!run([&](auto handler) { ws_.async_close(boost::beast::websocket::close_reason(code), handler); },
             timeout)) {
      return false;
    }
    return wait_closed(timeout);
  }

  std::size_t queued_messages() const { return messages_.size(); }

 private:
  using Stream = boost::beast::websocket::stream<NextLayer>;

  Stream make_stream(boost::asio::ssl::context* tls) {
    if constexpr (kTls) {
      return Stream(io_, *tls);
    } else {
      (void)tls;
      return Stream(io_);
    }
  }

  void start_read() {
    ws_.async_read(buffer_, [this](boost::system::error_code error, std::size_t) {
      if (error) {
        error_ = error;
        closed_ = true;
        return;
      }
      messages_.push_back(boost::beast::buffers_to_string(buffer_.data()));
      buffer_.consume(buffer_.size());
      start_read();
    });
  }

  template <class Condition>
  bool pump_until(Condition condition, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return false;
      io_.restart();
      io_.run_one_for(deadline - now);
    }
    return true;
  }

  // Runs one operation to completion within the timeout; false (and error()) on failure or timeout.
  template <class Start>
  bool run(Start start, std::chrono::milliseconds timeout) {
    bool done = false;
    boost::system::error_code result;
    start([&](boost::system::error_code error, auto&&...) {
      result = error;
      done = true;
    });
    if (!pump_until([&] { return done; }, timeout)) {
      boost::system::error_code ignored;
      boost::beast::get_lowest_layer(ws_).cancel(ignored);
      pump_until([&] { return done; }, std::chrono::seconds(1));
      error_ = boost::asio::error::timed_out;
      return false;
    }
    error_ = result;
    return !result;
  }

  boost::asio::io_context io_;
  Stream ws_;
  boost::beast::flat_buffer buffer_;
  std::deque<std::string> messages_;
  std::vector<std::string> pongs_;
  int pings_ = 0;
  bool connected_ = false;
  bool closed_ = false;
  boost::system::error_code error_;
};

using BeastClient = BasicBeastClient<boost::asio::ip::tcp::socket>;
using BeastTlsClient = BasicBeastClient<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>>;

}  // namespace ovalstream::hub::testing
