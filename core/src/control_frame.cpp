#include "ovalstream/core/control_frame.hpp"

#include <rapidjson/document.h>

#include <cctype>

namespace ovalstream::core {

std::string live_marker(Position position, std::string_view epoch) {
  return R"({"ovalstream":"live","position":)" + std::to_string(position) + R"(,"epoch":")" +
         std::string(epoch) + R"("})";
}

std::string position_marker(Position position) {
  return R"({"ovalstream":"position","position":)" + std::to_string(position) + "}";
}

std::string reset_marker() {
  return R"({"ovalstream":"reset"})";
}

bool is_epoch(std::string_view text) noexcept {
  if (text.empty() || text.size() > 64) return false;
  for (const char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_'))
      return false;
  }
  return true;
}

namespace {

// True when the first key of the object in `frame` is "ovalstream" (whitespace allowed): events never
// start so, and checking it first keeps a recorder from parsing every event twice.
bool starts_with_control_key(std::string_view frame) {
  std::size_t i = 0;
  auto skip_space = [&] {
    while (i < frame.size() && std::isspace(static_cast<unsigned char>(frame[i]))) ++i;
  };
  skip_space();
  if (i >= frame.size() || frame[i] != '{') return false;
  ++i;
  skip_space();
  return frame.substr(i).starts_with(R"("ovalstream")");
}

}  // namespace

std::optional<ControlFrame> parse_control_frame(std::string_view frame) {
  if (!starts_with_control_key(frame)) return std::nullopt;
  rapidjson::Document document;
  document.Parse<rapidjson::kParseValidateEncodingFlag>(frame.data(), frame.size());
  if (document.HasParseError() || !document.IsObject() || document.HasMember("typeName")) return std::nullopt;
  const auto kind = document.FindMember("ovalstream");
  if (kind == document.MemberEnd() || !kind->value.IsString()) return std::nullopt;
  const std::string_view name(kind->value.GetString(), kind->value.GetStringLength());
  ControlFrame control;
  if (name == "reset") {
    control.kind = ControlFrame::Kind::kReset;
    return control;
  }
  if (name != "live" && name != "position") return std::nullopt;
  const auto position = document.FindMember("position");
  if (position == document.MemberEnd() || !position->value.IsUint64()) return std::nullopt;
  control.position = position->value.GetUint64();
  if (name == "position") {
    control.kind = ControlFrame::Kind::kPosition;
    return control;
  }
  const auto epoch = document.FindMember("epoch");
  if (epoch == document.MemberEnd() || !epoch->value.IsString() ||
      !is_epoch(std::string_view(epoch->value.GetString(), epoch->value.GetStringLength())))
    return std::nullopt;
  control.kind = ControlFrame::Kind::kLive;
  control.epoch.assign(epoch->value.GetString(), epoch->value.GetStringLength());
  return control;
}

}  // namespace ovalstream::core
