#pragma once
// Test support: a positions client's frames split into events and control frames, read with the core's own
// parser (core/control_frame.hpp), so the tests and the clients agree on what a control frame is.

#include <optional>
#include <string>
#include <vector>

#include "ovalstream/core/control_frame.hpp"

namespace ovalstream::aggregator::itest {

// The event frames of `frames`, in order (control frames left out).
inline std::vector<std::string> events_only(const std::vector<std::string>& frames) {
  std::vector<std::string> events;
  for (const auto& frame : frames) {
    if (!core::parse_control_frame(frame)) events.push_back(frame);
  }
  return events;
}

// The latest control frame of `frames` with a position (live or position), if any.
inline std::optional<core::ControlFrame> latest_position(const std::vector<std::string>& frames) {
  for (auto it = frames.rbegin(); it != frames.rend(); ++it) {
    auto control = core::parse_control_frame(*it);
    if (control && control->kind != core::ControlFrame::Kind::kReset) return control;
  }
  return std::nullopt;
}

}  // namespace ovalstream::aggregator::itest
