#pragma once
// Test support: the snapshot property. For every cut point k of `events`: a client that applies
// snapshot-after-k and then every event after k, numbering them in arrival order as a client does, gets the
// same live view as applying every event; the snapshot is byte-identical (shared, not copied) events of the
// first k: the competition activation first, then the rest in stream order.

#include <gtest/gtest.h>

#include <vector>

#include "ovalstream/core/competition_state.hpp"

namespace ovalstream::testing {

// Same live view: the same retained events (bytes, in snapshot order) and the same JSON state view. Positions
// are not compared: a client numbers what it receives in arrival order.
::testing::AssertionResult same_view(const core::CompetitionState& expected,
                                     const core::CompetitionState& actual);

// Checks the property at every cut point; returns the first failure.
::testing::AssertionResult snapshot_property_holds(const std::vector<core::PositionedEvent>& events);

}  // namespace ovalstream::testing
