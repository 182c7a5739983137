#pragma once
// One websocket after the handshake: our own framing over the raw stream (no beast::websocket::stream).
// Writes: over plain TCP, send() on a connection with nothing queued or in flight writes the frames at
// once, from the calling thread, with one non-blocking sendmsg under the connection's mutex (what the
// kernel does not take is queued). Otherwise frames are queued under the mutex and written by one gather
// write of everything queued at that moment (corked writes), on the session's strand. A live event thus
// costs one system call per client instead of two strand turns and a thread wakeup before it, which at low
// rates cost more than the write itself. The queue and its rules (the bound, pongs, the rest of a partial
// write, where the close frame goes) are an OutboundQueue; over the bound the connection is closed 1008
// "slow consumer" without slowing anyone else.
// Synchronization: mutex_ guards the queue and the close decision (annotated, checked by clang); the strand
// serializes reads, the async write and everything marked "strand only"; atomics carry what the liveness
// sweep and other threads read.
// Reads: control frames are parsed in place in a small fixed buffer; data frames (heartbeats) are skipped
// as their bytes arrive, through the same buffer, within the message bound and the frame rate. An idle
// connection thus costs well under 4 KiB of user-space memory whatever its client sends.
// Liveness (pings, silent peers, close deadlines) is driven by the hub-wide LivenessSweep.

#include <utility>

#include <array>
#include <atomic>
#include <boost/asio/buffer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "client_frame_parser.hpp"
#include "data_frame_rate_limit.hpp"
#include "hub_state.hpp"
#include "outbound_queue.hpp"
#include "ovalstream/runtime/mutex.hpp"
#include "tracked_connection.hpp"
#include "transport.hpp"

