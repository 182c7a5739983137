#pragma once
// Validates an event at ingest: the core parser (routing header) and the proto/ JSON Schemas.
// Thread safety: validate() is const and safe from any thread.

#include <memory>
#include <string>
#include <vector>

#include "ovalstream/core/event.hpp"
#include "ovalstream/runtime/result.hpp"

namespace ovalstream::core {
class EventSchemas;
}

namespace ovalstream::aggregator {

struct Rejection {
  std::string reason;  // metric label: a core parse error name, "schema", "subject_mismatch"
  std::string detail;  // for the log line
};

// Every reason validate() may give, for metrics that show each one from the start.
std::vector<std::string> rejection_reasons();

class EventValidator {
 public:
  EventValidator();
  ~EventValidator();
  // The parsed event, or why it was rejected. `subject` must agree with the event's ids.
  runtime::Result<core::Event, Rejection> validate(const std::string& subject,
                                                   const core::EventBytes& bytes) const;

 private:
  std::unique_ptr<core::EventSchemas> schemas_;
};

}  // namespace ovalstream::aggregator
