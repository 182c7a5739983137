#pragma once
// JetStream stream helpers: look up, create, publish, count consumers. Each is one request to the server,
// bounded by ConnectionOptions::request_timeout; while disconnected they fail with NATS_TIMEOUT (or
// NATS_NO_RESPONDERS when JetStream is not up yet).
// Thread safety: the functions may be called concurrently from any thread.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ovalstream/nats/connection.hpp"
#include "ovalstream/nats/status.hpp"

namespace ovalstream::nats {

struct StreamInfo {
  // False when the server answered that the stream does not exist (a successful lookup, not an error);
  // every other field is then zero or empty.
  bool exists = false;
  std::string name;
  std::vector<std::string> subjects;
  std::uint64_t first_sequence = 0;
  std::uint64_t last_sequence = 0;
  std::int64_t last_time_ns = 0;  // when the last message was stored, ns since the Unix epoch (UTC)
  std::uint64_t messages = 0;
  std::uint64_t bytes = 0;
  std::int64_t created_ns = 0;  // stream creation, ns since the Unix epoch (UTC)
  std::int64_t consumers = 0;   // consumers of the stream, ordered consumers included
};

// The stream's state, {exists = false} when there is no such stream, an error for anything else.
Result<StreamInfo> stream_info(const Connection& connection, const std::string& stream_name);

// Creates a file-storage stream capturing `subjects` (e.g. {"competition.>"}). Idempotent: a stream of that
// name with the same subjects (in any order) is returned as is. A stream of that name with other subjects is
// an error (NATS_ERR, JSStreamNameExistErr); it is not changed.
Result<StreamInfo> create_stream(const Connection& connection, const std::string& stream_name,
                                 const std::vector<std::string>& subjects);

// Publishes `bytes` to `subject` and waits for the stream's acknowledgement; returns its stream sequence.
Result<std::uint64_t> publish(const Connection& connection, const std::string& subject,
                              std::string_view bytes);

// The number of consumers the server has on the stream (for "one consumer per competition" checks).
Result<std::int64_t> consumer_count(const Connection& connection, const std::string& stream_name);

}  // namespace ovalstream::nats