namespace ovalstream::hub {

// How long a closing connection may take to flush what is in flight, write its close frame and see the
// peer's close, before the socket is closed regardless (a slow consumer may never read its close frame).
inline constexpr std::chrono::seconds kCloseTimeout{5};

template <class Stream>
class WebSocketSession final : public TrackedConnection,
                               public std::enable_shared_from_this<WebSocketSession<Stream>> {
 public:
  WebSocketSession(Stream stream, std::shared_ptr<HubState> hub, WebSocketHandlers handlers);

  // On the session's strand, after the upgrade request. `upgrade_response`: the 101 response, not written
  // yet: it goes first in the queue and on_open runs before it is written, so a client that has seen its
  // 101 is already subscribed (it receives whatever is published after it connected). `early_bytes`: what
  // the client sent after its upgrade request, read together with it.
  void start(std::span<const std::uint8_t> early_bytes, Payload upgrade_response);

  bool send(std::span<const Frame> frames) override;
  using Connection::send;
  // Queues `block` alone: the burst's bytes are one buffer of the gather write.
  bool send_block(std::span<const Frame> frames, const Frame& block) override;
  void close(std::uint16_t code, std::string_view reason) override;
  bool is_open() const override { return state_.load(std::memory_order_acquire) == State::kOpen; }
  std::uint64_t id() const override { return id_; }

  void check_liveness(std::int64_t steady_now_ns) override;
  void abort() override;
  bool is_torn_down() const override { return torn_down_.load(std::memory_order_acquire); }
  std::size_t queued_bytes() const override;

 private:
  enum class State : std::uint8_t { kOpen, kClosing, kClosed };
  // Once our close frame is written: wait for the peer's close or EOF (bounded by kCloseTimeout), or close
  // the socket at once (the peer already closed, or is silent).
  enum class AfterClose : std::uint8_t { kAwaitPeer, kTeardown };

  // send() and the pong of a ping: at most one pong waits in the queue, a later ping's pong replaces it.
  bool enqueue(std::span<const Frame> frames, bool is_pong) EXCLUDES(mutex_);
  // `why`: the close reason for the observer (kWebSocketCloseReasons).
  void begin_close_locked(std::uint16_t code, std::string_view reason, bool drop_queue, AfterClose after,
                          const char* why) REQUIRES(mutex_);
  // Plain TCP and few enough buffers for one sendmsg (the queue adds: nothing queued or in flight).
  static constexpr bool may_write_inline(std::span<const Frame> frames) noexcept {
    return !kIsTls<Stream> && 2 * frames.size() <= kMaxInlineBuffers;
  }
  // One non-blocking sendmsg of `frames`; returns the bytes the kernel took (0 when it would block or
  // failed: the strand's write then retries and reports the error). Under mutex_, which makes it the
  // socket's only writer.
  std::size_t write_inline_locked(std::span<const Frame> frames) REQUIRES(mutex_);

  // Any thread.
  void post_write_start();

  // On the strand.
  void start_write();
  // At start, on the strand with the writer claimed: writes the 101 and what on_open queued behind it,
  // inline when the socket takes it all (plain TCP), else through start_write().
  void write_upgrade_and_queued();
  void write_tls_chunk();
  void on_tls_chunk_written(boost::system::error_code error, std::size_t bytes);
  void on_write(boost::system::error_code error, std::size_t bytes);
  // Any thread, without mutex_: reports a write of `bytes` that completed `frames` to the observer.
  void report_write(std::span<const Frame> frames, std::size_t bytes) EXCLUDES(mutex_);
  void on_close_frame_written();
  void read_some();
  // After a write: reading resumes once the queue is back under the read-pause mark.
  void resume_reading_if_drained();
  void on_read(boost::system::error_code error, std::size_t bytes);
  bool parse_read_buffer();  // false once torn down
  void handle_frame(const ClientFrame& frame);
  // A data frame's header: within the rate, a sign of life whose payload is skipped. False once torn down.
  bool on_data_frame();
  // The peer broke the protocol or a bound (`limit`, for the observer, when it is one of the data frame
  // limits): the input is no longer parsed and the connection closes with `code`. False once torn down.
  bool refuse_input(std::uint16_t code, std::string_view reason, const char* limit = nullptr);
  void fail(std::uint16_t code, std::string_view reason, AfterClose after, const char* why);
  // `why`: the close reason reported when no close had begun (else the one given when it began).
  void teardown(const char* why = "client_gone");

  // 2 + 4 + 125: the largest frame we ever need whole (a masked control frame), rounded up. Data frames'
  // payloads pass through it too, a buffer at a time.
  static constexpr std::size_t kReadBufferBytes = 144;
  static_assert(kReadBufferBytes >= kMaxClientControlFrameBytes);
  static_assert(kReadBufferBytes >= kMaxClientDataHeaderBytes);
  // Over TLS each buffer handed to the stream becomes its own record, so small frames are coalesced
  // into chunks of one full record instead of gathered.
  static constexpr std::size_t kTlsChunkBytes = 16 * 1024;
  // Buffers of one inline sendmsg (two per frame at most); a longer send goes through the strand's write.
  static constexpr std::size_t kMaxInlineBuffers = 64;

  Stream stream_;
  const std::shared_ptr<HubState> hub_;
  WebSocketHandlers handlers_;
  const std::uint64_t id_;

  mutable runtime::Mutex mutex_;
  OutboundQueue queue_ GUARDED_BY(mutex_);
  AfterClose after_close_ GUARDED_BY(mutex_) = AfterClose::kAwaitPeer;
  // Set when the close begins (kWebSocketCloseReasons).
  const char* close_reason_ GUARDED_BY(mutex_) = nullptr;
  std::atomic<State> state_{State::kOpen};  // written under mutex_, read anywhere

  // Strand only.
  std::vector<Frame> in_flight_;  // owns the payloads the write in flight points into
  std::vector<boost::asio::const_buffer> write_buffers_;
  bool close_in_flight_ = false;
  AfterClose after_close_in_flight_ = AfterClose::kAwaitPeer;
  bool close_frame_written_ = false;
  bool peer_close_received_ = false;
  bool discard_input_ = false;   // after a protocol error or a close: the byte stream is no longer parsed
  bool reading_paused_ = false;  // the queue is over the read-pause mark: no read is pending
  std::uint8_t read_size_ = 0;
  std::array<std::uint8_t, kReadBufferBytes> read_buffer_;
  ClientFrameParser parser_;
  DataFrameRateLimit data_frame_rate_;
  // TLS chunking cursor into write_buffers_, and the staging buffer (allocated at the first TLS write).
  std::size_t tls_buffer_index_ = 0;
  std::size_t tls_buffer_offset_ = 0;
  std::size_t tls_bytes_written_ = 0;
  std::unique_ptr<std::uint8_t[]> tls_staging_;

  // Liveness. last_frame_ns_ is written on the strand, the deadline under mutex_; the sweep reads both.
  std::atomic<std::int64_t> last_frame_ns_{0};
  std::atomic<std::int64_t> close_deadline_ns_{0};
  std::int64_t next_ping_ns_ = 0;  // the sweep's alone (its strand)
  std::atomic<bool> silence_close_posted_{false};
  std::atomic<bool> deadline_teardown_posted_{false};
  std::atomic<bool> torn_down_{false};
};

extern template class WebSocketSession<PlainStream>;
extern template class WebSocketSession<TlsStream>;

}  // namespace ovalstream::hub
