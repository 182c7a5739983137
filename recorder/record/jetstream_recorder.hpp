#pragma once
// Records from JetStream: a durable pull consumer feeding a RecordingWriter, acknowledging each message only
// after the writer has its line (see recording_writer.hpp for the guarantee).
//
// Order and restarts: at start, and again after any fetch error, the consumer is repositioned at the writer's
// last written sequence + 1 unless the server's consumer already stands exactly there with nothing
// unacknowledged. A pull consumer would otherwise deliver newer messages before redelivering ones a killed
// process had fetched and not acknowledged (after ack_wait), and the writer would skip those as older than
// its position. The same happens when a delivery is lost on the way while the recorder keeps running (a
// reconnect to another server of a cluster, a consumer leader that failed over): the consumer sequences of
// the deliveries then jump, and the recorder repositions as after a fetch error. The writer's position, not
// the server's acknowledgement floor, is the truth; the durable keeps the server-side state (and interest)
// between runs.
//
// A stream deleted and created again (its creation time changed while recording, or its last sequence is
// below the recording's position at start) starts over at sequence 1: the recorder then restarts the
// writer's sequence and records the new stream from its first event after what the files hold. Noticed at
// the next fetch error, or while fetches come back empty by looking the consumer up every
// consumer_check_interval.
//
// Write errors: the same message is retried with a backoff (100 ms doubling up to 5 s), logged at most every
// 10 s, counted by the observer; it is not acknowledged until written, so JetStream keeps it.
//
// Thread safety: run() blocks on its calling thread; stop() may be called from any thread (a signal
// watcher) and makes run() return within about one fetch timeout.

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "ovalstream/nats/connection.hpp"
#include "ovalstream/nats/durable_consumer.hpp"
#include "ovalstream/runtime/log.hpp"
#include "recording/record_observer.hpp"
#include "recording/recording_writer.hpp"

namespace ovalstream::recorder {

struct JetstreamRecorderOptions {
  nats::DurableConsumerOptions consumer;
  // Messages of the filter that pass this are recorded; the others are acknowledged unwritten (empty: all).
  std::function<bool(std::string_view subject, std::string_view data)> accept;
  int batch = 256;                                // fetch bound (messages held in memory at once)
  std::chrono::milliseconds fetch_timeout{1000};  // also the bound on how late stop() is noticed
  std::chrono::milliseconds max_backoff{5000};    // of write and consumer retries
  // While fetches come back empty, how often the consumer is looked up: nats.c answers a fetch from a
  // consumer that is gone (deleted with its stream while no fetch was waiting) with an empty result, as if
  // nothing were published, so only a lookup notices.
  std::chrono::milliseconds consumer_check_interval{2000};
};

// What `record --competition ID` keeps of competition.>: the subjects competition.ID and competition.ID.…,
// and ID's CompetitionActivatedEvents on competition.activations (an activation names its competition in
// the payload only). Without these a recording never activates its competition when replayed.
std::function<bool(std::string_view subject, std::string_view data)> competition_filter(
    std::string competition_id);

class JetstreamRecorder {
 public:
  JetstreamRecorder(const nats::Connection& connection, RecordingWriter& writer,
                    JetstreamRecorderOptions options, runtime::Logger logger,
                    RecordObserver& observer = null_record_observer());

  // Records until stop(). Returns 0 after stop(), 1 when the consumer cannot be created for a reason a retry
  // does not fix (e.g. a durable of that name with another filter).
  int run();
  void stop() noexcept;
  bool stopping() const noexcept { return stop_.load(std::memory_order_relaxed); }

  // Messages written, skipped as duplicates, acknowledged unread (filtered out or rejected).
  std::uint64_t written() const noexcept { return written_.load(); }

 private:
  // Opens (or re-opens) the consumer and puts it at the writer's position; false while it fails.
  bool position_consumer(std::unique_ptr<nats::DurableConsumer>& consumer, bool& fatal);
  // Sleeps up to `duration`, returning early on stop(); false when stopping.
  bool pause(std::chrono::milliseconds duration);

  const nats::Connection& connection_;
  RecordingWriter& writer_;
  JetstreamRecorderOptions options_;
  runtime::Logger logger_;
  RecordObserver& observer_;
  // The creation time of the stream as of the last positioning (0: not looked up yet); another one means the
  // stream was deleted and created again.
  std::int64_t stream_created_ns_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> written_{0};
};

}  // namespace ovalstream::recorder
