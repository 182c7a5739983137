#include "ovalstream/core/replay.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace ovalstream::core {

ReplayPacing::ReplayPacing(std::span<const std::int64_t> recorded_unix_micros, std::int64_t start_unix_micros,
                           ReplaySpeed speed)
    : speed_(speed) {
  elapsed_micros_.reserve(recorded_unix_micros.size());
  std::int64_t previous = start_unix_micros;
  std::int64_t elapsed = 0;
  for (const std::int64_t time : recorded_unix_micros) {
    // A gap that would overflow is as good as a clock error: it counts as zero.
    if (time > previous && time - previous > 0) elapsed += time - previous;
    previous = time;
    elapsed_micros_.push_back(elapsed);
  }
  pass_duration_ = elapsed_micros_.empty() ? std::chrono::nanoseconds(0) : scaled(elapsed_micros_.back());
}

std::chrono::nanoseconds ReplayPacing::scaled(std::int64_t micros) const {
  if (speed_.unlimited || micros <= 0) return std::chrono::nanoseconds(0);
  const double nanos = static_cast<double>(micros) * 1000.0 / speed_.factor;
  // Beyond ~292 years the offset saturates rather than wrapping around.
  constexpr double kMax = static_cast<double>(std::numeric_limits<std::int64_t>::max() / 2);
  return std::chrono::nanoseconds(static_cast<std::int64_t>(std::min(std::round(nanos), kMax)));
}

std::chrono::nanoseconds ReplayPacing::due(std::size_t index, std::uint64_t pass) const {
  if (speed_.unlimited || elapsed_micros_.empty()) return std::chrono::nanoseconds(0);
  const std::size_t clamped = std::min(index, elapsed_micros_.size() - 1);
  const auto within = scaled(elapsed_micros_[clamped]);
  const std::int64_t limit = std::numeric_limits<std::int64_t>::max() / 2;
  const std::int64_t per_pass = pass_duration_.count();
  if (per_pass > 0 && pass > static_cast<std::uint64_t>(limit / per_pass))
    return std::chrono::nanoseconds(limit);
  return std::chrono::nanoseconds(per_pass * static_cast<std::int64_t>(pass)) + within;
}

std::int64_t ReplayPacing::recorded_elapsed_micros(std::size_t index) const {
  if (elapsed_micros_.empty()) return 0;
  return elapsed_micros_[std::min(index, elapsed_micros_.size() - 1)];
}

std::size_t first_line_after(std::span<const RecordedEvent> lines, std::int64_t at_unix_micros) {
  const auto it = std::find_if(lines.begin(), lines.end(), [at_unix_micros](const RecordedEvent& line) {
    return line.unix_micros > at_unix_micros;
  });
  return static_cast<std::size_t>(it - lines.begin());
}

SeekResult seek(std::span<const RecordedEvent> lines, std::int64_t at_unix_micros) {
  SeekResult result;
  result.next_index = first_line_after(lines, at_unix_micros);
  std::map<std::string, CompetitionState> states;
  for (std::size_t i = 0; i < result.next_index; ++i) {
    const Event& event = lines[i].event;
    auto it = states.find(event.header.competition_id);
    if (it == states.end()) {
      it = states.emplace(event.header.competition_id, make_longtrack_state(event.header.competition_id))
               .first;
    }
    it->second.apply(event, lines[i].line_number);
  }
  // Line numbers increase through the file, so positions map back to indexes in order.
  std::map<Position, std::size_t> index_of;
  for (std::size_t i = 0; i < result.next_index; ++i) index_of.emplace(lines[i].line_number, i);
  // Each competition's snapshot starts with its activation (a client resets its view at one, and a
  // re-activation keeps lines from before it); the competitions are merged in file order, an activation
  // taking the place of its competition's first kept line. Sort key: 2 * index + 1 for a line, 2 * (the
  // competition's first kept index) for its activation, so the activation goes just before that line.
  std::vector<std::pair<std::size_t, std::size_t>> keyed;  // (key, index)
  for (const auto& [id, state] : states) {
    std::vector<std::size_t> kept_indexes;
    for (const PositionedEvent& kept : *state.snapshot()) {
      const auto found = index_of.find(kept.position);
      if (found != index_of.end()) kept_indexes.push_back(found->second);
    }
    if (kept_indexes.empty()) continue;
    const std::size_t first = *std::min_element(kept_indexes.begin(), kept_indexes.end());
    for (const std::size_t index : kept_indexes) {
      const bool activation = lines[index].event.header.type == EventType::kCompetitionActivated;
      keyed.emplace_back(activation ? 2 * first : 2 * index + 1, index);
    }
  }
  std::sort(keyed.begin(), keyed.end());
  for (const auto& [key, index] : keyed) result.snapshot.push_back(index);
  return result;
}

}  // namespace ovalstream::core
