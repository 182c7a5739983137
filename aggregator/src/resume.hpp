#pragma once
// Positions and resume for clients of /v1/competitions/{id} (docs/protocol.md, "Positions and resume"), an
// opt-in per connection: the original's clients keep receiving exactly the published bytes.
//   ?positions=1              control frames: {"ovalstream":"live",...} after the snapshot, then
//                             {"ovalstream":"position",...} after each batch of live frames
//   ?since=P&epoch=E          resume: only the events after P, when this aggregator can serve them exactly
//                             (implies positions=1); otherwise {"ovalstream":"reset"} and the full snapshot
// Positions are JetStream stream sequences and the epoch names the stream (its creation time), so a client
// may resume on any replica that reads the same stream.
// Thread safety: pure functions and immutable values.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "ovalstream/core/competition_state.hpp"
#include "ovalstream/core/control_frame.hpp"

namespace ovalstream::aggregator {

struct ResumeRequest {
  bool positions = false;               // sends the control frames
  std::optional<core::Position> since;  // resume after this position (with `epoch`)
  std::string epoch;
};

// The query of a request target ("/v1/competitions/x?since=12&epoch=34"). An error is the text of a 400:
// a malformed or repeated parameter, `since` without `epoch` or the other way round.
std::variant<ResumeRequest, std::string> parse_resume_request(std::string_view target);

// What positions mean while one consumer reads the stream: the epoch (the stream's identity; a recreated
// stream has another) and the floor, the position up to which the aggregator may not have read every event
// (the history window starts after it).
struct StreamContext {
  std::string epoch;
  core::Position floor = 0;
};
using SharedStreamContext = std::shared_ptr<const StreamContext>;

// The control frames' payloads (core/control_frame.hpp: the format clients read too).
using core::live_marker;
using core::position_marker;
using core::reset_marker;

}  // namespace ovalstream::aggregator
