#include "support/snapshot_property.hpp"

#include <algorithm>

namespace ovalstream::testing {
namespace {

::testing::AssertionResult is_subsequence(const core::Snapshot& snapshot,
                                          const std::vector<core::PositionedEvent>& input, std::size_t cut) {
  std::size_t next = 0;
  std::size_t skip = 0;
  if (!snapshot.empty() && snapshot.front().event.header.type == core::EventType::kCompetitionActivated) {
    // The activation goes first; the rest is in stream order after anything kept from before it.
    const core::PositionedEvent& activation = snapshot.front();
    const auto it =
        std::find_if(input.begin(), input.begin() + static_cast<std::ptrdiff_t>(cut),
                     [&](const core::PositionedEvent& e) { return e.position == activation.position; });
    if (it == input.begin() + static_cast<std::ptrdiff_t>(cut) ||
        it->event.bytes.get() != activation.event.bytes.get()) {
      return ::testing::AssertionFailure()
             << "the snapshot's activation is not one of the first " << cut << " events";
    }
    skip = 1;
  }
  for (const core::PositionedEvent& item : std::vector<core::PositionedEvent>(
           snapshot.begin() + static_cast<std::ptrdiff_t>(skip), snapshot.end())) {
    if (item.event.header.type == core::EventType::kCompetitionActivated) {
      return ::testing::AssertionFailure()
             << "a second activation in the snapshot, at position " << item.position;
    }
    while (next < cut && input[next].position != item.position) ++next;
    if (next == cut) {
      return ::testing::AssertionFailure() << "snapshot item at position " << item.position
                                           << " is not in order among the first " << cut << " events";
    }
    if (item.event.bytes.get() != input[next].event.bytes.get()) {
      return ::testing::AssertionFailure()
             << "snapshot item at position " << item.position << " does not share the input's bytes";
    }
    ++next;
  }
  return ::testing::AssertionSuccess();
}

}  // namespace

::testing::AssertionResult same_view(const core::CompetitionState& expected,
                                     const core::CompetitionState& actual) {
  const auto& a = *expected.snapshot();
  const auto& b = *actual.snapshot();
  if (a.size() != b.size()) {
    return ::testing::AssertionFailure() << "retained " << b.size() << " events, expected " << a.size();
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].event.raw() != b[i].event.raw()) {
      return ::testing::AssertionFailure()
             << "retained event " << i << " (position " << b[i].position
             << ") differs from the expected one (position " << a[i].position << ")";
    }
  }
  const std::string expected_view = expected.state_view_json();
  const std::string actual_view = actual.state_view_json();
  if (expected_view != actual_view) {
    return ::testing::AssertionFailure()
           << "state view\n  " << actual_view << "\nexpected\n  " << expected_view;
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult snapshot_property_holds(const std::vector<core::PositionedEvent>& events) {
  if (events.empty()) return ::testing::AssertionFailure() << "no events";
  const std::string competition_id = events.front().event.header.competition_id;
  core::CompetitionState full = core::make_longtrack_state(competition_id);
  for (const auto& e : events) full.apply(e.event, e.position);

  core::CompetitionState prefix = core::make_longtrack_state(competition_id);
  for (std::size_t cut = 0; cut <= events.size(); ++cut) {
    if (cut > 0) prefix.apply(events[cut - 1].event, events[cut - 1].position);
    const core::SharedSnapshot snapshot = prefix.snapshot();
    if (auto result = is_subsequence(*snapshot, events, cut); !result)
      return result << " (cut " << cut << ")";
    // A client numbers the frames it receives in arrival order.
    core::CompetitionState joined = core::make_longtrack_state(competition_id);
    core::Position arrival = 0;
    for (const auto& e : *snapshot) {
      if (joined.apply(e.event, ++arrival) != core::ApplyResult::kApplied) {
        return ::testing::AssertionFailure() << "snapshot event at position " << e.position
                                             << " changes nothing when replayed (cut " << cut << ")";
      }
    }
    if (auto result = same_view(prefix, joined); !result)
      return result << " (after the snapshot, cut " << cut << ")";
    for (std::size_t i = cut; i < events.size(); ++i) joined.apply(events[i].event, ++arrival);
    if (auto result = same_view(full, joined); !result) return result << " (at the end, cut " << cut << ")";
  }
  return ::testing::AssertionSuccess();
}

}  // namespace ovalstream::testing
