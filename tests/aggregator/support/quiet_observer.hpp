#pragma once
// An IngestObserver for tests whose subject is not the ingest reports: it ignores them all, except that a
// rejected event is a mistake in the test. Derive to watch one report (override it).

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "competition_registry.hpp"

namespace ovalstream::aggregator {

class QuietObserver : public IngestObserver {
 public:
  void event_received(const core::Event&) override {}
  void event_rejected(const FeedMessage&, const std::string& reason, const std::string&) override {
    ADD_FAILURE() << "rejected: " << reason;
  }
  void message_consumed(const FeedMessage&) override {}
  void competitions_held(std::size_t) override {}
  void competition_held(const std::string&, std::uint64_t) override {}
  void competition_dropped(const std::string&, const std::string&) override {}
  void caught_up(std::uint64_t) override {}
  void feed_backpressure(const std::string&, bool) override {}
};

}  // namespace ovalstream::aggregator
