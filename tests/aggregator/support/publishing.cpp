#include "aggregator/support/publishing.hpp"

#include <map>
#include <stdexcept>
#include <thread>

#include "aggregator/support/aggregator_process.hpp"
#include "ovalstream/nats/jetstream.hpp"
#include "support/recording.hpp"

namespace ovalstream::aggregator::itest {
namespace {

std::string preview(const std::string& text) {
  constexpr std::size_t kPreview = 160;
  return text.size() > kPreview ? text.substr(0, kPreview) + "... (" + std::to_string(text.size()) + " bytes)"
                                : text;
}

}  // namespace

Publisher::Publisher(std::string url) {
  options_.url = std::move(url);
  reconnect();
}

Publisher::Publisher(nats::ConnectionOptions options) : options_(std::move(options)) {
  reconnect();
}

Publisher::~Publisher() = default;

void Publisher::reconnect() {
  connection_.reset();
  nats::ConnectionOptions options = options_;
  options.name = "ovalstream-itest-publisher";
  options.reconnect_wait = std::chrono::milliseconds(100);
  auto connection = nats::Connection::connect(options);
  if (!connection)
    throw std::runtime_error("publisher cannot connect to " + options_.url + ": " +
                             connection.error().message);
  connection_ = std::move(connection).value();
}

bool Publisher::wait_usable(const std::string& stream, std::chrono::milliseconds timeout) {
  return wait_until(
      [&] {
        if (!connection_->connected()) return false;
        auto info = nats::stream_info(*connection_, stream);
        return info.ok() && info->exists;
      },
      timeout, 50ms);
}

Published Publisher::publish(const core::Event& event) {
  const int group = groups_.observe(event.header);
  const auto subject = core::subject_for(event.header, group);
  if (!subject) throw std::runtime_error("event has no subject: " + preview(std::string(event.raw())));
  auto sequence = nats::publish(*connection_, *subject, event.raw());
  if (!sequence) throw std::runtime_error("publish on " + *subject + " failed: " + sequence.error().message);
  return Published{event, sequence.value(), *subject};
}

Published Publisher::publish_json(const std::string& json) {
  return publish(parse_or_throw(json));
}

std::uint64_t Publisher::publish_raw(const std::string& subject, std::string_view bytes) {
  auto sequence = nats::publish(*connection_, subject, bytes);
  if (!sequence) throw std::runtime_error("publish on " + subject + " failed: " + sequence.error().message);
  return sequence.value();
}

core::Event parse_or_throw(std::string_view json) {
  core::ParseResult parsed = core::parse_event(json);
  if (!parsed.ok()) {
    throw std::runtime_error("test event does not parse (" +
                             std::string(core::parse_error_name(parsed.error())) +
                             "): " + preview(std::string(json)));
  }
  return std::move(parsed).value();
}

std::optional<std::vector<core::Event>> load_recording_events() {
  auto loaded = ovalstream::testing::load_recording(ovalstream::testing::kRealRecordingName);
  if (!loaded) return std::nullopt;
  std::vector<core::Event> events;
  events.reserve(loaded->size());
  for (auto& item : *loaded) events.push_back(std::move(item.event));
  return events;
}

core::CompetitionState state_after(const std::string& competition_id, const std::vector<Published>& published,
                                   std::size_t count) {
  core::CompetitionState state = core::make_longtrack_state(competition_id);
  for (std::size_t i = 0; i < count && i < published.size(); ++i)
    state.apply(published[i].event, published[i].sequence);
  return state;
}

std::vector<std::string> snapshot_bytes(const core::CompetitionState& state) {
  std::vector<std::string> bytes;
  for (const core::PositionedEvent& item : *state.snapshot()) bytes.emplace_back(item.event.raw());
  return bytes;
}

std::vector<std::string> frames_of_a_client_from_the_start(const std::string& competition_id,
                                                           const std::vector<Published>& published) {
  std::vector<std::string> frames;
  core::CompetitionState state = core::make_longtrack_state(competition_id);
  for (const Published& p : published) {
    const core::ApplyResult result = state.apply(p.event, p.sequence);
    if (result == core::ApplyResult::kWrongCompetition || result == core::ApplyResult::kDuplicate) continue;
    if (result == core::ApplyResult::kApplied &&
        p.event.header.type == core::EventType::kCompetitionActivated) {
      for (const std::string& bytes : snapshot_bytes(state)) frames.push_back(bytes);
    } else {
      frames.emplace_back(p.event.raw());
    }
  }
  return frames;
}

std::vector<std::string> bytes_of(const std::vector<Published>& published, std::size_t begin,
                                  std::size_t end) {
  std::vector<std::string> bytes;
  for (std::size_t i = begin; i < end && i < published.size(); ++i)
    bytes.emplace_back(published[i].event.raw());
  return bytes;
}

core::CompetitionState fold_frames(const std::string& competition_id,
                                   const std::vector<std::string>& frames) {
  core::CompetitionState state = core::make_longtrack_state(competition_id);
  core::Position position = 0;
  for (const std::string& frame : frames) {
    core::ParseResult parsed = core::parse_event(std::string_view(frame));
    if (!parsed.ok()) {
      ADD_FAILURE() << "a received frame does not parse (" << core::parse_error_name(parsed.error())
                    << "): " << preview(frame);
      continue;
    }
    state.apply(*parsed, ++position);
  }
  return state;
}

::testing::AssertionResult same_live_view(const core::CompetitionState& expected,
                                          const core::CompetitionState& actual) {
  const std::vector<std::string> a = snapshot_bytes(expected);
  const std::vector<std::string> b = snapshot_bytes(actual);
  if (auto frames = same_frames(a, b); !frames) return frames << " (retained events of the live view)";
  const std::string expected_view = expected.state_view_json();
  const std::string actual_view = actual.state_view_json();
  if (expected_view != actual_view) {
    return ::testing::AssertionFailure()
           << "state view\n  " << preview(actual_view) << "\nexpected\n  " << preview(expected_view);
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult same_frames(const std::vector<std::string>& expected,
                                       const std::vector<std::string>& actual) {
  const std::size_t common = std::min(expected.size(), actual.size());
  for (std::size_t i = 0; i < common; ++i) {
    if (expected[i] != actual[i]) {
      return ::testing::AssertionFailure()
             << "frame " << i << " differs (of " << actual.size() << " received, " << expected.size()
             << " expected):\n  got      " << preview(actual[i]) << "\n  expected " << preview(expected[i]);
    }
  }
  if (expected.size() != actual.size()) {
    auto failure = ::testing::AssertionFailure() << actual.size() << " frames, expected " << expected.size()
                                                 << " (the first " << common << " agree)";
    if (actual.size() > common) failure << "; first extra frame: " << preview(actual[common]);
    if (expected.size() > common) failure << "; first missing frame: " << preview(expected[common]);
    return failure;
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult no_unexpected_duplicates(const std::vector<std::string>& expected,
                                                    const std::vector<std::string>& frames) {
  std::map<std::string_view, int> allowed;
  for (const std::string& frame : expected) ++allowed[frame];
  std::map<std::string_view, int> seen;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const int count = ++seen[frames[i]];
    const auto it = allowed.find(frames[i]);
    if (it == allowed.end()) {
      return ::testing::AssertionFailure() << "frame " << i << " was never published: " << preview(frames[i]);
    }
    if (count > it->second) {
      return ::testing::AssertionFailure()
             << "frame " << i << " is a duplicate (received " << count << " times, published " << it->second
             << "): " << preview(frames[i]);
    }
  }
  return ::testing::AssertionSuccess();
}

std::string sentinel_json(const std::string& competition_id, const std::string& distance_id,
                          const std::string& tag) {
  return R"({"typeName":"IntegrationTestSentinelEvent","competitionId":")" + competition_id +
         R"(","distanceId":")" + distance_id + R"(","tag":")" + tag + R"("})";
}

}  // namespace ovalstream::aggregator::itest
