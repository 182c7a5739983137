#pragma once
// A replay sink for one websocket client of the replay server: each event is one text frame holding the
// event's bytes (without "_time"), shared, not copied. hub::Connection::send never blocks: frames are queued
// up to the hub's per-connection bound, beyond which the hub closes the client with 1008 "slow consumer"
// (that ends this replay). So `done` is called inline.
// Thread safety: see ReplaySink.

#include <memory>

#include "ovalstream/hub/connection.hpp"
#include "replay/replay_sink.hpp"

namespace ovalstream::recorder {

class WebSocketSink : public ReplaySink {
 public:
  explicit WebSocketSink(std::shared_ptr<hub::Connection> connection);
  void send(const core::Event& event, Done done) override;

 private:
  std::shared_ptr<hub::Connection> connection_;
};

}  // namespace ovalstream::recorder
