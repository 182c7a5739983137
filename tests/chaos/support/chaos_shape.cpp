#include "chaos/support/chaos_shape.hpp"

#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <set>
#include <thread>

#include "aggregator/support/control_frames.hpp"
#include "ovalstream/core/control_frame.hpp"
#include "support/child_process.hpp"
#include "support/recording.hpp"

namespace ovalstream::chaos {

using aggregator::itest::AggregatorOptions;
using aggregator::itest::AggregatorProcess;
using aggregator::itest::fold_frames;
using aggregator::itest::http_get;
using aggregator::itest::same_live_view;
using aggregator::itest::snapshot_bytes;
using aggregator::itest::wait_until;
using Clock = std::chrono::steady_clock;

namespace {

std::string preview(const std::string& text) {
  return text.size() > 120 ? text.substr(0, 120) + "... (" + std::to_string(text.size()) + " bytes)" : text;
}

core::CompetitionState state_at(const std::string& competition_id, const std::vector<Published>& generation,
                                core::Position position) {
  core::CompetitionState state = core::make_longtrack_state(competition_id);
  for (const Published& p : generation) {
    if (p.sequence > position) break;
    state.apply(p.event, p.sequence);
  }
  return state;
}

// The frames a client holding the state at `position` receives for the events after it (the feed's rule,
// as in frames_of_a_client_from_the_start).
std::vector<std::string> frames_after(const std::string& competition_id,
                                      const std::vector<Published>& generation, core::Position position) {
  core::CompetitionState state = core::make_longtrack_state(competition_id);
  std::vector<std::string> frames;
  for (const Published& p : generation) {
    const core::ApplyResult result = state.apply(p.event, p.sequence);
    if (p.sequence <= position) continue;
    if (result == core::ApplyResult::kWrongCompetition || result == core::ApplyResult::kDuplicate) continue;
    if (result == core::ApplyResult::kApplied &&
        p.event.header.type == core::EventType::kCompetitionActivated) {
      for (std::string& bytes : snapshot_bytes(state)) frames.push_back(std::move(bytes));
    } else {
      frames.emplace_back(p.event.raw());
    }
  }
  return frames;
}

// `actual` is `expected` or a prefix of it; else the first difference.
::testing::AssertionResult is_prefix(const std::vector<std::string>& expected,
                                     const std::vector<std::string>& actual) {
  for (std::size_t i = 0; i < actual.size(); ++i) {
    if (i >= expected.size()) {
      return ::testing::AssertionFailure()
             << "frame " << i << " is beyond the " << expected.size() << " expected: " << preview(actual[i]);
    }
    if (actual[i] != expected[i]) {
      return ::testing::AssertionFailure()
             << "frame " << i << " of " << actual.size() << " differs:\n    got      " << preview(actual[i])
             << "\n    expected " << preview(expected[i]);
    }
  }
  return ::testing::AssertionSuccess();
}

// A segment cut at its reset frames: each part a snapshot (or a re-read) or, for the first part of a
// resume, the events after the resumed position; with the live frame if it arrived.
struct Part {
  bool resumed = false;
  bool after_reset = false;
  std::vector<std::string> before_live;
  std::optional<core::ControlFrame> live;
  std::vector<std::string> after_live;
};

std::vector<Part> split(const Segment& segment) {
  std::vector<Part> parts(1);
  parts[0].resumed = segment.since.has_value();
  for (const std::string& frame : segment.frames) {
    const auto control = core::parse_control_frame(frame);
    if (!control) {
      (parts.back().live ? parts.back().after_live : parts.back().before_live).push_back(frame);
    } else if (control->kind == core::ControlFrame::Kind::kReset) {
      if (parts.size() == 1 && parts[0].before_live.empty() && !parts[0].live) {
        parts[0].resumed = false;  // the resume was refused: a snapshot follows
        parts[0].after_reset = true;
      } else {
        parts.push_back(Part{false, true, {}, std::nullopt, {}});
      }
    } else if (control->kind == core::ControlFrame::Kind::kLive && !parts.back().live) {
      parts.back().live = control;
    }
  }
  return parts;
}

std::vector<std::string> joined(const Part& part) {
  std::vector<std::string> all = part.before_live;
  all.insert(all.end(), part.after_live.begin(), part.after_live.end());
  return all;
}

}  // namespace

ChaosTimings::ChaosTimings() {
  const char* seed = std::getenv("OVALSTREAM_CHAOS_SEED");
  if (seed != nullptr && *seed != '\0') {
    randomized_ = true;
    seed_ = std::strtoull(seed, nullptr, 10);
    random_.seed(seed_);
    std::cout << "chaos timings: randomized, OVALSTREAM_CHAOS_SEED=" << seed_ << std::endl;
  } else {
    std::cout << "chaos timings: the defaults (set OVALSTREAM_CHAOS_SEED=<n> to draw them)" << std::endl;
  }
}

double ChaosTimings::pick(double fixed, double low, double high) {
  if (!randomized_) return fixed;
  return std::uniform_real_distribution<double>(low, high)(random_);
}

std::chrono::milliseconds ChaosTimings::pick(std::chrono::milliseconds fixed, std::chrono::milliseconds low,
                                             std::chrono::milliseconds high) {
  if (!randomized_) return fixed;
  return std::chrono::milliseconds(
      std::uniform_int_distribution<long long>(low.count(), high.count())(random_));
}

bool ChaosTimings::coin(bool fixed) {
  if (!randomized_) return fixed;
  return std::bernoulli_distribution(0.5)(random_);
}

ChaosShape::ChaosShape(ShapeOptions options, ChaosTimings& timings)
    : options_(std::move(options)), timings_(timings) {
  directory_ = testing::make_temp_dir("ovalstream-chaos");
  recordings_ = directory_ + "/recordings";
  std::filesystem::create_directories(recordings_);

  // The competition.
  const std::string file = directory_ + "/competition.jsonl";
  std::vector<std::string> simulate = {
      "simulate", "--out", file, "--seed",
      std::to_string(timings_.randomized() ? 1 + timings_.seed() % 1000 : 3)};
  simulate.insert(simulate.end(), options_.simulate_flags.begin(), options_.simulate_flags.end());
  const auto simulated = recorder::itest::run_recorder(simulate, 60s);
  if (simulated.exit_code != 0) {
    ADD_FAILURE() << "recorder simulate failed: " << simulated.output;
    return;
  }
  auto loaded = testing::load_recording_file(file);
  if (!loaded || loaded->empty()) {
    ADD_FAILURE() << "cannot read the simulated competition " << file;
    return;
  }
  for (auto& item : *loaded) events_.push_back(std::move(item.event));
  competition_id_ = events_.front().header.competition_id;

  cluster_ = std::make_unique<testing::NatsCluster>(testing::NatsClusterOptions{3, "ovalstream-chaos"});
  std::string error;
  if (!cluster_->create_stream(kStream, {"competition.>"}, 3, 60s, &error)) {
    ADD_FAILURE() << error << "\n" << cluster_->log_tails();
    return;
  }
  if (!cluster_->wait_stream_healthy(kStream, 30s)) {
    ADD_FAILURE() << "the stream's replicas are not current\n" << cluster_->log_tails();
    return;
  }
  if (!start_recorder()) return;
  aggregators_.resize(2);
  aggregator_urls_ = {cluster_->urls(0), ""};
  if (!start_aggregator(0)) return;
  // Aggregator 1 on another server than aggregator 0, without retrying until chance says so (nats.c picks
  // among the URLs it is given at random): it is given the other two servers' URLs; it learns the third
  // from the cluster (the servers advertise each other's client URLs) and reconnects to any of them.
  const auto first = server_of_aggregator(0);
  if (!first) {
    ADD_FAILURE() << "aggregator 0 did not connect to the cluster";
    return;
  }
  for (int k = 1; k < cluster_->size(); ++k) {
    aggregator_urls_[1] += (k > 1 ? "," : "") + cluster_->url((*first + k) % cluster_->size());
  }
  if (!start_aggregator(1)) return;
  const auto second = server_of_aggregator(1);
  if (!second || *second == *first) {
    ADD_FAILURE() << "aggregator 1 (--nats-url " << aggregator_urls_[1] << ") is not on another server than "
                  << "aggregator 0 (n" << *first
                  << "): " << (second ? "n" + std::to_string(*second) : std::string("none")) << "; its log:\n"
                  << aggregators_[1]->log_tail(3000);
    return;
  }
  std::cout << "aggregator 0 on server n" << *first << ", aggregator 1 on server n" << *second << std::endl;
  publisher_ = std::make_unique<ChaosPublisher>(cluster_->urls(0));
  ok_ = true;
}

ChaosShape::~ChaosShape() {
  for (auto& client : clients_) client->stop();
  if (publisher_) publisher_->stop();
  for (auto& aggregator : aggregators_) {
    if (aggregator) aggregator->send_signal(SIGCONT);
  }
  aggregators_.clear();
  recorder_.reset();
  if (::testing::Test::HasFailure()) {
    std::cerr << "chaos run kept at " << directory_ << " (recordings/, competition.jsonl)" << std::endl;
  } else {
    std::error_code ignored;
    std::filesystem::remove_all(directory_, ignored);
  }
}

bool ChaosShape::start_recorder() {
  recorder_ = std::make_unique<recorder::itest::RecorderProcess>(
      std::vector<std::string>{"serve", "--nats-url", cluster_->urls(2), "--dir", recordings_, "--address",
                               "127.0.0.1:0", "--metrics-address", "127.0.0.1:0"});
  if (!recorder_->wait_for_log("recording every competition", 60s)) {
    ADD_FAILURE() << "recorder serve did not start recording; log:\n" << recorder_->log_tail();
    return false;
  }
  return true;
}

bool ChaosShape::start_aggregator(std::size_t index) {
  directory_of_aggregators_.set(index, 0);
  try {
    AggregatorOptions options;
    options.nats_url = aggregator_urls_.at(index);
    aggregators_.at(index) = std::make_unique<AggregatorProcess>(options);
  } catch (const std::exception& error) {
    ADD_FAILURE() << "aggregator " << index << " did not start: " << error.what();
    return false;
  }
  AggregatorProcess& process = *aggregators_[index];
  if (!wait_until([&] { return http_get(process.metrics_port(), "/readyz").status == 200; }, 60s, 50ms)) {
    ADD_FAILURE() << "aggregator " << index << " not ready; log:\n" << process.log_tail();
    return false;
  }
  directory_of_aggregators_.set(index, process.hub_port());
  return true;
}

void ChaosShape::kill_aggregator(std::size_t index) {
  directory_of_aggregators_.set(index, 0);
  if (aggregators_.at(index)) aggregators_[index]->kill9();
}

void ChaosShape::restart_aggregator(std::size_t index) {
  (void)start_aggregator(index);
}

void ChaosShape::pause_aggregator(std::size_t index) {
  aggregators_.at(index)->send_signal(SIGSTOP);
}

void ChaosShape::resume_aggregator(std::size_t index) {
  aggregators_.at(index)->send_signal(SIGCONT);
}

std::optional<int> ChaosShape::server_of_aggregator(std::size_t index) {
  std::optional<int> node;
  wait_until(
      [&] {
        node = cluster_->node_connected_to(aggregators_.at(index)->pid());
        return node.has_value();
      },
      10s, 50ms);
  return node;
}

void ChaosShape::kill_recorder() {
  recorder_->kill9();
}

void ChaosShape::restart_recorder() {
  (void)start_recorder();
}

std::vector<std::string> ChaosShape::recorded_events() const {
  std::vector<std::string> files;
  std::error_code error;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(recordings_, error)) {
    if (entry.path().extension() == ".jsonl") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> events;
  for (const std::string& file : files) {
    for (std::string& event : recorder::itest::recorded_events(file)) events.push_back(std::move(event));
  }
  return events;
}

bool ChaosShape::wait_recorded(std::size_t count, std::chrono::milliseconds timeout) {
  return wait_until([&] { return recorded_events().size() >= count; }, timeout, 100ms);
}

void ChaosShape::publish(std::size_t count, const std::string& id_prefix) {
  count = std::min(count, events_.size());
  std::vector<core::Event> events(events_.begin(), events_.begin() + static_cast<long>(count));
  run_length_ = std::chrono::milliseconds(options_.publish_for.count() * static_cast<long long>(count) /
                                          static_cast<long long>(events_.size()));
  const auto interval =
      std::chrono::milliseconds(options_.publish_for.count() / static_cast<long long>(events_.size()));
  run_started_ = Clock::now();
  publisher_->start(std::move(events), interval, id_prefix);
  publishing_ = true;
  if (!clients_.empty()) return;

  // The viewers join once the competition is there, and leave and come back throughout.
  const bool ready = wait_until([&] { return publisher_->published_count() >= 3; }, 30s, 20ms);
  if (!ready) ADD_FAILURE() << "the first events were not published: " << publisher_->error();
  const std::size_t count_of_clients = 2 * options_.clients_per_aggregator;
  for (std::size_t k = 0; k < count_of_clients; ++k) {
    ChaosClientOptions client;
    client.name = "client-" + std::to_string(k);
    client.competition_id = competition_id_;
    client.home = k % 2;
    client.dead_after = options_.dead_after;
    const auto length = options_.publish_for;
    const auto at = [&](double fraction) {
      return std::chrono::milliseconds(
          static_cast<long long>(fraction * static_cast<double>(length.count())));
    };
    const double first = 0.15 + 0.1 * static_cast<double>(k);
    client.churn.push_back(ChurnStep{at(timings_.pick(first, 0.05, 0.9)),
                                     timings_.pick(std::chrono::milliseconds(300 + 150 * k), 50ms, 2000ms),
                                     timings_.coin(k % 3 == 2)});
    if (k % 2 == 0 || timings_.randomized()) {
      client.churn.push_back(ChurnStep{at(timings_.pick(0.8, 0.05, 0.95)), timings_.pick(500ms, 50ms, 2000ms),
                                       timings_.coin(k % 4 == 0)});
    }
    std::sort(client.churn.begin(), client.churn.end(),
              [](const ChurnStep& a, const ChurnStep& b) { return a.at < b.at; });
    clients_.push_back(std::make_unique<ChaosClient>(client, directory_of_aggregators_));
    clients_.back()->start();
  }
}

bool ChaosShape::finish_publishing() {
  if (!publishing_) return true;
  publishing_ = false;
  const bool done = publisher_->wait(run_length_ * 3 + 120s);
  generations_.push_back(publisher_->published());
  if (!done) {
    ADD_FAILURE() << "the publisher did not finish: " << publisher_->error() << " ("
                  << publisher_->published_count() << " acknowledged)";
    return false;
  }
  std::cout << "published " << generations_.back().size() << " events (" << publisher_->retries()
            << " attempts retried)" << std::endl;
  return true;
}

void ChaosShape::sleep_until(double fraction) {
  std::this_thread::sleep_until(run_started_ +
                                std::chrono::milliseconds(static_cast<long long>(
                                    fraction * static_cast<double>(options_.publish_for.count()))));
}

void ChaosShape::check_segment(const ChaosClient& client, std::size_t index, const Segment& segment) {
  const std::vector<Part> parts = split(segment);
  for (std::size_t p = 0; p < parts.size(); ++p) {
    const Part& part = parts[p];
    std::string failures;
    bool matched = false;
    for (std::size_t g = 0; g < generations_.size() && !matched; ++g) {
      const std::vector<Published>& generation = generations_[g];
      if (part.resumed) {
        // Only what followed the position; from an older position than the latest activation the
        // aggregator may start at that activation instead (docs/protocol.md).
        std::vector<core::Position> starts = {*segment.since};
        for (const Published& published : generation) {
          if (published.sequence > *segment.since &&
              published.event.header.type == core::EventType::kCompetitionActivated) {
            starts.push_back(published.sequence - 1);
          }
        }
        for (core::Position start : starts) {
          auto result = is_prefix(frames_after(competition_id_, generation, start), joined(part));
          if (result)
            matched = true;
          else
            failures += "\n  generation " + std::to_string(g + 1) + ", after " + std::to_string(start) +
                        ": " + result.message();
          if (matched) break;
        }
        continue;
      }
      if (part.after_reset) {
        // A re-read stream: the competition again from its activation, as live events.
        auto result = is_prefix(frames_after(competition_id_, generation, 0), joined(part));
        if (result) {
          matched = true;
          break;
        }
        failures += "\n  generation " + std::to_string(g + 1) + " read again: " + result.message();
      }
      if (!part.live) {
        // Ended inside the snapshot: its frames are some snapshot's first frames; at least none twice.
        std::set<std::string> seen(part.before_live.begin(), part.before_live.end());
        matched = seen.size() == part.before_live.size();
        if (!matched) failures += "\n  a frame repeated inside an unfinished snapshot";
        break;
      }
      const core::Position position = part.live->position;
      if (generation.empty() || generation.back().sequence < position) {
        failures += "\n  generation " + std::to_string(g + 1) + " ends before " + std::to_string(position);
        continue;
      }
      auto snapshot = aggregator::itest::same_frames(
          snapshot_bytes(state_at(competition_id_, generation, position)), part.before_live);
      if (!snapshot) {
        failures += "\n  generation " + std::to_string(g + 1) + ", snapshot at " + std::to_string(position) +
                    ": " + snapshot.message();
        continue;
      }
      auto live = is_prefix(frames_after(competition_id_, generation, position), part.after_live);
      if (live)
        matched = true;
      else
        failures += "\n  generation " + std::to_string(g + 1) + ", after the live frame at " +
                    std::to_string(position) + ": " + live.message();
    }
    EXPECT_TRUE(matched) << client.name() << " segment " << index << " (" << segment.target
                         << " on aggregator " << segment.aggregator << ", " << segment.frames.size()
                         << " frames, ended: " << (segment.end.empty() ? "open" : segment.end) << ") part "
                         << p << " ("
                         << (part.resumed       ? "resumed"
                             : part.after_reset ? "after a reset"
                                                : "snapshot")
                         << ") is not what the protocol promises:" << failures;
  }
}

std::size_t ChaosShape::connections_ended(const std::string& reason) const {
  std::size_t count = 0;
  for (const auto& client : clients_) {
    for (const Segment& segment : client->segments()) count += segment.end.starts_with(reason) ? 1 : 0;
  }
  return count;
}

std::size_t ChaosShape::resets_received() const {
  std::size_t count = 0;
  for (const auto& client : clients_) {
    for (const Segment& segment : client->segments()) {
      for (const std::string& frame : segment.frames) {
        const auto control = core::parse_control_frame(frame);
        count += control && control->kind == core::ControlFrame::Kind::kReset ? 1 : 0;
      }
    }
  }
  return count;
}

void ChaosShape::finish_and_check() {
  ASSERT_TRUE(ok_);
  ASSERT_TRUE(finish_publishing());
  const std::vector<Published>& truth = generations_.back();
  ASSERT_FALSE(truth.empty());
  const core::Position last = truth.back().sequence;

  // The stream holds exactly what was acknowledged: no event stored twice by a retry.
  std::optional<testing::StreamClusterState> stream;
  wait_until([&] { return (stream = cluster_->stream_state(kStream)) && stream->exists; }, 30s, 100ms);
  ASSERT_TRUE(stream && stream->exists) << "no stream info";
  EXPECT_EQ(stream->messages, truth.size());
  EXPECT_EQ(stream->last_sequence, last);

  for (auto& client : clients_) client->stop_churn();
  const bool settled = wait_until(
      [&] {
        return std::all_of(clients_.begin(), clients_.end(),
                           [&](const auto& client) { return client->settled_at(last); });
      },
      90s, 50ms);
  std::string states;
  for (const auto& client : clients_) states += "\n  " + client->describe();
  EXPECT_TRUE(settled) << "not every client reached position " << last << ":" << states;
  std::cout << "clients:" << states << std::endl;
  for (auto& client : clients_) client->stop();

  const core::CompetitionState expected =
      aggregator::itest::state_after(competition_id_, truth, truth.size());
  for (const auto& client : clients_) {
    EXPECT_EQ(client->epoch(), clients_.front()->epoch()) << client->name() << " is on another epoch";
    EXPECT_TRUE(same_live_view(expected, fold_frames(competition_id_, client->view_frames())))
        << client->name() << " does not end with the true view";
    const std::vector<Segment> segments = client->segments();
    for (std::size_t s = 0; s < segments.size(); ++s) check_segment(*client, s, segments[s]);
  }

  // The recorder's files: every event of every generation exactly once, in stream order.
  std::vector<std::string> published;
  for (const auto& generation : generations_) {
    for (const Published& p : generation) published.emplace_back(p.event.raw());
  }
  EXPECT_TRUE(wait_recorded(published.size(), 60s))
      << recorded_events().size() << " of " << published.size() << " recorded; recorder log:\n"
      << recorder_->log_tail();
  std::this_thread::sleep_for(1500ms);  // a duplicate would arrive within a fetch
  EXPECT_TRUE(aggregator::itest::same_frames(published, recorded_events())) << "the recorder's files";
}

}  // namespace ovalstream::chaos
