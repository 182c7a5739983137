// How much a joining client receives from us compared with the original Vantage server, at every cut point
// k of the real recording: bytes of CompetitionState::snapshot() after the first k events over bytes of the
// original server's recovery set at k. The original (NATS Streaming, one channel per subject) resent:
//   - every CompetitionActivatedEvent (the activations channel held the last 24 h),
//   - the latest DistanceActivatedEvent and every distance-level event of that distance after it,
//   - per heat, its latest HeatActivatedEvent and every heat-level event of that heat after it,
// with no compaction. Levels are routing levels (subject.hpp), so HeatCommittedEvent is distance-level.
// Goal (docs/benchmarks.md): mean ratio <= 0.55. Exit 0 when met, 1 when missed, 77 (CTest: skipped) when
// the recording is absent.
#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ovalstream/core/competition_state.hpp"
#include "ovalstream/core/subject.hpp"
#include "support/recording.hpp"

namespace {

using ovalstream::core::EventType;
using ovalstream::core::HeatKey;
using ovalstream::core::Level;
using ovalstream::core::PositionedEvent;
using ovalstream::core::routing_level;

constexpr double kGoalMeanRatio = 0.55;

// The original server's recovery set, kept incrementally as events arrive.
class OriginalRecovery {
 public:
  void add(const PositionedEvent& item) {
    const auto& header = item.event.header;
    const std::size_t size = item.event.raw().size();
    switch (header.type) {
      case EventType::kCompetitionActivated:
        competition_.add(size);
        return;
      case EventType::kDistanceActivated:
        distance_id_ = header.distance_id;
        distance_ = {};
        distance_.add(size);
        return;
      case EventType::kHeatActivated:
        heats_[{*header.distance_id, *header.heat}] = {};
        heats_[{*header.distance_id, *header.heat}].add(size);
        return;
      default:
        break;
    }
    switch (routing_level(header)) {
      case Level::kCompetition:
        return;  // the competition channel's other events were not part of the recovery
      case Level::kDistance:
        if (distance_id_ && header.distance_id == distance_id_) distance_.add(size);
        return;
      case Level::kHeat: {
        const auto it = heats_.find({*header.distance_id, *header.heat});
        if (it != heats_.end()) it->second.add(size);
        return;
      }
    }
  }

  std::size_t bytes() const {
    std::size_t total = competition_.bytes + distance_.bytes;
    for (const auto& [key, heat] : heats_) total += heat.bytes;
    return total;
  }
  std::size_t events() const {
    std::size_t total = competition_.events + distance_.events;
    for (const auto& [key, heat] : heats_) total += heat.events;
    return total;
  }

 private:
  struct Tally {
    std::size_t events = 0;
    std::size_t bytes = 0;
    void add(std::size_t size) {
      ++events;
      bytes += size;
    }
  };
  Tally competition_;
  std::optional<std::string> distance_id_;
  Tally distance_;
  std::map<std::pair<std::string, HeatKey>, Tally> heats_;
};

}  // namespace

int main() {
  namespace testing = ovalstream::testing;
  const auto events = testing::load_recording(testing::kRealRecordingName);
  if (!events || events->empty()) {
    std::printf("SKIP: %s\n", testing::missing_recording_message(testing::kRealRecordingName).c_str());
    return 77;
  }
  const std::size_t n = events->size();
  auto state = ovalstream::core::make_longtrack_state(events->front().event.header.competition_id);
  OriginalRecovery original;
  std::vector<double> ratios;
  // Rows printed: the recovery burst, then every 50th cut point, and the last few.
  const auto printed = [n](std::size_t k) { return k <= 8 || k % 50 == 0 || k + 3 >= n; };
  std::printf("%6s  %-32s  %9s  %9s  %7s  %7s  %6s\n", "k", "event k", "ours B", "orig B", "ours #", "orig #",
              "ratio");
  for (std::size_t k = 1; k <= n; ++k) {
    const PositionedEvent& item = (*events)[k - 1];
    state.apply(item.event, item.position);
    original.add(item);
    const auto snapshot = state.snapshot();
    std::size_t ours = 0;
    for (const PositionedEvent& e : *snapshot) ours += e.event.raw().size();
    const double ratio = static_cast<double>(ours) / static_cast<double>(original.bytes());
    ratios.push_back(ratio);
    if (printed(k)) {
      std::printf("%6zu  %-32s  %9zu  %9zu  %7zu  %7zu  %6.3f\n", k, item.event.header.type_name.c_str(),
                  ours, original.bytes(), snapshot->size(), original.events(), ratio);
    }
  }
  double sum = 0;
  for (const double r : ratios) sum += r;
  const double mean = sum / static_cast<double>(ratios.size());
  const auto [min, max] = std::minmax_element(ratios.begin(), ratios.end());
  std::printf("\nbyte ratio ours/original over %zu cut points: min %.3f  mean %.3f  max %.3f\n", n, *min,
              mean, *max);
  const bool met = mean <= kGoalMeanRatio;
  std::printf("goal: mean <= %.2f: %s\n", kGoalMeanRatio, met ? "met" : "MISSED");
  return met ? 0 : 1;
}
