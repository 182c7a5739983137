#include "resume.hpp"

#include <charconv>

#include "ovalstream/core/control_frame.hpp"

namespace ovalstream::aggregator {
namespace {

bool parse_position(std::string_view text, core::Position& out) {
  if (text.empty() || text.size() > 20) return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::variant<ResumeRequest, std::string> parse_resume_request(std::string_view target) {
  ResumeRequest request;
  const std::size_t question = target.find('?');
  if (question == std::string_view::npos) return request;
  std::string_view query = target.substr(question + 1);
  bool seen_positions = false;
  bool seen_since = false;
  bool seen_epoch = false;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t equals = pair.find('=');
    const std::string_view key = pair.substr(0, equals);
    const std::string_view value =
        equals == std::string_view::npos ? std::string_view() : pair.substr(equals + 1);
    if (key == "positions") {
      if (seen_positions || (value != "1" && value != "true")) return std::string("positions takes 1 (once)");
      seen_positions = true;
      request.positions = true;
    } else if (key == "since") {
      core::Position since = 0;
      if (seen_since || !parse_position(value, since))
        return std::string("since takes one stream position (a whole number)");
      seen_since = true;
      request.since = since;
    } else if (key == "epoch") {
      if (seen_epoch || !core::is_epoch(value))
        return std::string("epoch takes one epoch as sent in a live frame");
      seen_epoch = true;
      request.epoch = std::string(value);
    }
    // Other parameters are not ours (a token, a cache buster): ignored.
  }
  if (seen_since != seen_epoch) return std::string("since and epoch go together");
  if (seen_since) request.positions = true;
  return request;
}

}  // namespace ovalstream::aggregator
