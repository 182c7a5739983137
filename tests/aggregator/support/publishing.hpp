#pragma once
// Integration-test support: publishing events the way a Vantage publisher must (core::subject_for with a
// core::HeatGroupAssigner, one nats::publish per event, acknowledged by the stream), and the expectations
// a test derives from what it published: the true state (a core::CompetitionState of every published event
// at its stream sequence), snapshots at cut points, and the state a client builds from the frames it got.
// Thread safety: none; one test thread drives a Publisher.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ovalstream/core/competition_state.hpp"
#include "ovalstream/core/subject.hpp"
#include "ovalstream/nats/connection.hpp"

namespace ovalstream::aggregator::itest {

// An event as published: its bytes, its parsed header and the stream sequence the stream acknowledged.
struct Published {
  core::Event event;
  std::uint64_t sequence = 0;
  std::string subject;
};

class Publisher {
 public:
  // Connects to `url`; throws std::runtime_error when it cannot.
  explicit Publisher(std::string url);
  // Connects with these options (e.g. TLS files); the name and reconnect wait are the publisher's own.
  explicit Publisher(nats::ConnectionOptions options);
  ~Publisher();

  const nats::Connection& connection() const { return *connection_; }
  // Drops the connection and connects again (after a server restart); the heat group assignment stays.
  void reconnect();
  // Waits until the connection is up and `stream` answers a lookup.
  bool wait_usable(const std::string& stream, std::chrono::milliseconds timeout);

  // Publishes `event` on its subject; throws std::runtime_error on failure (no retry: a retried publish
  // whose acknowledgement was lost would store the event twice).
  Published publish(const core::Event& event);
  // Parses `json` (it must parse) and publishes it.
  Published publish_json(const std::string& json);
  // Publishes arbitrary bytes on an arbitrary subject; the stream sequence.
  std::uint64_t publish_raw(const std::string& subject, std::string_view bytes);

 private:
  nats::ConnectionOptions options_;
  std::unique_ptr<nats::Connection> connection_;
  core::HeatGroupAssigner groups_;
};

// Parses `json` as an event; throws std::runtime_error when it does not parse.
core::Event parse_or_throw(std::string_view json);

// The events of the real recording in file order (nullopt when absent).
std::optional<std::vector<core::Event>> load_recording_events();

// The true state after the first `count` published events (each at its stream sequence).
core::CompetitionState state_after(const std::string& competition_id, const std::vector<Published>& published,
                                   std::size_t count);
// The bytes of a state's snapshot, in order.
std::vector<std::string> snapshot_bytes(const core::CompetitionState& state);
// The bytes of published[begin, end).
std::vector<std::string> bytes_of(const std::vector<Published>& published, std::size_t begin,
                                  std::size_t end);

// The frames a client connected before the first of `published` receives for `competition_id`: every event
// in stream order (duplicates skipped), and after each competition activation the state applied, what the
// state kept below the competition (its snapshot after the activation). The feed's rule (docs/protocol.md),
// stated on the pure core.
std::vector<std::string> frames_of_a_client_from_the_start(const std::string& competition_id,
                                                           const std::vector<Published>& published);

// What a client builds from the frames it received: each frame parsed and applied at positions 1, 2, 3, ...
// in arrival order. Fails the test (ADD_FAILURE) for a frame that does not parse.
core::CompetitionState fold_frames(const std::string& competition_id, const std::vector<std::string>& frames);

// The same live view: the same retained bytes in the same order and the same JSON state view (positions are
// not compared: a client numbers what it receives in arrival order).
::testing::AssertionResult same_live_view(const core::CompetitionState& expected,
                                          const core::CompetitionState& actual);

// Frame lists equal, element by element; the failure names the first difference.
::testing::AssertionResult same_frames(const std::vector<std::string>& expected,
                                       const std::vector<std::string>& actual);

// No two frames of `frames` are byte-identical, except where `expected` itself repeats (checked per count).
::testing::AssertionResult no_unexpected_duplicates(const std::vector<std::string>& expected,
                                                    const std::vector<std::string>& frames);

// A distance-level event of an unknown type, unique by `tag`: it passes through and is kept in the snapshot
// while its distance is shown, so it marks "everything before it has arrived".
std::string sentinel_json(const std::string& competition_id, const std::string& distance_id,
                          const std::string& tag);

}  // namespace ovalstream::aggregator::itest
