#pragma once
// An event: the bytes exactly as published, shared and immutable, plus the routing header parsed from them.
// Parsing reads the bytes once with RapidJSON's SAX reader (no DOM), so a 90 KB HeatCommittedEvent costs
// one scan and no allocation beyond the header's strings.
// Thread safety: Event is a value; its bytes are immutable and may be shared across threads.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ovalstream/core/event_type.hpp"
#include "ovalstream/runtime/result.hpp"

namespace ovalstream::core {

struct HeatKey {
  std::int64_t round = 0;
  std::int64_t number = 0;
  friend bool operator==(const HeatKey&, const HeatKey&) = default;
  friend auto operator<=>(const HeatKey&, const HeatKey&) = default;
};

struct RoutingHeader {
  EventType type = EventType::kUnknown;
  std::string type_name;
  std::string competition_id;
  std::optional<std::string> distance_id;
  std::optional<HeatKey> heat;
  std::optional<std::string> race_id;

  // The most specific level the ids name: heat > distance > competition.
  Level level() const noexcept;
};

using EventBytes = std::shared_ptr<const std::string>;

struct Event {
  EventBytes bytes;  // never null for a parsed event
  RoutingHeader header;

  std::string_view raw() const noexcept { return *bytes; }
};

enum class ParseError : std::uint8_t {
  kNone = 0,              // no error (never the error of a ParseResult; metric labels start after it)
  kTooLarge,              // over ParseOptions::max_bytes
  kNotJson,               // not valid JSON (or trailing garbage)
  kNotObject,             // valid JSON, but not an object
  kMissingTypeName,       // no top-level "typeName"
  kTypeNameNotString,     // "typeName" is not a string
  kBadCompetitionId,      // "competitionId" present but not a non-empty string
  kMissingCompetitionId,  // no "competitionId": the event cannot be routed
  kBadDistanceId,         // "distanceId" not a string or null
  kBadHeat,               // "heat" not null or an object with integer "round" and "number"
  kBadRaceId,             // "raceId" not a string or null
  kMissingDistanceId,     // a heat without a distance, or a known type that needs one
  kMissingHeat,           // a known heat-level type without "heat"
  kMissingRaceId,         // a known race-level type without "raceId"
  kTooDeep,               // nested deeper than ParseOptions::max_depth
};

inline constexpr int kParseErrorCount = static_cast<int>(ParseError::kTooDeep) + 1;

// A short snake_case reason, stable for metric labels: "not_json", "too_large", ...
std::string_view parse_error_name(ParseError error) noexcept;

struct ParseOptions {
  std::size_t max_bytes = 1 << 20;  // 1 MiB
  // Vantage events nest a few levels; a bound keeps every later recursive reader of the bytes (a DOM for
  // the state view, a client's JSON parser) safe from a hostile event.
  int max_depth = 64;
};

// The event, or why the bytes are not one. The error is the bare enum: a rejection costs no allocation.
using ParseResult = runtime::Result<Event, ParseError>;

// Parses the routing header of `bytes`. Never throws for any input (only std::bad_alloc can escape).
ParseResult parse_event(EventBytes bytes, const ParseOptions& options = {});
// Convenience: copies `bytes` into a new shared buffer.
ParseResult parse_event(std::string_view bytes, const ParseOptions& options = {});

}  // namespace ovalstream::core
