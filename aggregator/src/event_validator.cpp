#include "event_validator.hpp"

#include "ovalstream/core/schema.hpp"
#include "ovalstream/core/subject.hpp"

namespace ovalstream::aggregator {
namespace {

// The subject must name the event's own competition (and distance, heat): a message published on another
// competition's subject would otherwise be routed by the subject and reduced under the wrong id.
bool subject_agrees(const std::string& subject, const core::RoutingHeader& header) {
  const auto info = core::parse_subject(subject);
  if (!info) return false;
  if (info->activations && !info->competition_id)
    return header.type == core::EventType::kCompetitionActivated;
  if (info->competition_id != header.competition_id) return false;
  if (info->distance_id && info->distance_id != header.distance_id) return false;
  if (info->heat && info->heat != header.heat) return false;
  return true;
}

}  // namespace

std::vector<std::string> rejection_reasons() {
  std::vector<std::string> reasons;
  for (int i = 1; i < core::kParseErrorCount; ++i) {
    reasons.emplace_back(core::parse_error_name(static_cast<core::ParseError>(i)));
  }
  reasons.emplace_back("schema");
  reasons.emplace_back("subject_mismatch");
  return reasons;
}

EventValidator::EventValidator() : schemas_(std::make_unique<core::EventSchemas>()) {}
EventValidator::~EventValidator() = default;

runtime::Result<core::Event, Rejection> EventValidator::validate(const std::string& subject,
                                                                 const core::EventBytes& bytes) const {
  core::ParseResult parsed = core::parse_event(bytes);
  if (!parsed.ok()) return Rejection{std::string(core::parse_error_name(parsed.error())), "routing header"};
  const core::SchemaResult schema = schemas_->validate(*parsed);
  if (!schema.ok()) {
    return Rejection{"schema", schema.reason + " at " + (schema.pointer.empty() ? "/" : schema.pointer)};
  }
  if (!subject_agrees(subject, parsed->header)) {
    return Rejection{"subject_mismatch", "the ids do not match the subject"};
  }
  return std::move(parsed).value();
}

}  // namespace ovalstream::aggregator
