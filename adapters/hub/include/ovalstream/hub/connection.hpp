#pragma once
// One open websocket connection, as the application sees it after the handshake.
// Thread safety: every member function may be called from any thread.

#include <cstdint>
#include <span>
#include <string_view>

#include "ovalstream/hub/frame.hpp"

namespace ovalstream::hub {

class Connection {
 public:
  virtual ~Connection() = default;

  // Writes frames, in order after everything sent before. Never blocks: over plain TCP a connection with
  // nothing pending writes them at once with one non-blocking system call on the calling thread; whatever
  // the kernel does not take, and anything sent while a write is pending, is queued and written by one
  // gather write of everything queued. If the queued bytes would exceed the connection's bound
  // (--client-queue-bytes), the connection is closed with 1008 "slow consumer" instead and counted; other
  // connections are not affected. Returns false when the frames were not queued (closed or closing).
  virtual bool send(std::span<const Frame> frames) = 0;
  bool send(const Frame& frame) { return send(std::span<const Frame>(&frame, 1)); }
  // Like send(frames); `block` is make_frame_block(frames), which an implementation may queue instead (one
  // buffer to write rather than two per frame). This default sends `frames`.
  virtual bool send_block(std::span<const Frame> frames, const Frame& block) {
    (void)block;
    return send(frames);
  }

  // Sends a close frame after what is queued, then shuts the connection down.
  virtual void close(std::uint16_t code, std::string_view reason) = 0;

  virtual bool is_open() const = 0;
  // Unique within the process, for logs.
  virtual std::uint64_t id() const = 0;
};

}  // namespace ovalstream::hub
