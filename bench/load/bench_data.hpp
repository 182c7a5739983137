#pragma once
// The events the load tool publishes: a prefix that puts one competition in the middle of a heat, and live
// events of real size and shape to repeat during the measures. From the real recording (OVALSTREAM_DATA_DIR,
// else the CMake setting) when present, else a small built-in sample. The live events are only the kinds of
// which the snapshot keeps the latest per race or heat (speeds, presented laps, next-lap indexes), so
// repeating them for minutes does not grow the state the join storm and the memory measure see.
// Thread safety: plain values.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ovalstream::bench {

struct SubjectEvent {
  std::string subject;
  std::string json;  // the event's bytes as the recording has them
};

struct BenchData {
  std::string source;  // "recording <file>" or "built-in sample"
  std::string competition_id;
  std::vector<SubjectEvent> prefix;
  std::vector<SubjectEvent> live;
};

// Throws std::runtime_error when an event has no subject (a bug in the data).
BenchData load_bench_data(std::size_t prefix_events);

// `json` with "_bench":<sequence>, inserted after its opening brace; the aggregator passes it through.
std::string with_bench_sequence(const std::string& json, std::uint64_t sequence);

// A hash of an event's bytes (never 0): the publisher records it per sequence, the clients compare.
std::uint64_t content_hash(std::string_view bytes) noexcept;

}  // namespace ovalstream::bench
