#include "ovalstream/core/subject.hpp"

#include <algorithm>
#include <charconv>

namespace ovalstream::core {
namespace {

std::vector<std::string_view> split_tokens(std::string_view subject) {
  std::vector<std::string_view> tokens;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = subject.find('.', start);
    tokens.push_back(
        subject.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return tokens;
}

template <typename Integer>
std::optional<Integer> parse_integer(std::string_view token) {
  Integer value{};
  const auto [end, error] = std::from_chars(token.data(), token.data() + token.size(), value);
  if (error != std::errc{} || end != token.data() + token.size() || token.empty()) return std::nullopt;
  return value;
}

}  // namespace

bool is_subject_token(std::string_view token) noexcept {
  if (token.empty()) return false;
  return std::none_of(token.begin(), token.end(), [](char c) {
    return c == '.' || c == '*' || c == '>' || c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
           c == '\v' || c == '\0';
  });
}

Level routing_level(const RoutingHeader& header) noexcept {
  if (header.type == EventType::kHeatCommitted) return Level::kDistance;
  return header.level();
}

namespace {

// An id must be one token, and not "activations", which would make its subject read as an activation one.
bool is_id_token(std::string_view id) { return is_subject_token(id) && id != "activations"; }

}  // namespace

std::optional<std::string> subject_for(const RoutingHeader& header, int heat_group) {
  if (heat_group < 0) return std::nullopt;
  std::string subject(kSubjectRoot);
  subject += '.';
  if (header.type == EventType::kCompetitionActivated) return subject + "activations";
  if (!is_id_token(header.competition_id)) return std::nullopt;
  subject += header.competition_id;
  if (header.type == EventType::kDistanceActivated) return subject + ".distances.activations";
  const Level level = routing_level(header);
  if (level == Level::kCompetition) return subject;
  if (!header.distance_id || !is_id_token(*header.distance_id)) return std::nullopt;
  subject += ".distances.";
  subject += *header.distance_id;
  if (level == Level::kDistance) return subject;
  if (header.type == EventType::kHeatActivated)
    return subject + ".heats.activations." + std::to_string(heat_group);
  return subject + ".heats." + std::to_string(header.heat->round) + "." + std::to_string(header.heat->number);
}

std::optional<SubjectInfo> parse_subject(std::string_view subject, std::string_view root) {
  if (!root.empty()) {
    if (subject.size() <= root.size() || subject.substr(0, root.size()) != root ||
        subject[root.size()] != '.') {
      return std::nullopt;
    }
    subject.remove_prefix(root.size() + 1);
  }
  const std::vector<std::string_view> tokens = split_tokens(subject);
  if (std::any_of(tokens.begin(), tokens.end(), [](std::string_view t) { return !is_subject_token(t); })) {
    return std::nullopt;
  }
  SubjectInfo info;
  if (tokens.size() == 1 && tokens[0] == "activations") {
    info.activations = true;
    return info;
  }
  info.competition_id.emplace(tokens[0]);
  if (tokens.size() == 1) return info;
  if (tokens[1] != "distances" || tokens.size() < 3) return std::nullopt;
  info.level = Level::kDistance;
  if (tokens.size() == 3 && tokens[2] == "activations") {
    info.activations = true;
    return info;
  }
  info.distance_id.emplace(tokens[2]);
  if (tokens.size() == 3) return info;
  if (tokens[3] != "heats" || tokens.size() != 6) return std::nullopt;
  info.level = Level::kHeat;
  if (tokens[4] == "activations") {
    const auto group = parse_integer<int>(tokens[5]);
    if (!group || *group < 0) return std::nullopt;
    info.activations = true;
    info.heat_group = group;
    return info;
  }
  const auto round = parse_integer<std::int64_t>(tokens[4]);
  const auto number = parse_integer<std::int64_t>(tokens[5]);
  if (!round || !number) return std::nullopt;
  info.heat = HeatKey{*round, *number};
  return info;
}

int HeatGroupAssigner::observe(const RoutingHeader& header) {
  switch (header.type) {
    case EventType::kCompetitionActivated: {
      auto it = active_by_group_.lower_bound(DistanceKey{header.competition_id, ""});
      while (it != active_by_group_.end() && it->first.first == header.competition_id) {
        it = active_by_group_.erase(it);
      }
      return 0;
    }
    case EventType::kDistanceActivated:
      if (header.distance_id) active_by_group_.erase(DistanceKey{header.competition_id, *header.distance_id});
      return 0;
    case EventType::kHeatActivated:
    case EventType::kHeatDeactivated:
      break;
    default:
      return 0;
  }
  if (!header.distance_id || !header.heat) return 0;
  auto& groups = active_by_group_[DistanceKey{header.competition_id, *header.distance_id}];
  const auto held = std::find(groups.begin(), groups.end(), header.heat);
  if (header.type == EventType::kHeatDeactivated) {
    if (held == groups.end()) return 0;
    const int group = static_cast<int>(held - groups.begin());
    held->reset();
    return group;
  }
  if (held != groups.end()) return static_cast<int>(held - groups.begin());
  auto free_group = std::find(groups.begin(), groups.end(), std::nullopt);
  if (free_group == groups.end()) free_group = groups.insert(groups.end(), std::nullopt);
  *free_group = header.heat;
  return static_cast<int>(free_group - groups.begin());
}

}  // namespace ovalstream::core
