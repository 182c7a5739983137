#include "websocket_session.hpp"

#include <sys/socket.h>
#include <sys/uio.h>
#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <cstring>
#include <string>

#include "clock.hpp"
#include "ovalstream/core/utf8.hpp"

namespace ovalstream::hub {

// queued_memory_bytes counts each gather buffer as kGatherBufferBytes.
static_assert(sizeof(boost::asio::const_buffer) == kGatherBufferBytes);

namespace {

// Buffers kept between back-to-back writes; a burst larger than this gives its memory back once written.
constexpr std::size_t kRetainedFrames = 256;
// Buffers kept once the queue has drained: enough for the usual one or two live frames per write. An idle
// subscriber would otherwise keep the capacity of its snapshot (133 frames in the benchmark: about 9.5 KB
// of frames and gather buffers) for as long as it stays connected.
constexpr std::size_t kIdleRetainedFrames = OutboundQueue::kIdleRetainedFrames;

template <class Vector>
void clear_and_trim(Vector& vector, std::size_t retained = kRetainedFrames) {
  if (vector.capacity() > retained) {
    Vector().swap(vector);
  } else {
    vector.clear();
  }
}

}  // namespace

template <class Stream>
WebSocketSession<Stream>::WebSocketSession(Stream stream, std::shared_ptr<HubState> hub,
                                           WebSocketHandlers handlers)
    : stream_(std::move(stream)),
      hub_(std::move(hub)),
      handlers_(std::move(handlers)),
      id_(hub_->next_connection_id()),
      queue_(hub_->options().client_queue_bytes),
      parser_(hub_->options().max_client_message_bytes),
      data_frame_rate_(hub_->options().client_frame_rate) {}

template <class Stream>
void WebSocketSession<Stream>::start(std::span<const std::uint8_t> early_bytes, Payload upgrade_response) {
  const std::int64_t now = steady_now_ns();
  last_frame_ns_.store(now, std::memory_order_relaxed);
  next_ping_ns_ = now + std::chrono::nanoseconds(hub_->options().ping_interval).count();
  if (!hub_->add(this->shared_from_this())) {
    // The server was destroyed during the handshake: never opened, so neither observed nor on_close'd.
    torn_down_.store(true, std::memory_order_release);
    state_.store(State::kClosed, std::memory_order_release);
    close_transport(stream_);
    return;
  }
  hub_->observer().connection_opened(handlers_.endpoint);

  // The 101 first, written by the writer claimed here, so that nothing on_open sends (the snapshot) can
  // be written inline ahead of it. A frame count of 0: it is no websocket frame.
  {
    Frame response;
    response.payload = std::move(upgrade_response);
    response.frame_count = 0;
    runtime::MutexLock lock(mutex_);
    queue_.push_unbounded(std::move(response));
    queue_.claim_writer();
  }

  // on_open is needed once: release whatever it captured.
  if (auto on_open = std::move(handlers_.on_open)) {
    handlers_.on_open = nullptr;
    try {
      on_open(this->shared_from_this());
    } catch (...) {
      close(close_code::kInternalError, "internal error");
    }
  }

  write_upgrade_and_queued();
  if (torn_down_.load(std::memory_order_relaxed)) return;

  // A client may pipeline frames right behind its upgrade request.
  while (!early_bytes.empty() && !discard_input_ && !torn_down_.load(std::memory_order_relaxed)) {
    const std::size_t count = std::min(early_bytes.size(), read_buffer_.size() - read_size_);
    std::memcpy(read_buffer_.data() + read_size_, early_bytes.data(), count);
    read_size_ = static_cast<std::uint8_t>(read_size_ + count);
    early_bytes = early_bytes.subspan(count);
    if (!parse_read_buffer()) return;
  }
  if (discard_input_) read_size_ = 0;
  read_some();
}

template <class Stream>
void WebSocketSession<Stream>::write_upgrade_and_queued() {
  if constexpr (!kIsTls<Stream>) {
    // Written at once when the socket takes it (the 101 and a snapshot usually fit the empty send buffer),
    // so that the connection is idle from the start and the next send writes inline.
    std::vector<Frame> frames;
    std::size_t written = 0;
    bool start_writer = true;
    {
      runtime::MutexLock lock(mutex_);
      if (state_.load(std::memory_order_relaxed) == State::kOpen && !queue_.has_pong() &&
          2 * queue_.pending_frames() <= kMaxInlineBuffers) {
        // Taken, and written at once under the lock: nothing stays in flight.
        queue_.take(frames);
        queue_.write_finished();
        queue_.release_writer();  // write_inline_locked needs the socket to itself: nothing is in flight
        written = write_inline_locked(frames);
        std::size_t total = 0;
        for (const Frame& frame : frames) total += frame.size();
        start_writer = false;
        if (written < total) {
          queue_.push_unwritten(frames, written);
          start_writer = queue_.claim_writer();
        }
      }
    }
    if (written != 0) {
      report_write(std::span<const Frame>(frames).first(fully_written_frames(frames, written)), written);
    }
    if (start_writer) start_write();
    return;
  }
  start_write();
}

// ---- sending (any thread) ----

template <class Stream>
bool WebSocketSession<Stream>::send(std::span<const Frame> frames) {
  return enqueue(frames, false);
}

template <class Stream>
bool WebSocketSession<Stream>::enqueue(std::span<const Frame> frames, bool is_pong) {
  const OutboundBatch batch(frames);  // summed before the lock
  using Offer = OutboundQueue::Offer;
  Offer offer = Offer::kQueued;
  bool start_writer = false;
  std::size_t written_inline = 0;  // bytes
  {
    runtime::MutexLock lock(mutex_);
    if (state_.load(std::memory_order_relaxed) != State::kOpen) return false;
    if (frames.empty()) return true;
    offer = queue_.offer(batch, is_pong, may_write_inline(frames));
    switch (offer) {
      case Offer::kQueued:
        start_writer = queue_.claim_writer();
        break;
      case Offer::kWriteInline:
        written_inline = write_inline_locked(frames);
        if (written_inline < batch.wire_bytes) {
          queue_.push_unwritten(frames, written_inline);
          start_writer = queue_.claim_writer();
        }
        break;
      case Offer::kOverBound:
        // What is in flight cannot be cut short (the frame stream would break), so the close frame goes
        // right behind it and everything queued is dropped.
        begin_close_locked(close_code::kPolicyViolation, "slow consumer", true, AfterClose::kAwaitPeer,
                           "slow_consumer");
        start_writer = queue_.claim_writer();
        break;
      case Offer::kPongReplaced:
      case Offer::kClosed:  // not while open
        break;
    }
  }
  if (offer == Offer::kPongReplaced) hub_->observer().pong_coalesced();
  if (start_writer) post_write_start();
  if (offer == Offer::kOverBound) hub_->observer().slow_consumer_closed();
  if (written_inline != 0) {
    report_write(frames.first(fully_written_frames(frames, written_inline)), written_inline);
  }
  return offer != Offer::kOverBound && offer != Offer::kClosed;
}

template <class Stream>
std::size_t WebSocketSession<Stream>::queued_bytes() const {
  runtime::MutexLock lock(mutex_);
  return queue_.memory_bytes();
}

template <class Stream>
std::size_t WebSocketSession<Stream>::write_inline_locked(std::span<const Frame> frames) {
  // The socket is open: teardown closes it only after setting kClosed under this mutex, and no async write
  // runs (nobody holds the queue's writer place), so this is the socket's only writer. The strand's pending
  // read is independent of it.
  std::array<iovec, kMaxInlineBuffers> buffers;
  std::size_t count = 0;
  for (const Frame& frame : frames) {
    if (frame.header_size != 0) {
      buffers[count++] = iovec{const_cast<std::uint8_t*>(frame.header.data()), frame.header_size};
    }
    if (frame.payload && !frame.payload->empty()) {
      buffers[count++] = iovec{const_cast<char*>(frame.payload->data()), frame.payload->size()};
    }
  }
  msghdr message{};
  message.msg_iov = buffers.data();
  message.msg_iovlen = count;
  const ssize_t written =
      ::sendmsg(tcp_socket(stream_).native_handle(), &message, MSG_DONTWAIT | MSG_NOSIGNAL);
  return written > 0 ? static_cast<std::size_t>(written) : 0;
}

template <class Stream>
bool WebSocketSession<Stream>::send_block(std::span<const Frame> frames, const Frame& block) {
  if (!block.payload || block.frame_count == 0) return send(frames);  // not a block, or empty
  return send(std::span<const Frame>(&block, 1));
}

template <class Stream>
void WebSocketSession<Stream>::close(std::uint16_t code, std::string_view reason) {
  bool start_writer = false;
  {
    runtime::MutexLock lock(mutex_);
    if (state_.load(std::memory_order_relaxed) != State::kOpen) return;
    begin_close_locked(code, reason, false, AfterClose::kAwaitPeer, "server");
    start_writer = queue_.claim_writer();
  }
  if (start_writer) post_write_start();
}

template <class Stream>
void WebSocketSession<Stream>::begin_close_locked(std::uint16_t code, std::string_view reason,
                                                  bool drop_queue, AfterClose after, const char* why) {
  close_reason_ = why;
  queue_.close(make_close_frame(code, reason), drop_queue);
  after_close_ = after;
  close_deadline_ns_.store(steady_now_ns() + std::chrono::nanoseconds(kCloseTimeout).count(),
                           std::memory_order_relaxed);
  state_.store(State::kClosing, std::memory_order_release);
}

template <class Stream>
void WebSocketSession<Stream>::post_write_start() {
  boost::asio::post(stream_.get_executor(), boost::beast::bind_front_handler(&WebSocketSession::start_write,
                                                                             this->shared_from_this()));
}

// ---- writing (strand) ----

template <class Stream>
void WebSocketSession<Stream>::start_write() {
  {
    std::vector<Frame> released;  // freed after the lock
    runtime::MutexLock lock(mutex_);
    if (state_.load(std::memory_order_relaxed) == State::kClosed || !queue_.has_pending()) {
      queue_.release_writer();
      // Drained: the connection is idle until the next send(), so it keeps only a small capacity (the
      // queue and in_flight_ swap at every write, so both are trimmed).
      released = queue_.shed_idle_capacity();
      clear_and_trim(in_flight_, kIdleRetainedFrames);
      clear_and_trim(write_buffers_, 2 * kIdleRetainedFrames);
      return;
    }
    close_in_flight_ = queue_.take(in_flight_);  // in_flight_ is empty here: the last write cleared it
    after_close_in_flight_ = after_close_;
  }

  write_buffers_.clear();
  write_buffers_.reserve(2 * in_flight_.size());
  for (const Frame& frame : in_flight_) {
    if (frame.header_size != 0) write_buffers_.emplace_back(frame.header.data(), frame.header_size);
    if (frame.payload && !frame.payload->empty()) {
      write_buffers_.emplace_back(frame.payload->data(), frame.payload->size());
    }
  }

  if constexpr (kIsTls<Stream>) {
    tls_buffer_index_ = 0;
    tls_buffer_offset_ = 0;
    tls_bytes_written_ = 0;
    write_tls_chunk();
  } else {
    // One gather write of everything queued (writev, 64 buffers per system call); a span, so that the
    // operation does not copy the buffer vector.
    boost::asio::async_write(
        stream_, std::span<const boost::asio::const_buffer>(write_buffers_),
        boost::beast::bind_front_handler(&WebSocketSession::on_write, this->shared_from_this()));
  }
}

template <class Stream>
void WebSocketSession<Stream>::write_tls_chunk() {
  if (!tls_staging_) tls_staging_ = std::make_unique_for_overwrite<std::uint8_t[]>(kTlsChunkBytes);
  std::size_t filled = 0;
  while (filled < kTlsChunkBytes && tls_buffer_index_ < write_buffers_.size()) {
    const boost::asio::const_buffer& buffer = write_buffers_[tls_buffer_index_];
    const std::size_t count = std::min(buffer.size() - tls_buffer_offset_, kTlsChunkBytes - filled);
    std::memcpy(tls_staging_.get() + filled,
                static_cast<const std::uint8_t*>(buffer.data()) + tls_buffer_offset_, count);
    filled += count;
    tls_buffer_offset_ += count;
    if (tls_buffer_offset_ == buffer.size()) {
      ++tls_buffer_index_;
      tls_buffer_offset_ = 0;
    }
  }
  boost::asio::async_write(
      stream_, boost::asio::buffer(tls_staging_.get(), filled),
      boost::beast::bind_front_handler(&WebSocketSession::on_tls_chunk_written, this->shared_from_this()));
}

template <class Stream>
void WebSocketSession<Stream>::on_tls_chunk_written(boost::system::error_code error, std::size_t bytes) {
  tls_bytes_written_ += bytes;
  if (!error && tls_buffer_index_ < write_buffers_.size()) {
    write_tls_chunk();
    return;
  }
  on_write(error, tls_bytes_written_);
}

template <class Stream>
void WebSocketSession<Stream>::on_write(boost::system::error_code error, std::size_t bytes) {
  if (!error) report_write(in_flight_, bytes);
  clear_and_trim(in_flight_);
  clear_and_trim(write_buffers_);
  {
    runtime::MutexLock lock(mutex_);
    queue_.write_finished();
    if (error || close_in_flight_) queue_.release_writer();  // nothing may follow
  }
  if (error) {
    teardown();
    return;
  }
  if (close_in_flight_) {
    close_in_flight_ = false;
    on_close_frame_written();
    // The peer's close is read to end the handshake, even from a connection whose reading was paused.
    if (reading_paused_ && !torn_down_.load(std::memory_order_relaxed)) {
      reading_paused_ = false;
      read_some();
    }
    return;
  }
  resume_reading_if_drained();
  start_write();
}

template <class Stream>
void WebSocketSession<Stream>::resume_reading_if_drained() {
  if (!reading_paused_ || torn_down_.load(std::memory_order_relaxed)) return;
  {
    runtime::MutexLock lock(mutex_);
    if (queue_.half_full()) return;
  }
  reading_paused_ = false;
  read_some();
}

template <class Stream>
void WebSocketSession<Stream>::report_write(std::span<const Frame> frames, std::size_t bytes) {
  std::uint64_t frame_count = 0;
  for (const Frame& frame : frames) {
    frame_count += frame.frame_count;
    // The 101 response (frame count 0) is not a websocket frame's bytes.
    if (frame.frame_count == 0) bytes -= std::min(bytes, frame.size());
  }
  if (frame_count == 0 && bytes == 0) return;  // the 101 alone
  HubObserver& observer = hub_->observer();
  observer.frames_written(frame_count, bytes);
  if (const std::int64_t published_ns = oldest_published_ns(frames); published_ns != 0) {
    observer.publish_to_write(std::chrono::nanoseconds(system_now_ns() - published_ns));
  }
}

template <class Stream>
void WebSocketSession<Stream>::on_close_frame_written() {
  if (torn_down_.load(std::memory_order_relaxed)) return;
  close_frame_written_ = true;
  if (peer_close_received_ || after_close_in_flight_ == AfterClose::kTeardown) {
    teardown();
    return;
  }
  // Tell the peer we are done; the read loop waits for its close or EOF, the sweep for the deadline.
  shutdown_sending(stream_);
}

// ---- reading (strand) ----

template <class Stream>
void WebSocketSession<Stream>::read_some() {
  stream_.async_read_some(
      boost::asio::buffer(read_buffer_.data() + read_size_, read_buffer_.size() - read_size_),
      boost::beast::bind_front_handler(&WebSocketSession::on_read, this->shared_from_this()));
}

template <class Stream>
void WebSocketSession<Stream>::on_read(boost::system::error_code error, std::size_t bytes) {
  if (error) {
    teardown();  // EOF, reset, or aborted by our own teardown
    return;
  }
  if (discard_input_) {
    read_size_ = 0;
  } else {
    read_size_ = static_cast<std::uint8_t>(read_size_ + bytes);
    if (!parse_read_buffer()) return;
    if (discard_input_) read_size_ = 0;
  }
  // A client that sends faster than it reads (a ping flood whose pongs pile up, or frames it never
  // reads) is not read from while its queue is over half the bound: the kernel's buffers then push back on
  // it, and what it sent costs us nothing. A write that drains the queue resumes reading.
  bool pause = false;
  {
    runtime::MutexLock lock(mutex_);
    pause = state_.load(std::memory_order_relaxed) == State::kOpen && queue_.half_full();
  }
  if (pause) {
    reading_paused_ = true;
    hub_->observer().reads_paused();
    return;
  }
  read_some();
}

template <class Stream>
bool WebSocketSession<Stream>::parse_read_buffer() {
  while (!discard_input_) {
    const ClientFrame frame = parser_.next(std::span<std::uint8_t>(read_buffer_.data(), read_size_));
    switch (frame.status) {
      case ClientFrame::Status::kNeedMore:
        // A full buffer is unreachable here: every header and control frame the parser needs whole fits.
        return read_size_ < read_buffer_.size() || refuse_input(close_code::kMessageTooBig, "frame too big");
      case ClientFrame::Status::kError:
        return refuse_input(frame.close_code, frame.reason,
                            frame.close_code == close_code::kMessageTooBig ? "message_size" : nullptr);
      case ClientFrame::Status::kControl:
        handle_frame(frame);
        if (torn_down_.load(std::memory_order_relaxed)) return false;
        break;
      case ClientFrame::Status::kDataHeader:
        if (!on_data_frame()) return false;
        break;
      case ClientFrame::Status::kSkipped:
        break;
    }
    if (discard_input_) break;
    read_size_ = static_cast<std::uint8_t>(read_size_ - frame.consumed);
    std::memmove(read_buffer_.data(), read_buffer_.data() + frame.consumed, read_size_);
  }
  return true;
}

template <class Stream>
bool WebSocketSession<Stream>::on_data_frame() {
  const std::int64_t now = steady_now_ns();
  if (!data_frame_rate_.admit(now)) {
    return refuse_input(close_code::kPolicyViolation, "too many data frames", "frame_rate");
  }
  // A heartbeat is what an app that cannot ping sends to prove it is there: alive, like a pong.
  last_frame_ns_.store(now, std::memory_order_relaxed);
  hub_->observer().client_frame_discarded();
  return true;
}

template <class Stream>
bool WebSocketSession<Stream>::refuse_input(std::uint16_t code, std::string_view reason, const char* limit) {
  discard_input_ = true;  // the frame boundaries are lost, or no longer matter: never parse this stream again
  if (state_.load(std::memory_order_relaxed) != State::kOpen) {
    teardown();  // already closing, and the peer breaks the protocol on top: stop waiting for it
    return false;
  }
  if (limit != nullptr) hub_->observer().client_frame_limit_closed(limit);
  fail(code, reason, AfterClose::kAwaitPeer, limit != nullptr ? limit : "protocol_error");
  return true;
}

template <class Stream>
void WebSocketSession<Stream>::handle_frame(const ClientFrame& frame) {
  last_frame_ns_.store(steady_now_ns(), std::memory_order_relaxed);
  switch (frame.opcode) {
    case Opcode::kPing:
      if (is_open()) {
        const Frame pong = make_frame(
            Opcode::kPong, std::make_shared<const std::string>(frame.payload.begin(), frame.payload.end()));
        enqueue(std::span<const Frame>(&pong, 1), true);
      }
      break;
    case Opcode::kPong:
      break;  // alive: last_frame_ns_ is all a pong is for
    case Opcode::kClose: {
      peer_close_received_ = true;
      discard_input_ = true;  // nothing may follow a close frame
      if (close_frame_written_) {
        teardown();  // the closing handshake is complete
      } else if (is_open()) {
        const int code = client_close_code(frame.payload);
        const auto reason = frame.payload.size() > 2 ? frame.payload.subspan(2) : frame.payload.subspan(0, 0);
        if (code < 0) {
          fail(close_code::kProtocolError, "bad close frame", AfterClose::kTeardown, "protocol_error");
        } else if (!core::is_valid_utf8(
                       std::string_view(reinterpret_cast<const char*>(reason.data()), reason.size()))) {
          // The reason must be UTF-8 (RFC 6455 section 5.5.1): inconsistent data.
          fail(close_code::kInvalidPayload, "close reason is not UTF-8", AfterClose::kTeardown,
               "protocol_error");
        } else {
          // Echo the peer's code (1000 when it gave none), then close the TCP connection: the server closes
          // first (RFC 6455 section 7.1.1).
          fail(code == 0 ? close_code::kNormal : static_cast<std::uint16_t>(code), {}, AfterClose::kTeardown,
               "client_close");
        }
      }
      // else: our close is queued; once written, peer_close_received_ tears down.
      break;
    }
    default:
      break;  // kControl: ping, pong or close only
  }
}

template <class Stream>
void WebSocketSession<Stream>::fail(std::uint16_t code, std::string_view reason, AfterClose after,
                                    const char* why) {
  bool start_writer = false;
  {
    runtime::MutexLock lock(mutex_);
    if (state_.load(std::memory_order_relaxed) != State::kOpen) return;
    begin_close_locked(code, reason, true, after, why);
    start_writer = queue_.claim_writer();
  }
  if (start_writer) start_write();
}

// ---- liveness and teardown ----

template <class Stream>
void WebSocketSession<Stream>::check_liveness(std::int64_t steady_now_ns) {
  const State state = state_.load(std::memory_order_acquire);
  if (state == State::kClosed) return;
  if (state == State::kClosing) {
    const std::int64_t deadline = close_deadline_ns_.load(std::memory_order_relaxed);
    if (steady_now_ns >= deadline && !deadline_teardown_posted_.exchange(true)) abort();
    return;
  }
  const auto pong_timeout_ns = std::chrono::nanoseconds(hub_->options().pong_timeout).count();
  if (steady_now_ns - last_frame_ns_.load(std::memory_order_relaxed) > pong_timeout_ns) {
    if (!silence_close_posted_.exchange(true)) {
      // The peer is presumed gone: a best-effort close frame, then the socket closes without waiting.
      boost::asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
        self->fail(close_code::kGoingAway, "ping timeout", AfterClose::kTeardown, "ping_timeout");
      });
    }
    return;
  }
  if (steady_now_ns >= next_ping_ns_) {
    next_ping_ns_ = steady_now_ns + std::chrono::nanoseconds(hub_->options().ping_interval).count();
    send(hub_->ping_frame());
  }
}

template <class Stream>
void WebSocketSession<Stream>::abort() {
  boost::asio::post(stream_.get_executor(),
                    [self = this->shared_from_this()] { self->teardown("shutdown"); });
}

template <class Stream>
void WebSocketSession<Stream>::teardown(const char* why) {
  if (torn_down_.exchange(true, std::memory_order_acq_rel)) return;
  {
    runtime::MutexLock lock(mutex_);
    if (close_reason_ == nullptr) close_reason_ = why;
    why = close_reason_;
    state_.store(State::kClosed, std::memory_order_release);
    queue_.discard();
  }
  // A write in flight completes with operation_aborted and releases in_flight_ then.
  close_transport(stream_);
  hub_->remove(*this);
  hub_->observer().connection_closed(handlers_.endpoint);
  hub_->observer().websocket_closed(why);
  if (auto on_close = std::move(handlers_.on_close)) {
    handlers_.on_close = nullptr;
    try {
      on_close(this->shared_from_this());
    } catch (...) {
      // The application's failure is not the connection's: nothing else to do.
    }
  }
}

template class WebSocketSession<PlainStream>;
template class WebSocketSession<TlsStream>;

}  // namespace ovalstream::hub
