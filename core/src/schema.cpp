#include "ovalstream/core/schema.hpp"

#include <rapidjson/document.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>
#include <rapidjson/schema.h>
#include <rapidjson/stringbuffer.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ovalstream::core {
namespace generated {
// Defined in the event_schemas.cpp that core/CMakeLists.txt generates: {type name, schema text}, by name.
std::span<const std::pair<std::string_view, std::string_view>> embedded_event_schemas() noexcept;
}  // namespace generated

namespace {

constexpr std::string_view kUnknownEventSchemaName = "UnknownEvent";
// UTF-8 is checked as parse_event() does. Iterative: the bytes are untrusted and nesting depth is bounded
// only by their size, so the reader must not recurse once per level (the validator keeps its own stacks).
constexpr unsigned kReaderFlags = rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag;

using DocumentPointer = rapidjson::SchemaValidator::PointerType;

// RapidJSON's validator visits every open level for each value, so its cost grows with depth times size:
// quadratic on a deeply nested event. The schemas constrain only the top levels (the routing fields), so
// values deeper than this are not passed on; a container at the next level is passed on as empty.
constexpr int kMaxValidatedDepth = 32;

// Forwards the SAX events of values nested at most kMaxValidatedDepth containers deep to the validator.
class DepthBoundedValidator {
 public:
  explicit DepthBoundedValidator(rapidjson::SchemaValidator& validator) : validator_(validator) {}

  bool Null() { return !Forwarded() || validator_.Null(); }
  bool Bool(bool value) { return !Forwarded() || validator_.Bool(value); }
  bool Int(int value) { return !Forwarded() || validator_.Int(value); }
  bool Uint(unsigned value) { return !Forwarded() || validator_.Uint(value); }
  bool Int64(std::int64_t value) { return !Forwarded() || validator_.Int64(value); }
  bool Uint64(std::uint64_t value) { return !Forwarded() || validator_.Uint64(value); }
  bool Double(double value) { return !Forwarded() || validator_.Double(value); }
  bool RawNumber(const char* text, rapidjson::SizeType length, bool copy) {
    return !Forwarded() || validator_.RawNumber(text, length, copy);
  }
  bool String(const char* text, rapidjson::SizeType length, bool copy) {
    return !Forwarded() || validator_.String(text, length, copy);
  }
  bool Key(const char* text, rapidjson::SizeType length, bool copy) {
    return !Forwarded() || validator_.Key(text, length, copy);
  }
  bool StartObject() {
    const bool forwarded = Forwarded();
    ++depth_;
    return !forwarded || validator_.StartObject();
  }
  bool EndObject(rapidjson::SizeType member_count) {
    --depth_;
    return !Forwarded() || validator_.EndObject(depth_ == kMaxValidatedDepth ? 0 : member_count);
  }
  bool StartArray() {
    const bool forwarded = Forwarded();
    ++depth_;
    return !forwarded || validator_.StartArray();
  }
  bool EndArray(rapidjson::SizeType element_count) {
    --depth_;
    return !Forwarded() || validator_.EndArray(depth_ == kMaxValidatedDepth ? 0 : element_count);
  }

 private:
  // Whether the value (or key) that starts now is inside a container the validator sees with its contents.
  bool Forwarded() const noexcept { return depth_ <= kMaxValidatedDepth; }

  rapidjson::SchemaValidator& validator_;
  int depth_ = 0;  // open containers
};

// Collects the member names of the object at a JSON pointer in one SAX pass, stopping when that object ends.
// Used only after a "required" or "dependencies" failure, whose document pointer names the object rather than
// the member: this turns it into the member's pointer without building a DOM.
class MemberNameCollector : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, MemberNameCollector> {
 public:
  explicit MemberNameCollector(const DocumentPointer& target) {
    for (std::size_t i = 0; i < target.GetTokenCount(); ++i) {
      const auto& token = target.GetTokens()[i];
      target_.emplace_back(token.name, token.length);
    }
  }

  std::vector<std::string> names;

  bool Default() {
    if (skipped_depth_ == 0) NextValueToken();
    return true;
  }
  bool StartObject() { return StartContainer(/*is_array=*/false); }
  bool StartArray() { return StartContainer(/*is_array=*/true); }
  bool Key(const char* text, rapidjson::SizeType length, bool) {
    if (skipped_depth_ > 0) return true;
    if (collecting_ && frames_.size() == target_.size() + 1) names.emplace_back(text, length);
    frames_.back().key.assign(text, length);
    return true;
  }
  bool EndObject(rapidjson::SizeType) { return EndContainer(); }
  bool EndArray(rapidjson::SizeType) { return EndContainer(); }

 private:
  struct Frame {
    bool is_array = false;
    std::size_t next_index = 0;
    std::string key;
  };

  // The pointer token of the value that starts now (its key, or its index in the enclosing array).
  std::string NextValueToken() {
    if (frames_.empty()) return {};
    Frame& parent = frames_.back();
    return parent.is_array ? std::to_string(parent.next_index++) : parent.key;
  }

  bool StartContainer(bool is_array) {
    // Below the target's level only the depth matters: nothing is kept per level there.
    if (frames_.size() > target_.size()) {
      ++skipped_depth_;
      return true;
    }
    if (!frames_.empty()) path_.push_back(NextValueToken());
    frames_.push_back(Frame{is_array, 0, {}});
    if (!is_array && path_ == target_) collecting_ = true;
    return true;
  }

