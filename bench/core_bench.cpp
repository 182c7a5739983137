// The core's hot path on the real recording (docs/benchmarks.md): parse + apply, parse, apply, snapshot()
// and state_view_json(). Items are events, so items_per_second is events/s.
// Skips (exit 77, CTest's skip code) when the recording is absent.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>
#ifdef __GLIBC__  // defined by the standard headers above
#include <malloc.h>
#endif

#include "ovalstream/core/competition_state.hpp"
#include "ovalstream/core/event.hpp"
#include "support/recording.hpp"

namespace {

using ovalstream::core::CompetitionState;
using ovalstream::core::EventType;
using ovalstream::core::make_longtrack_state;
using ovalstream::core::parse_event;
using ovalstream::core::PositionedEvent;

struct Recording {
  std::vector<PositionedEvent> events;
  std::vector<std::string> bytes;  // each event's bytes, as a message payload would arrive
  std::string competition_id;
};

const Recording* recording = nullptr;

CompetitionState state_after(std::size_t count) {
  CompetitionState state = make_longtrack_state(recording->competition_id);
  for (std::size_t i = 0; i < count; ++i)
    state.apply(recording->events[i].event, recording->events[i].position);
  return state;
}

// Parse + apply over [begin, end) of the recording, into a fresh state per pass. parse_event(string_view)
// copies the payload into the shared buffer the event keeps, as the NATS adapter has to.
void parse_apply(benchmark::State& run, std::size_t begin, std::size_t end) {
  std::int64_t bytes = 0;
  for (std::size_t i = begin; i < end; ++i) bytes += static_cast<std::int64_t>(recording->bytes[i].size());
  for (auto _ : run) {
    CompetitionState state = make_longtrack_state(recording->competition_id);
    for (std::size_t i = begin; i < end; ++i) {
      auto parsed = parse_event(std::string_view(recording->bytes[i]));
      state.apply(*parsed, recording->events[i].position);
    }
    benchmark::DoNotOptimize(state.last_position());
  }
  run.SetItemsProcessed(run.iterations() * static_cast<std::int64_t>(end - begin));
  run.SetBytesProcessed(run.iterations() * bytes);
}

void BM_ParseApply(benchmark::State& run) {
  parse_apply(run, 0, recording->events.size());
}

// Only the live events: after the first HeatActivatedEvent, before the (84 KB) HeatCommittedEvent. The
// steady stream during a race, without the recovery burst's large activations.
void BM_ParseApplyLive(benchmark::State& run) {
  const auto& events = recording->events;
  const auto is = [](EventType type) {
    return [type](const PositionedEvent& e) { return e.event.header.type == type; };
  };
  const auto activation = std::find_if(events.begin(), events.end(), is(EventType::kHeatActivated));
  const auto begin = activation == events.end() ? events.begin() : activation + 1;
  const auto end = std::find_if(begin, events.end(), is(EventType::kHeatCommitted));
  parse_apply(run, static_cast<std::size_t>(begin - events.begin()),
              static_cast<std::size_t>(end - events.begin()));
}

void BM_Parse(benchmark::State& run) {
  std::int64_t bytes = 0;
  for (const std::string& b : recording->bytes) bytes += static_cast<std::int64_t>(b.size());
  for (auto _ : run) {
    for (const std::string& b : recording->bytes) {
      auto parsed = parse_event(std::string_view(b));
      benchmark::DoNotOptimize(parsed);
    }
  }
  run.SetItemsProcessed(run.iterations() * static_cast<std::int64_t>(recording->bytes.size()));
  run.SetBytesProcessed(run.iterations() * bytes);
}

void BM_Apply(benchmark::State& run) {
  for (auto _ : run) {
    CompetitionState state = state_after(recording->events.size());
    benchmark::DoNotOptimize(state.last_position());
  }
  run.SetItemsProcessed(run.iterations() * static_cast<std::int64_t>(recording->events.size()));
}

// snapshot() after the first `count` events, uncached: snapshot() caches until the next applied event, so
// every iteration takes one of a batch of states built with the timer paused.
void BM_Snapshot(benchmark::State& run) {
  const auto count = static_cast<std::size_t>(run.range(0));
  constexpr std::size_t kBatch = 64;
  std::vector<CompetitionState> batch;
  std::size_t next = kBatch;
  std::size_t size = 0;
  for (auto _ : run) {
    if (next == kBatch) {
      run.PauseTiming();
      batch.clear();
      for (std::size_t i = 0; i < kBatch; ++i) batch.push_back(state_after(count));
      next = 0;
      run.ResumeTiming();
    }
    size = batch[next++].snapshot()->size();
    benchmark::DoNotOptimize(size);
  }
  run.counters["snapshot_events"] = static_cast<double>(size);
}

void BM_StateViewJson(benchmark::State& run) {
  const CompetitionState state = state_after(static_cast<std::size_t>(run.range(0)));
  std::size_t size = 0;
  for (auto _ : run) {
    size = state.state_view_json().size();
    benchmark::DoNotOptimize(size);
  }
  run.counters["json_bytes"] = static_cast<double>(size);
}

}  // namespace

int main(int argc, char** argv) {
#ifdef __GLIBC__
  // Keep freed memory mapped, as in a long-running server's warm heap. With glibc's default trimming every
  // BM_Snapshot batch hands its pages back and faults them in again, and a page fault is expensive in a
  // VM: the figures would measure the kernel, not the code.
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
#endif
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  namespace testing = ovalstream::testing;
  auto events = testing::load_recording(testing::kRealRecordingName);
  if (!events || events->empty()) {
    std::printf("SKIP: %s\n", testing::missing_recording_message(testing::kRealRecordingName).c_str());
    return 77;
  }
  Recording loaded;
  loaded.competition_id = events->front().event.header.competition_id;
  for (const PositionedEvent& event : *events) loaded.bytes.emplace_back(event.event.raw());
  loaded.events = std::move(*events);
  recording = &loaded;

  benchmark::RegisterBenchmark("BM_ParseApply", BM_ParseApply);
  benchmark::RegisterBenchmark("BM_ParseApplyLive", BM_ParseApplyLive);
  benchmark::RegisterBenchmark("BM_Parse", BM_Parse);
  benchmark::RegisterBenchmark("BM_Apply", BM_Apply);
  // Cut points: after the recovery burst, a quarter, half, three quarters, the whole recording.
  const auto n = static_cast<std::int64_t>(loaded.events.size());
  const std::vector<std::int64_t> cuts = {std::min<std::int64_t>(6, n), n / 4, n / 2, 3 * n / 4, n};
  for (const std::int64_t cut : cuts) benchmark::RegisterBenchmark("BM_Snapshot", BM_Snapshot)->Arg(cut);
  for (const std::int64_t cut : cuts)
    benchmark::RegisterBenchmark("BM_StateViewJson", BM_StateViewJson)->Arg(cut);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
