#include "replay/jetstream_sink.hpp"

#include <algorithm>

namespace ovalstream::recorder {
namespace {

std::vector<std::string_view> tokens_of(std::string_view subject) {
  std::vector<std::string_view> tokens;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = subject.find('.', start);
    if (dot == std::string_view::npos) {
      tokens.push_back(subject.substr(start));
      return tokens;
    }
    tokens.push_back(subject.substr(start, dot - start));
    start = dot + 1;
  }
}

}  // namespace

JetStreamSink::JetStreamSink(std::shared_ptr<PublishWorker> worker, std::string subject_prefix)
    : worker_(std::move(worker)), prefix_(std::move(subject_prefix)) {}

std::optional<std::string> JetStreamSink::subject(const core::RoutingHeader& header, int heat_group,
                                                  std::string_view prefix) {
  auto subject = core::subject_for(header, heat_group);
  if (!subject || prefix.empty()) return subject;
  return std::string(prefix) + "." + *subject;
}

void JetStreamSink::send(const core::Event& event, Done done) {
  const int group = groups_.observe(event.header);
  auto target = subject(event.header, group, prefix_);
  if (!target) {
    done("the event's ids cannot form a NATS subject (" + event.header.type_name + " of competition \"" +
         event.header.competition_id + "\")");
    return;
  }
  worker_->submit(std::move(*target), event.bytes, std::move(done));
}

void JetStreamSink::begin_pass() {
  groups_ = core::HeatGroupAssigner{};
}

bool is_valid_subject_prefix(std::string_view prefix) {
  if (prefix.empty()) return true;
  const auto tokens = tokens_of(prefix);
  return std::all_of(tokens.begin(), tokens.end(),
                     [](std::string_view token) { return core::is_subject_token(token); });
}

std::string replay_stream_subject(std::string_view prefix) {
  std::string subject = prefix.empty() ? std::string() : std::string(prefix) + ".";
  return subject + std::string(core::kSubjectRoot) + ".>";
}

bool subject_matches(std::string_view pattern, std::string_view subject) {
  const auto want = tokens_of(pattern);
  const auto have = tokens_of(subject);
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (want[i] == ">") return i + 1 == want.size() && have.size() > i;
    if (i >= have.size()) return false;
    if (want[i] != "*" && want[i] != have[i]) return false;
  }
  return want.size() == have.size();
}

bool stream_captures(const std::vector<std::string>& stream_subjects, std::string_view subject) {
  return std::any_of(stream_subjects.begin(), stream_subjects.end(),
                     [subject](const std::string& pattern) { return subject_matches(pattern, subject); });
}

}  // namespace ovalstream::recorder
