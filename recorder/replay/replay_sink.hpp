#pragma once
// Where a replay sends its events: JetStream (jetstream_sink.hpp) or one websocket client
// (websocket_sink.hpp). The replayer sends one event at a time and waits for `done` before the next, so a
// sink sees events in order, never concurrently, and its backpressure paces the replay.
// Thread safety: send() and begin_pass() are called from the replayer's strand, one call at a time; `done`
// may be called from any thread, inline or later, exactly once.

#include <functional>
#include <optional>
#include <string>

#include "ovalstream/core/event.hpp"

namespace ovalstream::recorder {

class ReplaySink {
 public:
  // nullopt: sent. A message: the replay cannot go on (it ends as failed with this message).
  using Done = std::function<void(std::optional<std::string> error)>;

  virtual ~ReplaySink() = default;
  virtual void send(const core::Event& event, Done done) = 0;
  // A new loop pass starts from the beginning: forget state derived from the previous pass.
  virtual void begin_pass() {}
};

}  // namespace ovalstream::recorder
