// The resume window: what it keeps, what falls out, and when a resume is exact.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "ovalstream/core/resume_window.hpp"

namespace ovalstream::core {
namespace {

EventBytes bytes(const std::string& text) {
  return std::make_shared<const std::string>(text);
}

std::vector<std::string> texts(const std::vector<EventBytes>& frames) {
  std::vector<std::string> result;
  for (const auto& frame : frames) result.push_back(*frame);
  return result;
}

TEST(ResumeWindow, GivesTheFramesAfterAPositionInOrder) {
  ResumeWindow window({.max_bytes = 1000, .max_age_ns = 1000}, 10);
  EXPECT_TRUE(window.covers(10)) << "nothing missed yet";
  EXPECT_FALSE(window.covers(9));
  window.append(12, 1, {bytes("a")});
  window.append(15, 2, {bytes("activation"), bytes("kept-1"), bytes("kept-2")});
  window.append(16, 3, {bytes("b")});
  EXPECT_EQ(texts(window.frames_after(10)),
            (std::vector<std::string>{"a", "activation", "kept-1", "kept-2", "b"}));
  EXPECT_EQ(texts(window.frames_after(12)),
            (std::vector<std::string>{"activation", "kept-1", "kept-2", "b"}));
  // A position between two of the competition's events (another competition's event): what came after it.
  EXPECT_EQ(texts(window.frames_after(13)),
            (std::vector<std::string>{"activation", "kept-1", "kept-2", "b"}));
  EXPECT_TRUE(window.frames_after(16).empty());
  EXPECT_TRUE(window.covers(16));
  EXPECT_FALSE(window.covers(17)) << "a client ahead of this window (another replica further on)";
  EXPECT_TRUE(window.frames_after(17).empty());
  EXPECT_EQ(window.last(), 16u);
}

TEST(ResumeWindow, BytesOverTheLimitRaiseTheFloor) {
  ResumeWindow window({.max_bytes = 10, .max_age_ns = 1000}, 0);
  window.append(1, 1, {bytes("aaaa")});
  window.append(2, 2, {bytes("bbbb")});
  EXPECT_EQ(window.floor(), 0u);
  window.append(3, 3, {bytes("cccc")});  // 12 bytes: the oldest goes
  EXPECT_EQ(window.floor(), 1u);
  EXPECT_EQ(window.bytes(), 8u);
  EXPECT_FALSE(window.covers(0)) << "event 1 is no longer there";
  EXPECT_EQ(texts(window.frames_after(1)), (std::vector<std::string>{"bbbb", "cccc"}));
  // One entry larger than the limit stays: the newest is always there.
  window.append(4, 4, {bytes(std::string(50, 'x'))});
  EXPECT_EQ(window.size(), 1u);
  EXPECT_EQ(window.floor(), 3u);
}

TEST(ResumeWindow, AgeOverTheLimitRaisesTheFloor) {
  ResumeWindow window({.max_bytes = 1000, .max_age_ns = 100}, 0);
  window.append(1, 1000, {bytes("a")});
  window.append(2, 1050, {bytes("b")});
  window.append(3, 1101, {bytes("c")});  // 101 ns after the oldest
  EXPECT_EQ(window.floor(), 1u);
  EXPECT_EQ(texts(window.frames_after(1)), (std::vector<std::string>{"b", "c"}));
}

TEST(ResumeWindow, AnActivationForgetsWhatCameBeforeAndServesAnyOlderPositionFromIt) {
  ResumeWindow window({.max_bytes = 1000, .max_age_ns = 1000}, 10);
  window.append(12, 1, {bytes("a")});
  window.append(15, 2, {bytes("activation"), bytes("kept")}, true);
  window.append(16, 3, {bytes("b")});
  EXPECT_EQ(window.size(), 2u) << "what came before the activation is forgotten";
  EXPECT_EQ(window.bytes(), std::string("activationkeptb").size());
  for (const Position older : {Position{0}, Position{9}, Position{12}, Position{14}}) {
    EXPECT_TRUE(window.covers(older)) << older;
    EXPECT_EQ(texts(window.frames_after(older)), (std::vector<std::string>{"activation", "kept", "b"}))
        << older;
  }
  EXPECT_EQ(texts(window.frames_after(15)), std::vector<std::string>{"b"});
  EXPECT_FALSE(window.covers(17));
}

TEST(ResumeWindow, AnActivationEvictedNoLongerServesOlderPositions) {
  ResumeWindow window({.max_bytes = 1000, .max_age_ns = 10}, 0);
  window.append(5, 0, {bytes("activation")}, true);
  window.append(6, 5, {bytes("a")});
  EXPECT_TRUE(window.covers(1));
  window.append(7, 11, {bytes("b")});  // the activation is older than 10 ns: out
  EXPECT_EQ(window.floor(), 5u);
  EXPECT_FALSE(window.covers(1));
  EXPECT_FALSE(window.covers(4));
  EXPECT_TRUE(window.covers(5));
}

TEST(ResumeWindow, ResetForgetsEverything) {
  ResumeWindow window({}, 0);
  window.append(1, 1, {bytes("a")});
  window.reset(40);
  EXPECT_EQ(window.size(), 0u);
  EXPECT_EQ(window.bytes(), 0u);
  EXPECT_FALSE(window.covers(1));
  EXPECT_TRUE(window.covers(40));
  EXPECT_EQ(window.last(), 40u);
}

}  // namespace
}  // namespace ovalstream::core
