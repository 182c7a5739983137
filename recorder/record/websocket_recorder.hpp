#pragma once
// Records what an aggregator serves, as the original recorder did with --from-url: connects with cpprestsdk's
// websocket client to ws://host/v1/competitions[/ID] (or wss://) and writes each text frame as a line with
// its receive time (local). A lost connection is re-opened with a bounded backoff (500 ms doubling up to
// max_backoff).
//
// Resume (docs/protocol.md, "Positions and resume"): a competition's URL is opened with ?positions=1, and a
// reconnect with ?since=P&epoch=E, so that it records only the events it missed, never the snapshot again.
// Control frames are read, never written. A position frame ends each batch; a connection lost inside a
// batch has written some of the batch's events, and the resumed connection sends them again: that many
// frames are skipped, so every event is recorded once. When the aggregator cannot resume (it says reset, or
// an aggregator without positions, such as the original, says nothing) the snapshot is recorded again,
// logged: the recording still rebuilds the right state, as the original's did.
//
// Write errors: the connection is closed (so no frames pile up unread in the client), the frame is retried
// with the same backoff until written, then the recorder reconnects and resumes.
//
// Thread safety: run() blocks on its calling thread; stop() may be called from any thread.

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "ovalstream/core/competition_state.hpp"
#include "ovalstream/runtime/log.hpp"
#include "ovalstream/runtime/mutex.hpp"
#include "recording/record_observer.hpp"
#include "recording/recording_writer.hpp"

namespace ovalstream::recorder {

struct WebsocketRecorderOptions {
  std::string url;  // ws://host:port/v1/competitions[/ID]
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{10'000};
};

// True for ws:// or wss:// URLs whose path is /v1/competitions or /v1/competitions/{id}, with no query
// parameter of the positions protocol (the recorder sets those); else `why` says why.
bool valid_competitions_url(const std::string& url, std::string& why);

// The URL the original eventrecorder's `record --host H [--competition ID]` read: wss://H/v1/competitions
// or wss://H/v1/competitions/ID. H is host[:port]; "ws://host[:port]" or "wss://host[:port]" choose the
// scheme. nullopt (and `why`) for anything else: a path, a query, credentials, whitespace, an empty host.
std::optional<std::string> url_for_host(const std::string& host, const std::string& competition_id,
                                        std::string& why);

// Where a recording from a competition's websocket stands: the position and epoch of the latest control
// frame, and how many event frames were written after it.
struct ResumePoint {
  core::Position position = 0;
  std::string epoch;
  std::size_t written_after = 0;
};

// The URL to open: `url` with ?positions=1 for a competition's URL, or ?since=P&epoch=E when `resume` is set;
// `url` itself for /v1/competitions (no positions there).
std::string connection_url(const std::string& url, const std::optional<ResumePoint>& resume);

class WebsocketRecorder {
 public:
  WebsocketRecorder(WebsocketRecorderOptions options, RecordingWriter& writer, runtime::Logger logger,
                    RecordObserver& observer = null_record_observer());
  ~WebsocketRecorder();

  // Records until stop(); returns 0.
  int run();
  void stop() noexcept;

 private:
  struct Client;
  bool stopping() const noexcept { return stop_.load(); }
  bool pause(std::chrono::milliseconds duration);
  // One connection: records frames until it closes or fails, or stop(). True when it connected.
  bool record_connection(std::size_t& frames, bool& write_failed);
  bool write_frame(const std::string& frame, const core::RecordTime& received);

  WebsocketRecorderOptions options_;
  RecordingWriter& writer_;
  runtime::Logger logger_;
  RecordObserver& observer_;
  std::atomic<bool> stop_{false};
  // Set by the latest live or position frame; cleared by a reset. Only run()'s thread touches it.
  std::optional<ResumePoint> resume_;
  runtime::Mutex client_mutex_;
  std::shared_ptr<Client> client_ GUARDED_BY(client_mutex_);  // the current connection, for stop() to close
};

}  // namespace ovalstream::recorder
