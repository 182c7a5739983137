#pragma once
// A message as the aggregator receives it from JetStream: the subject, the exact bytes, the stream
// sequence and the stored time.

#include <cstdint>
#include <string>

#include "ovalstream/core/event.hpp"

namespace ovalstream::aggregator {

struct FeedMessage {
  std::string subject;
  core::EventBytes data;
  std::uint64_t stream_sequence = 0;
  std::int64_t timestamp_ns = 0;  // when JetStream stored it: the publish time for latency
  std::uint64_t pending = 0;      // messages still pending on this consumer: 0 = caught up
};

}  // namespace ovalstream::aggregator
