#include "ovalstream/core/event.hpp"

#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <array>
#include <cstring>
#include <string>

#include "ovalstream/core/utf8.hpp"

namespace ovalstream::core {
namespace {

enum class Field : std::uint8_t { kOther, kTypeName, kCompetitionId, kDistanceId, kHeat, kRaceId };

Field top_level_field(std::string_view key) noexcept {
  if (key == "typeName") return Field::kTypeName;
  if (key == "competitionId") return Field::kCompetitionId;
  if (key == "distanceId") return Field::kDistanceId;
  if (key == "heat") return Field::kHeat;
  if (key == "raceId") return Field::kRaceId;
  return Field::kOther;
}

// A SAX handler that picks the routing fields out of the top-level object and walks past everything else.
// It never aborts on a field of the wrong type: the scan continues so invalid JSON is still told apart.
class RoutingHandler : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, RoutingHandler> {
 public:
  RoutingHeader header;
  explicit RoutingHandler(int max_depth) : max_depth_(max_depth) {}

  bool root_is_object = false;
  bool too_deep = false;
  bool type_name_seen = false;
  bool competition_id_seen = false;
  ParseError field_error = ParseError::kNone;

  bool Default() { return Scalar(ScalarKind::kOther, 0); }
  bool Null() { return Scalar(ScalarKind::kNull, 0); }
  bool Int(int value) { return Scalar(ScalarKind::kInteger, value); }
  bool Uint(unsigned value) { return Scalar(ScalarKind::kInteger, value); }
  bool Int64(std::int64_t value) { return Scalar(ScalarKind::kInteger, value); }
  bool Uint64(std::uint64_t value) {
    return value > static_cast<std::uint64_t>(INT64_MAX)
               ? Scalar(ScalarKind::kOther, 0)
               : Scalar(ScalarKind::kInteger, static_cast<std::int64_t>(value));
  }

  bool String(const char* text, rapidjson::SizeType length, bool) {
    if (depth_ == 1) {
      const std::string_view value(text, length);
      switch (field_) {
        case Field::kTypeName:
          header.type_name.assign(value);
          type_name_seen = true;
          break;
        case Field::kCompetitionId:
          competition_id_seen = true;
          if (value.empty()) Fail(ParseError::kBadCompetitionId);
          header.competition_id.assign(value);
          break;
        case Field::kDistanceId:
          header.distance_id.emplace(value);
          break;
        case Field::kRaceId:
          header.race_id.emplace(value);
          break;
        case Field::kHeat:
          Fail(ParseError::kBadHeat);
          break;
        case Field::kOther:
          break;
      }
      return true;
    }
    return Scalar(ScalarKind::kOther, 0);
  }

  bool StartObject() {
    if (!Deeper()) return false;
    if (depth_ == 0) {
      root_is_object = true;
    } else if (depth_ == 1 && field_ == Field::kHeat) {
      in_heat_ = true;
      heat_round_.reset();
      heat_number_.reset();
    } else if (depth_ == 1) {
      WrongTypeAtTop();
    }
    ++depth_;
    return true;
  }

  bool Key(const char* text, rapidjson::SizeType length, bool) {
    const std::string_view key(text, length);
    if (depth_ == 1) {
      field_ = top_level_field(key);
    } else if (depth_ == 2 && in_heat_) {
      heat_key_ = key == "round"    ? HeatField::kRound
                  : key == "number" ? HeatField::kNumber
                                    : HeatField::kOther;
    }
    return true;
  }

  bool EndObject(rapidjson::SizeType) {
    --depth_;
    if (depth_ == 1 && in_heat_) {
      in_heat_ = false;
      if (heat_round_ && heat_number_) {
        header.heat = HeatKey{*heat_round_, *heat_number_};
      } else {
        Fail(ParseError::kBadHeat);
      }
    }
    return true;
  }

  bool StartArray() {
    if (!Deeper()) return false;
    if (depth_ == 1) WrongTypeAtTop();
    ++depth_;
    return true;
  }
  bool EndArray(rapidjson::SizeType) {
    --depth_;
    return true;
  }

 private:
  enum class ScalarKind : std::uint8_t { kNull, kInteger, kOther };
  enum class HeatField : std::uint8_t { kOther, kRound, kNumber };

  bool Scalar(ScalarKind kind, std::int64_t value) {
    if (depth_ == 1) {
      if (kind == ScalarKind::kNull) {
        // A null id means "none": Vantage sends distanceId/heat/raceId null on some events.
        if (field_ == Field::kDistanceId) header.distance_id.reset();
        if (field_ == Field::kRaceId) header.race_id.reset();
        if (field_ == Field::kHeat) header.heat.reset();
        if (field_ == Field::kTypeName || field_ == Field::kCompetitionId) WrongTypeAtTop();
      } else {
        WrongTypeAtTop();
      }
    } else if (depth_ == 2 && in_heat_ && heat_key_ != HeatField::kOther) {
      if (kind != ScalarKind::kInteger) {
        Fail(ParseError::kBadHeat);
      } else if (heat_key_ == HeatField::kRound) {
        heat_round_ = value;
      } else {
        heat_number_ = value;
      }
    }
    return true;
  }

