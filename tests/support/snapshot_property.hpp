#pragma once
// Test support: the snapshot property. For every cut point k of `events`: applying snapshot-after-k and
// then every event after k gives the same live view as applying every event, and the snapshot is an
// ordered, byte-identical (shared, not copied) subsequence of the first k events.

#include <gtest/gtest.h>

#include <vector>

#include "ovalstream/core/competition_state.hpp"

namespace ovalstream::testing {

// Same live view: the same retained events (positions and bytes) and the same JSON state view.
::testing::AssertionResult same_view(const core::CompetitionState& expected,
                                     const core::CompetitionState& actual);

// Checks the property at every cut point; returns the first failure.
::testing::AssertionResult snapshot_property_holds(const std::vector<core::PositionedEvent>& events);

}  // namespace ovalstream::testing
