#pragma once
// State shared by every load client of one run and the thread that drives the run: the target, the publish
// times to measure latency against, and counters. The counters are atomics (written on the io thread, read
// by the driving thread); the latency samples are touched only on the io thread (the driver copies them
// out through a posted handler).

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ovalstream::bench {

enum class TargetMode {
  kOurs,        // ws://host:port/v1/competitions/{id} (ours and the Bun peer): a snapshot, then live events,
                // one event per text frame; with ?positions=1 a {"ovalstream":"live"} frame ends the snapshot
  kNats,        // nats-server's websocket listener: CONNECT, SUB <subject>, MSG
  kNatsReplay,  // nats-server's websocket listener: an ephemeral JetStream push consumer per client, all
                // events
};

struct RunShared {
  TargetMode mode = TargetMode::kOurs;
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string path = "/";           // the websocket request target
  std::string subject;              // kNats: the subject to subscribe to
  std::string stream = "VANTAGE";   // kNatsReplay: the stream
  std::string filter_subject;       // kNatsReplay: the consumer's filter
  std::uint32_t first_address = 1;  // source addresses 127.0.0.<first_address + i / per_address>
  std::uint32_t per_address = 10000;

  // Scheduled send times (steady clock, ns) and content hashes of the published bytes, indexed by
  // sequence - sequence_base; 0 = not published (yet). Latency is measured from the scheduled time, so a
  // publisher that falls behind does not hide the wait (no coordinated omission).
  std::uint64_t sequence_base = 0;
  std::size_t sequence_capacity = 0;
  const std::atomic<std::int64_t>* publish_ns = nullptr;     // owned by the Publisher
  const std::atomic<std::uint64_t>* content_hash = nullptr;  // owned by the Publisher
  // kOurs: the snapshot ends at a {"ovalstream":"live"} frame (the path asks for ?positions=1); a client
  // is complete there. Without it a client is complete after snapshot_frames frames.
  bool live_marker = false;
  // Frames whose bench sequence is >= this are live frames of the current measure.
  std::atomic<std::uint64_t> live_from{~std::uint64_t{0}};
  // Frames a snapshot holds (kOurs): a client is "complete" once it has received this many frames.
  std::atomic<std::uint64_t> snapshot_frames{~std::uint64_t{0}};
  std::atomic<bool> record_latency{false};

  std::atomic<std::uint64_t> connected{0};  // handshake done (kNats*: first PONG)
  std::atomic<std::uint64_t> complete{0};   // snapshot complete (kOurs) / replay done (kNatsReplay)
  std::atomic<std::uint64_t> failed{0};     // connect/handshake failure or closed by the server
  std::atomic<std::uint64_t> frames{0};     // every event frame / MSG
  std::atomic<std::uint64_t> live_frames{0};
  std::atomic<std::uint64_t> repeated_frames{0};  // live sequences a client had already seen (or reordered)
  std::atomic<std::uint64_t> sequence_gaps{0};    // after its snapshot a client missed a live sequence
  std::atomic<std::uint64_t> content_mismatches{0};  // a live frame's bytes differ from what was published
  std::atomic<std::int64_t> last_live_ns{0};
  std::atomic<std::int64_t> last_complete_ns{0};
  std::atomic<std::uint64_t> protocol_errors{0};
  std::string first_error;  // io thread only

  std::vector<std::uint32_t> latency_us;  // io thread only

  void note_error(const std::string& error) {
    if (first_error.empty()) first_error = error;
  }
};

}  // namespace ovalstream::bench
