#pragma once
// `recorder replay` as a service: a recording into JetStream, or (with an address) over websocket to every
// client that connects, paced by the recorded gaps divided by the speed, until the end (JetStream) or
// SIGINT/SIGTERM.
// Thread safety: run() blocks its thread, on which the replay's io_context runs.

#include <iosfwd>
#include <optional>
#include <string>

#include "ovalstream/core/replay.hpp"
#include "ovalstream/nats/settings.hpp"
#include "ovalstream/runtime/address.hpp"
#include "ovalstream/runtime/log.hpp"
#include "recording/recording_reader.hpp"
#include "replay/replay_time.hpp"
#include "replay/replayer.hpp"

namespace ovalstream::recorder {

// Checked by the command (commands/replay_command.cpp) before a service is built.
struct ReplayConfig {
  nats::NatsSettings nats;
  std::string file;
  core::ReplaySpeed speed = core::ReplaySpeed::times(1);
  std::optional<ReplayFrom> from;
  std::string from_text;  // --from as given, for the log
  bool loop = false;
  std::optional<runtime::ListenAddress> address;  // websocket instead of JetStream
  std::string subject_prefix;
  OnError on_error = OnError::kStop;
  bool debug = false;
};

// The recording read (corrupt lines stopped at or skipped, as config.on_error says; reported on `err` and
// the log) and the replay planned from config.from.
struct LoadedReplay {
  std::optional<ReplayPlan> plan;
  int exit_code = 1;        // without a plan: 1, the reason on `err`; or 2, with `usage_error`
  std::string usage_error;  // --from names no time of the recording
};
LoadedReplay load_replay(const ReplayConfig& config, const runtime::Logger& logger, std::ostream& err);

class ReplayService {
 public:
  // Failures are reported on `err` ("recorder replay: ...") as well as the log.
  ReplayService(ReplayConfig config, ReplayPlan plan, runtime::Logger logger, std::ostream& err);
  // The exit code: 0 at the end or after a signal, 1 when the replay failed or cannot start.
  int run();

 private:
  int into_jetstream();
  int over_websocket();

  ReplayConfig config_;
  ReplayPlan plan_;
  runtime::Logger logger_;
  std::ostream& err_;
};

}  // namespace ovalstream::recorder
