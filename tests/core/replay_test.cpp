// Pacing (when each line is due) and seeking (the state at a time, then the rest) of a replay.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "ovalstream/core/replay.hpp"
#include "support/event_builder.hpp"
#include "support/recording.hpp"
#include "support/skips.hpp"
#include "support/snapshot_property.hpp"

namespace ovalstream::core {
namespace {

using namespace std::chrono_literals;

TEST(ReplayPacing, DividesRecordedGapsBySpeed) {
  const std::vector<std::int64_t> times{1'000'000, 1'200'000, 1'500'000, 1'600'000};
  const ReplayPacing pacing(times, times.front(), ReplaySpeed::times(2));
  EXPECT_EQ(pacing.due(0), 0ns);
  EXPECT_EQ(pacing.due(1), 100ms);
  EXPECT_EQ(pacing.due(2), 250ms);
  EXPECT_EQ(pacing.due(3), 300ms);
  EXPECT_EQ(pacing.pass_duration(), 300ms);
}

TEST(ReplayPacing, FractionalSpeedSlowsDown) {
  const std::vector<std::int64_t> times{0, 100'000, 250'000};
  const ReplayPacing pacing(times, 0, ReplaySpeed::times(0.5));
  EXPECT_EQ(pacing.due(1), 200ms);
  EXPECT_EQ(pacing.due(2), 500ms);
}

TEST(ReplayPacing, UnlimitedNeverWaits) {
  const std::vector<std::int64_t> times{0, 5'000'000, 9'000'000};
  const ReplayPacing pacing(times, 0, ReplaySpeed::max());
  for (std::size_t i = 0; i < times.size(); ++i) EXPECT_EQ(pacing.due(i, 3), 0ns);
  EXPECT_EQ(pacing.pass_duration(), 0ns);
}

TEST(ReplayPacing, BackwardsTimesAreMonotoneAndDoNotStall) {
  // The clock stepped back one hour after the second line: that gap counts as zero, later gaps count.
  const std::int64_t hour = 3'600'000'000;
  const std::vector<std::int64_t> times{hour, hour + 1'000'000, 2'000'000, 3'000'000, 2'500'000, 4'000'000};
  const ReplayPacing pacing(times, times.front(), ReplaySpeed::times(1));
  std::chrono::nanoseconds previous{0};
  for (std::size_t i = 0; i < times.size(); ++i) {
    EXPECT_GE(pacing.due(i), previous) << "line " << i;
    previous = pacing.due(i);
  }
  EXPECT_EQ(pacing.due(1), 1s);
  EXPECT_EQ(pacing.due(2), 1s);  // went back: no wait
  EXPECT_EQ(pacing.due(3), 2s);  // the gap after the step counts
  EXPECT_EQ(pacing.due(4), 2s);
  EXPECT_EQ(pacing.due(5), 3500ms);
}

TEST(ReplayPacing, StartTimeAfterSeekDelaysTheFirstLine) {
  const std::vector<std::int64_t> times{10'000'000, 11'000'000};
  const ReplayPacing pacing(times, 9'000'000, ReplaySpeed::times(4));
  EXPECT_EQ(pacing.due(0), 250ms);
  EXPECT_EQ(pacing.due(1), 500ms);
  // A start after the first line must not wait negative; the gap between the lines still counts.
  const ReplayPacing late(times, 20'000'000, ReplaySpeed::times(1));
  EXPECT_EQ(late.due(0), 0ns);
  EXPECT_EQ(late.due(1), 1s);
}

TEST(ReplayPacing, LoopPassesFollowEachOther) {
  const std::vector<std::int64_t> times{0, 1'000'000, 3'000'000};
  const ReplayPacing pacing(times, 0, ReplaySpeed::times(1));
  EXPECT_EQ(pacing.due(0, 1), 3s);
  EXPECT_EQ(pacing.due(2, 1), 6s);
  EXPECT_EQ(pacing.due(1, 2), 7s);
  EXPECT_EQ(pacing.recorded_elapsed_micros(2), 3'000'000);
}

TEST(ReplayPacing, EmptyPass) {
  const ReplayPacing pacing({}, 0, ReplaySpeed::times(1));
  EXPECT_EQ(pacing.pass_duration(), 0ns);
  EXPECT_EQ(pacing.due(0, 5), 0ns);
}

std::vector<RecordedEvent> recorded(const std::vector<PositionedEvent>& events, std::int64_t step_micros) {
  std::vector<RecordedEvent> lines;
  for (std::size_t i = 0; i < events.size(); ++i) {
    lines.push_back({events[i].event, static_cast<std::int64_t>(i) * step_micros, events[i].position});
  }
  return lines;
}

// What a client builds: the snapshot's events, then every later line, at positions in arrival order.
std::map<std::string, CompetitionState> fold_in_arrival_order(const std::vector<RecordedEvent>& lines,
                                                              const SeekResult& seek_result) {
  std::map<std::string, CompetitionState> states;
  Position position = 0;
  auto apply = [&](const Event& event) {
    auto it = states.find(event.header.competition_id);
    if (it == states.end())
      it = states.emplace(event.header.competition_id, make_longtrack_state(event.header.competition_id))
               .first;
    it->second.apply(event, ++position);
  };
  for (const std::size_t index : seek_result.snapshot) apply(lines[index].event);
  for (std::size_t i = seek_result.next_index; i < lines.size(); ++i) apply(lines[i].event);
  return states;
}

::testing::AssertionResult same_states(const std::map<std::string, CompetitionState>& expected,
                                       const std::map<std::string, CompetitionState>& actual) {
  if (expected.size() != actual.size()) return ::testing::AssertionFailure() << "competition count differs";
  for (const auto& [id, state] : expected) {
    const auto it = actual.find(id);
    if (it == actual.end()) return ::testing::AssertionFailure() << "competition " << id << " missing";
    if (state.state_view_json() != it->second.state_view_json())
      return ::testing::AssertionFailure() << "state view of " << id << " differs";
    const auto a = state.snapshot();
    const auto b = it->second.snapshot();
    if (a->size() != b->size())
      return ::testing::AssertionFailure() << "snapshot size of " << id << " differs";
    for (std::size_t i = 0; i < a->size(); ++i) {
      if ((*a)[i].event.raw() != (*b)[i].event.raw())
        return ::testing::AssertionFailure() << "snapshot event " << i << " of " << id << " differs";
    }
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult seek_property_holds(const std::vector<RecordedEvent>& lines,
                                               std::int64_t step_micros) {
  const SeekResult whole{{}, 0};
  const auto expected = fold_in_arrival_order(lines, whole);
  for (std::size_t cut = 0; cut <= lines.size(); ++cut) {
    // A time between line cut-1 and line cut (times are i * step).
    const std::int64_t at = static_cast<std::int64_t>(cut) * step_micros - step_micros / 2;
    const SeekResult result = seek(lines, at);
    if (result.next_index != cut)
      return ::testing::AssertionFailure() << "cut " << cut << ": next_index " << result.next_index;
    // File order, except that each competition's activation comes before its competition's other lines.
    std::set<std::string> seen;
    std::size_t last_line = 0;
    bool any = false;
    for (const std::size_t index : result.snapshot) {
      const auto& header = lines[index].event.header;
      if (index >= cut)
        return ::testing::AssertionFailure() << "cut " << cut << ": snapshot holds a line after the time";
      const bool activation = header.type == EventType::kCompetitionActivated;
      if (activation && seen.contains(header.competition_id))
        return ::testing::AssertionFailure()
               << "cut " << cut << ": an activation after its competition's lines";
      seen.insert(header.competition_id);
      if (!activation) {
        if (any && index <= last_line)
          return ::testing::AssertionFailure() << "cut " << cut << ": snapshot not in file order";
        last_line = index;
        any = true;
      }
    }
    auto outcome = same_states(expected, fold_in_arrival_order(lines, result));
    if (!outcome) return outcome << " (cut " << cut << ")";
  }
  return ::testing::AssertionSuccess();
}

TEST(ReplaySeek, RealRecordingEveryCutPoint) {
  const auto events = testing::load_recording(testing::kRealRecordingName);
  SKIP_WITHOUT_RECORDING(events);
  const auto lines = recorded(*events, 1000);
  EXPECT_TRUE(seek_property_holds(lines, 1000));
}

TEST(ReplaySeek, SnapshotIsSmallerThanThePrefixAndStartsWithTheActivation) {
  const auto events = testing::load_recording(testing::kRealRecordingName);
  SKIP_WITHOUT_RECORDING(events);
  const auto lines = recorded(*events, 1000);
  const SeekResult result = seek(lines, 400 * 1000 + 500);
  EXPECT_EQ(result.next_index, 401u);
  ASSERT_FALSE(result.snapshot.empty());
  EXPECT_LT(result.snapshot.size(), 401u);
  EXPECT_EQ(lines[result.snapshot.front()].event.header.type, EventType::kCompetitionActivated);
}

TEST(ReplaySeek, TwoCompetitionsKeepTheirCurrentActivationsInFileOrder) {
  using testing::make_event_json;
  const std::string activation_extra =
      R"("competition":{"name":"Cup","discipline":"SpeedSkating.LongTrack"})";
  const std::string distance_extra = R"("distance":{"name":"500m"})";
  testing::EventSequence seq;
  seq.add(make_event_json("CompetitionActivatedEvent", "", 0, "", activation_extra, "comp-a"))    // 0
      .add(make_event_json("CompetitionActivatedEvent", "", 0, "", activation_extra, "comp-b"))   // 1
      .add(make_event_json("DistanceActivatedEvent", "da", 0, "", distance_extra, "comp-a"))      // 2
      .add(make_event_json("DistanceActivatedEvent", "db", 0, "", distance_extra, "comp-b"))      // 3
      .add(make_event_json("CompetitionActivatedEvent", "", 0, "", activation_extra, "comp-a"));  // 4
  const auto lines = recorded(seq.events(), 1000);
  const SeekResult result = seek(lines, 10'000);
  EXPECT_EQ(result.next_index, lines.size());
  // comp-a was activated again: it keeps its distance, after its new activation; comp-b's activation is
  // still current.
  EXPECT_EQ(result.snapshot, (std::vector<std::size_t>{1, 4, 2, 3}));
  EXPECT_TRUE(seek_property_holds(lines, 1000));
}

TEST(ReplaySeek, BeforeTheFirstLineIsEmpty) {
  testing::EventSequence seq;
  seq.competition_activated();
  const auto lines = recorded(seq.events(), 1000);
  const SeekResult result = seek(lines, -1);
  EXPECT_TRUE(result.snapshot.empty());
  EXPECT_EQ(result.next_index, 0u);
}

}  // namespace
}  // namespace ovalstream::core