  bool EndContainer() {
    if (skipped_depth_ > 0) {
      --skipped_depth_;
      return true;
    }
    // The target object is complete: stop reading (Parse then reports termination, which is expected).
    if (collecting_ && frames_.size() == target_.size() + 1) return false;
    frames_.pop_back();
    if (!path_.empty()) path_.pop_back();
    return true;
  }

  std::vector<std::string> target_;
  std::vector<std::string> path_;  // tokens of the innermost open container
  std::vector<Frame> frames_;
  std::size_t skipped_depth_ = 0;  // open containers below the target's level
  bool collecting_ = false;
};

std::string stringify(const DocumentPointer& pointer) {
  rapidjson::StringBuffer buffer;
  pointer.Stringify(buffer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

bool contains(const std::vector<std::string>& names, const rapidjson::Value& name) {
  const std::string_view wanted(name.GetString(), name.GetStringLength());
  return std::find(names.begin(), names.end(), wanted) != names.end();
}

// The pointer of the member a failed "required" (an array of names: the first one absent) or "dependencies"
// (an object keyed by member: the first one present, as a dependency applies only then) is about, in the
// object at `object_pointer`. A second pass over the bytes, on the failure path only, lists the members.
DocumentPointer member_pointer(const DocumentPointer& object_pointer, const rapidjson::Value& keyword_value,
                               std::string_view bytes) {
  MemberNameCollector collector(object_pointer);
  rapidjson::MemoryStream stream(bytes.data(), bytes.size());
  rapidjson::Reader().Parse<kReaderFlags>(stream, collector);
  if (keyword_value.IsArray()) {
    for (const auto& required : keyword_value.GetArray()) {
      if (required.IsString() && !contains(collector.names, required)) {
        return object_pointer.Append(required.GetString(), required.GetStringLength());
      }
    }
  } else if (keyword_value.IsObject()) {
    for (const auto& dependency : keyword_value.GetObject()) {
      if (contains(collector.names, dependency.name)) {
        return object_pointer.Append(dependency.name.GetString(), dependency.name.GetStringLength());
      }
    }
  }
  return object_pointer;
}

}  // namespace

struct EventSchemas::Compiled {
  explicit Compiled(rapidjson::Document parsed) : source(std::move(parsed)), schema(source) {}

  rapidjson::Document source;  // kept: the member names of "required" and "dependencies" are read from it
  rapidjson::SchemaDocument schema;
};

EventSchemas::EventSchemas() : by_type_(kEventTypeCount) {
  for (const auto& [name, text] : generated::embedded_event_schemas()) {
    rapidjson::Document parsed;
    parsed.Parse(text.data(), text.size());
    if (parsed.HasParseError() || !parsed.IsObject()) {
      throw std::runtime_error("event schema " + std::string(name) + " is not a JSON object");
    }
    const EventType type = event_type_from_name(name);
    // A schema the core cannot select would silently never apply.
    if (type == EventType::kUnknown && name != kUnknownEventSchemaName) {
      throw std::runtime_error("event schema " + std::string(name) + " names no known event type");
    }
    by_type_[static_cast<std::size_t>(type)] = std::make_unique<const Compiled>(std::move(parsed));
  }
  for (int i = 0; i < kEventTypeCount; ++i) {
    if (!by_type_[i]) {
      const auto type = static_cast<EventType>(i);
      const std::string_view name =
          type == EventType::kUnknown ? kUnknownEventSchemaName : event_type_name(type);
      throw std::runtime_error("no embedded event schema for " + std::string(name));
    }
  }
}

EventSchemas::~EventSchemas() = default;
EventSchemas::EventSchemas(EventSchemas&&) noexcept = default;
EventSchemas& EventSchemas::operator=(EventSchemas&&) noexcept = default;

SchemaResult EventSchemas::validate(const Event& event) const {
  if (!event.bytes) return SchemaResult{"not_json", ""};
  const auto index = static_cast<std::size_t>(event.header.type);
  const Compiled& compiled = *by_type_[index < by_type_.size() ? index : 0];

  // A validator per call: it holds the parse state, the schema document is only read.
  rapidjson::SchemaValidator validator(compiled.schema);
  DepthBoundedValidator bounded(validator);
  rapidjson::Reader reader;
  rapidjson::MemoryStream bytes(event.bytes->data(), event.bytes->size());
  const bool parsed = !reader.Parse<kReaderFlags>(bytes, bounded).IsError();
  if (validator.IsValid()) return parsed ? SchemaResult{} : SchemaResult{"not_json", ""};

  SchemaResult result;
  result.reason = validator.GetInvalidSchemaKeyword();
  const DocumentPointer pointer = validator.GetInvalidDocumentPointer();
  // For these two keywords RapidJSON points at the object; name the member instead.
  const rapidjson::Value* failing_schema = validator.GetInvalidSchemaPointer().Get(compiled.source);
  if ((result.reason == "required" || result.reason == "dependencies") && failing_schema &&
      failing_schema->IsObject()) {
    const auto keyword = failing_schema->FindMember(result.reason.c_str());
    if (keyword != failing_schema->MemberEnd()) {
      result.pointer = stringify(member_pointer(pointer, keyword->value, *event.bytes));
      return result;
    }
  }
  result.pointer = stringify(pointer);
  return result;
}

std::vector<std::string> EventSchemas::type_names() {
  std::vector<std::string> names;
  for (const auto& [name, text] : generated::embedded_event_schemas()) names.emplace_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace ovalstream::core
