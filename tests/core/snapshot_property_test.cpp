// The property that defines correctness: for every cut point k, applying snapshot-after-k and then every
// event after k gives the same live view as applying every event; the snapshot is an ordered,
// byte-identical subsequence of the input.
#include <gtest/gtest.h>

#include "ovalstream/core/competition_state.hpp"
#include "support/recording.hpp"

namespace ovalstream::core {
namespace {

using testing::load_recording;
using testing::kRealRecordingName;

// Two states are the same live view when their snapshots hold the same events and their JSON views match.
void expect_same_view(const CompetitionState& expected, const CompetitionState& actual, std::size_t cut) {
  const auto& a = *expected.snapshot();
  const auto& b = *actual.snapshot();
  ASSERT_EQ(a.size(), b.size()) << "cut " << cut;
  for (std::size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].position, b[i].position) << "cut " << cut << " item " << i;
    ASSERT_EQ(a[i].event.raw(), b[i].event.raw()) << "cut " << cut << " item " << i;
  }
  ASSERT_EQ(expected.state_view_json(), actual.state_view_json()) << "cut " << cut;
}

void expect_subsequence(const Snapshot& snapshot, const std::vector<PositionedEvent>& input, std::size_t cut) {
  std::size_t next = 0;
  for (const PositionedEvent& item : snapshot) {
    while (next < cut && input[next].position != item.position) ++next;
    ASSERT_LT(next, cut) << "snapshot item at position " << item.position << " is not from the input";
    ASSERT_EQ(item.event.raw(), input[next].event.raw());
    ASSERT_EQ(item.event.bytes.get(), input[next].event.bytes.get()) << "bytes must be shared, not copied";
    ++next;
  }
}

void check_every_cut(const std::vector<PositionedEvent>& events) {
  ASSERT_FALSE(events.empty());
  const std::string competition_id = events.front().event.header.competition_id;
  CompetitionState full = make_longtrack_state(competition_id);
  for (const auto& e : events) full.apply(e.event, e.position);

  CompetitionState prefix = make_longtrack_state(competition_id);
  for (std::size_t cut = 0; cut <= events.size(); ++cut) {
    if (cut > 0) prefix.apply(events[cut - 1].event, events[cut - 1].position);
    const SharedSnapshot snapshot = prefix.snapshot();
    expect_subsequence(*snapshot, events, cut);
    CompetitionState joined = make_longtrack_state(competition_id);
    for (const auto& e : *snapshot) ASSERT_EQ(joined.apply(e.event, e.position), ApplyResult::kApplied);
    expect_same_view(prefix, joined, cut);
    for (std::size_t i = cut; i < events.size(); ++i) joined.apply(events[i].event, events[i].position);
    expect_same_view(full, joined, cut);
  }
}

TEST(SnapshotProperty, RealRecordingEveryCutPoint) {
  const auto events = load_recording(kRealRecordingName);
  if (!events) GTEST_SKIP() << testing::missing_recording_message(kRealRecordingName);
  ASSERT_EQ(events->size(), 555u);
  check_every_cut(*events);
}

}  // namespace
}  // namespace ovalstream::core
