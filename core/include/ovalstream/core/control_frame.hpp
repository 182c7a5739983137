#pragma once
// The control frames of the opt-in positions protocol (docs/protocol.md, "Positions and resume"): small JSON
// objects with the key "ovalstream" and no "typeName", so that they never look like a Vantage event. The
// aggregator writes them; clients that record or resume (the recorder's --from-url) read them.
//   {"ovalstream":"live","position":P,"epoch":"E"}   the snapshot (or the resumed events) ends here
//   {"ovalstream":"position","position":P}           after a batch of live events
//   {"ovalstream":"reset"}                            what the client holds is void: a snapshot follows
// Thread safety: pure functions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ovalstream/core/competition_state.hpp"

namespace ovalstream::core {

std::string live_marker(Position position, std::string_view epoch);
std::string position_marker(Position position);
std::string reset_marker();

// An epoch as the aggregator names one: 1 to 64 of A-Z a-z 0-9 - _ (so it goes into a query unescaped).
bool is_epoch(std::string_view text) noexcept;

struct ControlFrame {
  enum class Kind { kLive, kPosition, kReset };
  Kind kind = Kind::kReset;
  Position position = 0;  // kLive and kPosition
  std::string epoch;      // kLive
};

// The control frame in `frame`, or nullopt for anything else (an event, or a malformed control frame:
// a frame from outside is hostile, and an unknown kind is not ours to act on). Cheap for events: only a
// frame whose first key is "ovalstream" is parsed.
std::optional<ControlFrame> parse_control_frame(std::string_view frame);

}  // namespace ovalstream::core
