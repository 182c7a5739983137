// The URLs `record --from-url` opens: positions on a competition's URL, since/epoch after a loss, nothing
// added to /v1/competitions; and the positions protocol's parameters refused in the user's URL.
#include <gtest/gtest.h>

#include <string>

#include "record/websocket_recorder.hpp"

#include <optional>

namespace ovalstream::recorder {
namespace {

TEST(WebsocketUrl, ACompetitionAsksForPositionsThenResumes) {
  EXPECT_EQ(connection_url("ws://h:8080/v1/competitions/c1", std::nullopt),
            "ws://h:8080/v1/competitions/c1?positions=1");
  const ResumePoint point{42, "1700000000123", 3};
  EXPECT_EQ(connection_url("ws://h:8080/v1/competitions/c1", point),
            "ws://h:8080/v1/competitions/c1?since=42&epoch=1700000000123");
  EXPECT_EQ(connection_url("wss://h/v1/competitions/c1?token=t", point),
            "wss://h/v1/competitions/c1?token=t&since=42&epoch=1700000000123");
  EXPECT_EQ(connection_url("ws://h/v1/competitions/c1?", std::nullopt),
            "ws://h/v1/competitions/c1?positions=1");
}

TEST(WebsocketUrl, TheActivationsListHasNoPositions) {
  EXPECT_EQ(connection_url("ws://h:8080/v1/competitions", std::nullopt), "ws://h:8080/v1/competitions");
  EXPECT_EQ(connection_url("ws://h:8080/v1/competitions", ResumePoint{1, "e", 0}),
            "ws://h:8080/v1/competitions");
}

TEST(WebsocketUrl, TheRecorderSetsThePositionsParametersItself) {
  std::string why;
  for (const char* url : {"ws://h/v1/competitions/c1?positions=1", "ws://h/v1/competitions/c1?a=b&since=3",
                          "ws://h/v1/competitions/c1?epoch=e"}) {
    EXPECT_FALSE(valid_competitions_url(url, why)) << url;
    EXPECT_NE(why.find("the recorder sets"), std::string::npos) << why;
  }
  EXPECT_TRUE(valid_competitions_url("ws://h/v1/competitions/c1?token=t", why)) << why;
  EXPECT_TRUE(valid_competitions_url("wss://h/v1/competitions", why)) << why;
}

// The original eventrecorder's `record --host H [--competition ID]`.
TEST(WebsocketUrl, TheOriginalsHostFlag) {
  std::string why;
  EXPECT_EQ(url_for_host("events.example.com", "", why), "wss://events.example.com/v1/competitions");
  EXPECT_EQ(url_for_host("events.example.com:8443", "30913459-50b1", why),
            "wss://events.example.com:8443/v1/competitions/30913459-50b1");
  EXPECT_EQ(url_for_host("ws://127.0.0.1:8080/", "c1", why), "ws://127.0.0.1:8080/v1/competitions/c1");
  EXPECT_EQ(url_for_host("wss://h", "a/b c", why), std::nullopt) << "not a subject token";
  EXPECT_EQ(url_for_host("h", "a/b%", why), "wss://h/v1/competitions/a%2Fb%25");
  for (const char* bad : {"", "ws://", "h/v1/competitions", "h?x=1", "user@h", "h x", "http://h", ":8080"}) {
    EXPECT_EQ(url_for_host(bad, "", why), std::nullopt) << bad;
    EXPECT_FALSE(why.empty()) << bad;
  }
}

}  // namespace
}  // namespace ovalstream::recorder
