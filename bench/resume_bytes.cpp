// What a reconnecting client receives with resume (docs/protocol.md, "Positions and resume") against a full
// snapshot, on recordings: for every drop point k (the client had every frame up to event k) and each
// disconnect length L, the reconnect comes at time(k) + L (the recording's `_time`); by then the
// aggregator has applied every event stored up to that time. Computed with the aggregator's own core
// pieces (CompetitionState, frames_for, ResumeWindow with the default --resume-window 5m and
// --resume-window-bytes 2 MiB), so the bytes are the payloads the feed would send:
//   resume    the frames after the client's position, then the live frame; when the window does not cover
//             the position, the reset frame, the snapshot and the live frame
//   snapshot  a reconnect without resume (what the original's clients get): the snapshot's frames
// Payload bytes only (each websocket frame adds 2 to 10 bytes of header).
//
// Usage: resume_bytes [--check] [LABEL=FILE ...]; without files, the real recording (exit 77 when absent).
// --check: exit 1 unless, for 1 s disconnects, the mean resume is under a tenth of the mean snapshot (the
// CTest test resume_bytes, label bench).
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include "ovalstream/core/competition_state.hpp"
#include "ovalstream/core/control_frame.hpp"
#include "ovalstream/core/event_type.hpp"
#include "ovalstream/core/record_codec.hpp"
#include "ovalstream/core/resume_window.hpp"
#include "support/recording.hpp"

namespace {

using namespace ovalstream;

struct TimedEvent {
  core::Position position = 0;
  core::Event event;
  std::int64_t stored_ns = 0;
};

std::vector<TimedEvent> read_timed(const std::string& path) {
  std::ifstream in(path);
  if (!in) return {};
  std::vector<TimedEvent> events;
  std::string line;
  while (std::getline(in, line)) {
    const core::RecordLineResult record = core::read_record_line(line);
    if (!record.ok() && record.error() == core::RecordError::kEmptyLine) continue;
    if (!record.ok()) {
      std::fprintf(stderr, "%s: bad record line %zu\n", path.c_str(), events.size() + 1);
      std::exit(2);
    }
    auto parsed = core::parse_event(std::string_view(record->event_bytes));
    if (!parsed.ok()) {
      std::fprintf(stderr, "%s: bad event at line %zu\n", path.c_str(), events.size() + 1);
      std::exit(2);
    }
    events.push_back({events.size() + 1, std::move(parsed).value(), record->time.unix_micros * 1000});
  }
  return events;
}

std::size_t snapshot_bytes(const core::CompetitionState& state) {
  std::size_t bytes = 0;
  for (const auto& item : *state.snapshot()) bytes += item.event.raw().size();
  return bytes;
}

struct Sample {
  std::size_t resume = 0;
  std::size_t snapshot = 0;
  bool exact = false;
};

// One pass per disconnect length: the state and window advance to each reconnect time; the client's
// position is the drop point's.
std::vector<Sample> measure(const std::vector<TimedEvent>& events, std::int64_t disconnect_ns) {
  const std::string competition = events.front().event.header.competition_id;
  std::vector<Sample> samples;
  const std::string epoch = "1";
  for (std::size_t k = 1; k < events.size(); ++k) {
    const std::int64_t reconnect_at = events[k - 1].stored_ns + disconnect_ns;
    if (reconnect_at > events.back().stored_ns) break;
    // Rebuilding per drop point keeps this obviously right; recordings are small.
    core::CompetitionState state = core::make_longtrack_state(competition);
    core::ResumeWindow window(core::ResumeLimits{2u << 20, 5LL * 60 * 1'000'000'000}, 0);
    std::size_t j = 0;
    for (; j < events.size() && (j < k || events[j].stored_ns <= reconnect_at); ++j) {
      const auto& item = events[j];
      const core::ApplyResult result = state.apply(item.event, item.position);
      if (result == core::ApplyResult::kDuplicate || result == core::ApplyResult::kWrongCompetition) continue;
      const bool starts_view = item.event.header.type == core::EventType::kCompetitionActivated &&
                               result == core::ApplyResult::kApplied;
      window.append(item.position, item.stored_ns, core::frames_for(state, item.event, result), starts_view);
    }
    Sample sample;
    sample.snapshot = snapshot_bytes(state);
    const core::Position since = events[k - 1].position;
    const std::size_t live = core::live_marker(state.last_position(), epoch).size();
    if (window.covers(since)) {
      sample.exact = true;
      for (const auto& payload : window.frames_after(since)) sample.resume += payload->size();
      sample.resume += live;
    } else {
      sample.resume = core::reset_marker().size() + sample.snapshot + live;
    }
    samples.push_back(sample);
  }
  return samples;
}

double median(std::vector<std::size_t> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const std::size_t mid = values.size() / 2;
  return values.size() % 2 ? static_cast<double>(values[mid]) : (values[mid - 1] + values[mid]) / 2.0;
}

double mean(const std::vector<std::size_t>& values) {
  if (values.empty()) return 0;
  return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

}  // namespace

int main(int argc, char** argv) {
  bool check = false;
  std::vector<std::pair<std::string, std::string>> inputs;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--check") {
      check = true;
    } else if (arg == "--help" || arg == "-h") {
      std::printf("usage: resume_bytes [--check] [LABEL=FILE ...]\n");
      return 0;
    } else if (const auto equals = arg.find('='); equals != std::string::npos && equals > 0) {
      inputs.emplace_back(arg.substr(0, equals), arg.substr(equals + 1));
    } else {
      std::fprintf(stderr, "resume_bytes: expected LABEL=FILE, got %s\n", arg.c_str());
      return 2;
    }
  }
  if (inputs.empty()) {
    const std::string real = testing::shared_data_dir() + "/" + testing::kRealRecordingName;
    if (!std::ifstream(real)) {
      std::fprintf(stderr, "resume_bytes: skipped: %s\n",
                   testing::missing_recording_message(testing::kRealRecordingName).c_str());
      return 77;
    }
    inputs.emplace_back("real team pursuit", real);
  }
  std::printf(
      "| recording | disconnect | drop points | resume: median / mean bytes | snapshot: median / mean "
      "bytes | mean ratio | exact resumes |\n|---|---|---|---|---|---|---|\n");
  bool met = true;
  for (const auto& [label, path] : inputs) {
    const std::vector<TimedEvent> events = read_timed(path);
    if (events.empty()) {
      std::fprintf(stderr, "resume_bytes: %s: no events (missing or empty file)\n", path.c_str());
      return 2;
    }
    for (const int seconds : {1, 10, 60}) {
      const std::vector<Sample> samples = measure(events, seconds * 1'000'000'000LL);
      std::vector<std::size_t> resume;
      std::vector<std::size_t> snapshot;
      std::size_t exact = 0;
      for (const Sample& sample : samples) {
        resume.push_back(sample.resume);
        snapshot.push_back(sample.snapshot);
        exact += sample.exact;
      }
      const double ratio = mean(snapshot) > 0 ? mean(resume) / mean(snapshot) : 0;
      std::printf("| %s | %d s | %zu | %.0f / %.0f | %.0f / %.0f | %.3f | %zu of %zu |\n", label.c_str(),
                  seconds, samples.size(), median(resume), mean(resume), median(snapshot), mean(snapshot),
                  ratio, exact, samples.size());
      if (seconds == 1 && !(ratio < 0.1)) met = false;
    }
  }
  if (check && !met) {
    std::printf("goal missed: a 1 s disconnect should cost under a tenth of a snapshot\n");
    return 1;
  }
  return 0;
}
