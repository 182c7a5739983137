#include "replay/websocket_sink.hpp"

#include "ovalstream/hub/frame.hpp"

namespace ovalstream::recorder {

WebSocketSink::WebSocketSink(std::shared_ptr<hub::Connection> connection)
    : connection_(std::move(connection)) {}

void WebSocketSink::send(const core::Event& event, Done done) {
  if (connection_->send(hub::make_text_frame(event.bytes))) {
    done(std::nullopt);
  } else {
    done("the client connection is closed");
  }
}

}  // namespace ovalstream::recorder
