#include "simulator/sorted_json.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace ovalstream::simulator {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

template <typename Write>
std::string written(Write write) {
  rapidjson::StringBuffer buffer;
  Writer writer(buffer);
  write(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace

Json::Json() : Json(null()) {}

Json Json::null() {
  return Json(written([](Writer& writer) { writer.Null(); }), rapidjson::kNullType);
}

Json Json::boolean(bool value) {
  return Json(written([value](Writer& writer) { writer.Bool(value); }),
              value ? rapidjson::kTrueType : rapidjson::kFalseType);
}

Json Json::integer(std::int64_t value) {
  return Json(written([value](Writer& writer) { writer.Int64(value); }), rapidjson::kNumberType);
}

Json Json::real(double value) {
  std::array<char, 40> buffer{};
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  return Json(std::string(buffer.data(), result.ptr), rapidjson::kNumberType);
}

Json Json::string(std::string_view value) {
  return Json(written([value](Writer& writer) {
                writer.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
              }),
              rapidjson::kStringType);
}

Json Json::array(const std::vector<Json>& items) {
  return Json(written([&items](Writer& writer) {
                writer.StartArray();
                for (const Json& item : items)
                  writer.RawValue(item.text_.data(), item.text_.size(), item.type_);
                writer.EndArray();
              }),
              rapidjson::kArrayType);
}

Json Json::object(std::vector<JsonMember> members) {
  std::sort(members.begin(), members.end(),
            [](const JsonMember& a, const JsonMember& b) { return a.first < b.first; });
  return Json(written([&members](Writer& writer) {
                writer.StartObject();
                for (const auto& [key, value] : members) {
                  writer.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
                  writer.RawValue(value.text_.data(), value.text_.size(), value.type_);
                }
                writer.EndObject();
              }),
              rapidjson::kObjectType);
}

}  // namespace ovalstream::simulator
