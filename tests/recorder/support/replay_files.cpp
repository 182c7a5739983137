#include "recorder/support/replay_files.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "ovalstream/core/record_codec.hpp"
#include "recording/recording_reader.hpp"
#include "support/event_builder.hpp"

namespace ovalstream::recorder::itest {

std::vector<std::string> generated_events(std::size_t count) {
  using testing::kDistanceA;
  using testing::make_event_json;
  std::vector<std::string> events;
  events.push_back(
      make_event_json("CompetitionActivatedEvent", "", 0, "",
                      R"("competition":{"name":"Test Cup","discipline":"SpeedSkating.LongTrack"})"));
  events.push_back(
      make_event_json("DistanceActivatedEvent", kDistanceA, 0, "",
                      R"("distance":{"name":"500m","id":")" + std::string(kDistanceA) + R"("})"));
  events.push_back(
      make_event_json("HeatActivatedEvent", kDistanceA, 1, "", R"("races":[{"id":"r1"},{"id":"r2"}])"));
  for (std::size_t i = 0; events.size() < count; ++i) {
    events.push_back(make_event_json("RacePassingAddedEvent", kDistanceA, 1, i % 2 == 0 ? "r1" : "r2",
                                     R"("passing":{"time":)" + std::to_string((i + 1) * 1000) + "}"));
  }
  events.resize(count);
  return events;
}

std::string recording_text(const std::vector<std::string>& events,
                           const std::vector<std::chrono::microseconds>& gaps) {
  if (events.size() != gaps.size()) throw std::invalid_argument("one gap per event");
  std::string text;
  std::int64_t at = kGeneratedStartMicros;
  for (std::size_t i = 0; i < events.size(); ++i) {
    at += gaps[i].count();
    text += core::write_record_line(events[i], core::RecordTime{at, 60});
    text += '\n';
  }
  return text;
}

std::string write_text_file(const std::string& dir, const std::string& name, const std::string& text) {
  const std::string path = dir + "/" + name;
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
  return path;
}

std::shared_ptr<const std::vector<core::RecordedEvent>> parse_recording_text(const std::string& text) {
  const std::string dir = std::filesystem::temp_directory_path().string();
  const std::string path = dir + "/ovalstream-replay-" + std::to_string(::getpid()) + ".jsonl";
  write_text_file(dir, std::filesystem::path(path).filename().string(), text);
  auto recording = read_recording(path);
  std::filesystem::remove(path);
  if (!recording.ok() || !recording->ok()) throw std::runtime_error("generated recording does not read back");
  return std::make_shared<const std::vector<core::RecordedEvent>>(std::move(recording->lines));
}

void FakeSink::send(const core::Event& event, Done done) {
  std::string failure;
  {
    std::lock_guard lock(mutex_);
    failure.swap(fail_next_);
    if (failure.empty()) sent_.push_back({std::chrono::steady_clock::now(), std::string(event.raw())});
  }
  if (failure.empty()) {
    done(std::nullopt);
  } else {
    done(failure);
  }
}

void FakeSink::begin_pass() {
  std::lock_guard lock(mutex_);
  ++passes_begun_;
}

std::vector<FakeSink::Sent> FakeSink::sent() const {
  std::lock_guard lock(mutex_);
  return sent_;
}

std::size_t FakeSink::passes_begun() const {
  std::lock_guard lock(mutex_);
  return passes_begun_;
}

void FakeSink::fail_next(std::string message) {
  std::lock_guard lock(mutex_);
  fail_next_ = std::move(message);
}

}  // namespace ovalstream::recorder::itest