  void WrongTypeAtTop() {
    switch (field_) {
      case Field::kTypeName:
        type_name_seen = true;
        Fail(ParseError::kTypeNameNotString);
        break;
      case Field::kCompetitionId:
        competition_id_seen = true;
        Fail(ParseError::kBadCompetitionId);
        break;
      case Field::kDistanceId:
        Fail(ParseError::kBadDistanceId);
        break;
      case Field::kHeat:
        Fail(ParseError::kBadHeat);
        break;
      case Field::kRaceId:
        Fail(ParseError::kBadRaceId);
        break;
      case Field::kOther:
        break;
    }
  }

  // False stops the reader: deeper nesting is refused, not scanned.
  bool Deeper() {
    if (depth_ < max_depth_) return true;
    too_deep = true;
    return false;
  }

  void Fail(ParseError error) {
    if (field_error == ParseError::kNone) field_error = error;
  }

  int max_depth_;
  int depth_ = 0;
  Field field_ = Field::kOther;
  bool in_heat_ = false;
  HeatField heat_key_ = HeatField::kOther;
  std::optional<std::int64_t> heat_round_;
  std::optional<std::int64_t> heat_number_;
};

ParseError check_required(const RoutingHeader& header) {
  const RequiredIds required = required_ids(header.type);
  if (header.heat && !header.distance_id) return ParseError::kMissingDistanceId;
  if (required.distance && !header.distance_id) return ParseError::kMissingDistanceId;
  if (required.heat && !header.heat) return ParseError::kMissingHeat;
  if (required.race && !header.race_id) return ParseError::kMissingRaceId;
  return ParseError::kNone;
}

constexpr std::array<std::string_view, kParseErrorCount> kParseErrorNames = {
    "none",
    "too_large",
    "not_json",
    "not_object",
    "missing_type_name",
    "type_name_not_string",
    "bad_competition_id",
    "missing_competition_id",
    "bad_distance_id",
    "bad_heat",
    "bad_race_id",
    "missing_distance_id",
    "missing_heat",
    "missing_race_id",
    "too_deep",
};

// Runs the reader over `bytes` (no NUL inside); false on a parse error. Iterative parsing throughout: the
// recursive parser would overflow the stack on deeply nested input within the size bound (a crash from one
// hostile message).
bool read_routing_fields(const std::string& bytes, RoutingHandler& handler) {
  rapidjson::Reader reader;
  if (is_valid_utf8(bytes)) {
    // Valid UTF-8 (nearly every event): the reader need not validate it again, and parsing a NUL-terminated
    // copy in place spares it copying every string through its stack. Half the instructions per event (see
    // docs/benchmarks.md); the bytes the event keeps are untouched.
    std::string copy(bytes);
    rapidjson::InsituStringStream stream(copy.data());
    constexpr unsigned kFlags = rapidjson::kParseInsituFlag | rapidjson::kParseIterativeFlag;
    return !reader.Parse<kFlags>(stream, handler).IsError();
  }
  // Invalid UTF-8 is refused by the validating reader, which also tells where the text stops being JSON
  // (so a too-deep message is reported as such, as it was before the fast path). A bounded stream: its UTF-8
  // validation of a multi-byte sequence cut off at the end reads on past a NUL terminator (found by the
  // fuzzer); MemoryStream returns '\0' at its end without reading further.
  rapidjson::MemoryStream stream(bytes.data(), bytes.size());
  constexpr unsigned kFlags = rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag;
  return !reader.Parse<kFlags>(stream, handler).IsError();
}

}  // namespace

Level RoutingHeader::level() const noexcept {
  if (heat) return Level::kHeat;
  if (distance_id) return Level::kDistance;
  return Level::kCompetition;
}

std::string_view parse_error_name(ParseError error) noexcept {
  const auto index = static_cast<std::size_t>(error);
  return index < kParseErrorNames.size() ? kParseErrorNames[index] : std::string_view{"unknown"};
}

ParseResult parse_event(EventBytes bytes, const ParseOptions& options) {
  if (!bytes) return ParseError::kNotJson;
  if (bytes->size() > options.max_bytes) return ParseError::kTooLarge;
  RoutingHandler handler(options.max_depth);
  // The reader takes '\0' as the end of the text, so a NUL byte inside (never valid JSON) is refused first.
  const bool has_nul = std::memchr(bytes->data(), '\0', bytes->size()) != nullptr;
  if (has_nul) return ParseError::kNotJson;
  if (!read_routing_fields(*bytes, handler))
    return handler.too_deep ? ParseError::kTooDeep : ParseError::kNotJson;
  if (!handler.root_is_object) return ParseError::kNotObject;
  if (handler.field_error != ParseError::kNone) return handler.field_error;
  if (!handler.type_name_seen) return ParseError::kMissingTypeName;
  if (!handler.competition_id_seen) return ParseError::kMissingCompetitionId;
  handler.header.type = event_type_from_name(handler.header.type_name);
  if (const ParseError missing = check_required(handler.header); missing != ParseError::kNone) return missing;
  return Event{std::move(bytes), std::move(handler.header)};
}

ParseResult parse_event(std::string_view bytes, const ParseOptions& options) {
  if (bytes.size() > options.max_bytes) return ParseError::kTooLarge;
  return parse_event(std::make_shared<const std::string>(bytes), options);
}

}  // namespace ovalstream::core
