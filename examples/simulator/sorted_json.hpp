#pragma once
// JSON values for the simulator, written by RapidJSON's Writer. Objects have their keys sorted, as the
// original Vantage recorder wrote every event. A value is rendered once, where it is made, and embedded as
// it is wherever it is used (Writer::RawValue): a competitor, a transponder or a passing appears in several
// events.
// Thread safety: values are immutable; the functions are pure.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <rapidjson/rapidjson.h>

namespace ovalstream::simulator {

class Json {
 public:
  Json();  // null
  static Json null();
  static Json boolean(bool value);
  static Json integer(std::int64_t value);
  // The shortest text that reads back as `value` (std::to_chars), integral values without ".0": RapidJSON
  // would write 1.0, and its Grisu2 digits are not always the shortest, so this text is embedded raw.
  static Json real(double value);
  static Json string(std::string_view value);
  static Json array(const std::vector<Json>& items);
  // Keys are written in sorted order (std::sort by key; keys are distinct).
  static Json object(std::vector<std::pair<std::string_view, Json>> members);

  const std::string& text() const { return text_; }
  rapidjson::Type type() const { return type_; }
  std::string release() && { return std::move(text_); }

 private:
  Json(std::string text, rapidjson::Type type) : text_(std::move(text)), type_(type) {}
  std::string text_;
  rapidjson::Type type_;
};

using JsonMember = std::pair<std::string_view, Json>;

}  // namespace ovalstream::simulator
