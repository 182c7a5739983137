#pragma once
// The JSON Schemas (draft-04) of the events' routing fields, proto/events/<TypeName>.schema.json, embedded
// in the library at build time: validation reads no files. An event is validated with RapidJSON's
// SchemaValidator fed by its SAX Reader over the raw bytes, so no DOM of the event is built. Only the routing
// fields are checked (typeName, competitionId, distanceId, heat, raceId, and the member each known type
// carries); every other member passes through. Values nested more than 32 levels deep are not shown to the
// validator (RapidJSON's costs time per level for every value); the routing fields are at the top two.
// Thread safety: an EventSchemas is immutable after construction. validate() is const and makes its own
// validator per call, so one instance may serve any number of threads at once.

#include <memory>
#include <string>
#include <vector>

#include "ovalstream/core/event.hpp"

namespace ovalstream::core {

struct SchemaResult {
  // Empty when the event is valid. Otherwise the failing schema keyword ("required", "type", "minLength",
  // "enum", "dependencies", ...), or "not_json" when the bytes do not parse.
  std::string reason;
  // The JSON pointer of the failing field, e.g. "/heat/round". For "required" it names the missing member,
  // for "dependencies" the member whose dependency failed ("/heat" without a distanceId); "" is the event.
  std::string pointer;

  bool ok() const noexcept { return reason.empty(); }
};

class EventSchemas {
 public:
  // Compiles every embedded schema once. Throws std::runtime_error if one is not a JSON object or names no
  // known type, or if a known type or UnknownEvent has no schema: a broken build fails at startup, not per
  // event.
  EventSchemas();
  ~EventSchemas();
  EventSchemas(EventSchemas&&) noexcept;
  EventSchemas& operator=(EventSchemas&&) noexcept;
  EventSchemas(const EventSchemas&) = delete;
  EventSchemas& operator=(const EventSchemas&) = delete;

  // Validates `event` against the schema of event.header.type (the UnknownEvent schema for kUnknown).
  SchemaResult validate(const Event& event) const;

  // The names of the embedded schemas, sorted: every known type name ("HeatStartedEvent") and "UnknownEvent".
  static std::vector<std::string> type_names();

 private:
  struct Compiled;
  // Indexed by EventType; index 0 (kUnknown) holds the UnknownEvent schema.
  std::vector<std::unique_ptr<const Compiled>> by_type_;
};

}  // namespace ovalstream::core
