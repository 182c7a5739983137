#pragma once
// A replay sink that publishes each event on its subject (core::subject_for with a core::HeatGroupAssigner,
// as a Vantage publisher must), optionally under a prefix: "<prefix>.competition....". Publishing happens on
// a PublishWorker's thread, never on the io_context; `done` runs on that thread after the acknowledgement.
// Thread safety: see ReplaySink (one call at a time). The free functions are pure.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ovalstream/core/subject.hpp"
#include "replay/publish_worker.hpp"
#include "replay/replay_sink.hpp"

namespace ovalstream::recorder {

class JetStreamSink : public ReplaySink {
 public:
  // `subject_prefix` "" publishes on the live subjects.
  JetStreamSink(std::shared_ptr<PublishWorker> worker, std::string subject_prefix);

  void send(const core::Event& event, Done done) override;
  void begin_pass() override;

  // The subject of `event` under `prefix` for `heat_group`; nullopt when the ids cannot form one.
  static std::optional<std::string> subject(const core::RoutingHeader& header, int heat_group,
                                            std::string_view prefix);

 private:
  std::shared_ptr<PublishWorker> worker_;
  std::string prefix_;
  core::HeatGroupAssigner groups_;
};

// True when `prefix` is "" or one or more dot-separated subject tokens (no wildcards).
bool is_valid_subject_prefix(std::string_view prefix);
// The subjects a stream for a replay under `prefix` captures: "competition.>" or "<prefix>.competition.>".
std::string replay_stream_subject(std::string_view prefix);
// NATS subject matching: `pattern` may hold '*' (one token) and a final '>' (one or more tokens).
bool subject_matches(std::string_view pattern, std::string_view subject);
// True when any of a stream's `subjects` captures `subject`.
bool stream_captures(const std::vector<std::string>& stream_subjects, std::string_view subject);

}  // namespace ovalstream::recorder
