// The control frames of the positions protocol: what the aggregator writes, a client reads back; anything
// else (events, malformed or foreign control frames) is not a control frame.
#include "ovalstream/core/control_frame.hpp"

#include <gtest/gtest.h>

#include "ovalstream/core/event.hpp"

namespace ovalstream::core {
namespace {

TEST(ControlFrame, WhatTheAggregatorWritesReadsBack) {
  const auto live = parse_control_frame(live_marker(18446744073709551615ULL, "1700000000123"));
  ASSERT_TRUE(live);
  EXPECT_EQ(live->kind, ControlFrame::Kind::kLive);
  EXPECT_EQ(live->position, 18446744073709551615ULL);
  EXPECT_EQ(live->epoch, "1700000000123");

  const auto position = parse_control_frame(position_marker(42));
  ASSERT_TRUE(position);
  EXPECT_EQ(position->kind, ControlFrame::Kind::kPosition);
  EXPECT_EQ(position->position, 42u);

  const auto reset = parse_control_frame(reset_marker());
  ASSERT_TRUE(reset);
  EXPECT_EQ(reset->kind, ControlFrame::Kind::kReset);
}

TEST(ControlFrame, ToleratesWhitespaceAndOtherKeyOrder) {
  const auto live = parse_control_frame(R"( { "ovalstream" : "live", "epoch": "e1", "position": 3 } )");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->position, 3u);
  EXPECT_EQ(live->epoch, "e1");
}

TEST(ControlFrame, NeverLooksLikeAnEvent) {
  for (const std::string& marker : {live_marker(7, "e"), position_marker(7), reset_marker()}) {
    EXPECT_FALSE(parse_event(marker).ok()) << marker << " parses as an event";
  }
}

TEST(ControlFrame, EventsAndMalformedFramesAreNotControlFrames) {
  for (const char* frame : {
           R"({"typeName":"HeatActivatedEvent","ovalstream":"reset"})",  // an event first
           R"({"ovalstream":"reset","typeName":"X"})",                   // an event that says ovalstream
           R"({"ovalstream":"reset")",                                   // truncated
           R"({"ovalstream":"rewind","position":1})",                    // unknown kind
           R"({"ovalstream":1})",
           R"({"ovalstream":"position"})",  // no position
           R"({"ovalstream":"position","position":-1})", R"({"ovalstream":"position","position":1.5})",
           R"({"ovalstream":"position","position":"1"})",
           R"({"ovalstream":"position","position":18446744073709551616})",  // past uint64
           R"({"ovalstream":"live","position":1})",                         // no epoch
           R"({"ovalstream":"live","position":1,"epoch":""})",
           R"({"ovalstream":"live","position":1,"epoch":"a&since=0"})",  // would leak into a query
           R"(["ovalstream","reset"])", "",
           "{\"ovalstream\":\"reset\",\"x\":\"\xff\"}",  // invalid UTF-8
       }) {
    EXPECT_FALSE(parse_control_frame(frame)) << frame;
  }
}

TEST(ControlFrame, EpochsAreQuerySafe) {
  EXPECT_TRUE(is_epoch("1700000000123"));
  EXPECT_TRUE(is_epoch("a-Z_9"));
  EXPECT_TRUE(is_epoch(std::string(64, 'e')));
  EXPECT_FALSE(is_epoch(std::string(65, 'e')));
  EXPECT_FALSE(is_epoch(""));
  EXPECT_FALSE(is_epoch("a b"));
  EXPECT_FALSE(is_epoch("a%22"));
}

}  // namespace
}  // namespace ovalstream::core
