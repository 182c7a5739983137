// The HTTP API of `recorder serve`, called in-process through its router: listings, downloads, requests
// that try to leave the recordings directory, and bad replay requests.

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <vector>

#include "aggregator/support/aggregator_process.hpp"
#include "serve/serve_api.hpp"

namespace ovalstream::recorder {
namespace {

namespace fs = std::filesystem;
using aggregator::itest::TempDir;

const std::string kRecording =
    "{\"_time\":\"2020-01-12T14:45:54.216352+01:00\",\"typeName\":\"CompetitionActivatedEvent\"}\n";

class FakeReplays : public ReplayControl {
 public:
  StartResult start(const ReplayRequest& request) override {
    last_request = request;
    if (refuse) return {std::nullopt, *refuse};
    ReplayStatus status;
    status.id = "r" + std::to_string(replays.size() + 1);
    status.recording = request.recording;
    status.speed = request.speed;
    status.subject_prefix = request.subject_prefix.value_or("replay.default");
    status.state = "running";
    replays[status.id] = status;
    return {status, {}};
  }
  std::vector<ReplayStatus> list() override {
    std::vector<ReplayStatus> all;
    for (const auto& [id, status] : replays) all.push_back(status);
    return all;
  }
  std::optional<ReplayStatus> find(const std::string& id) override {
    const auto it = replays.find(id);
    return it == replays.end() ? std::nullopt : std::optional(it->second);
  }
  std::optional<ReplayStatus> stop(const std::string& id) override {
    const auto it = replays.find(id);
    if (it == replays.end()) return std::nullopt;
    it->second.state = "cancelled";
    return it->second;
  }

  std::optional<Refusal> refuse;
  std::optional<ReplayRequest> last_request;
  std::map<std::string, ReplayStatus> replays;
};

class ServeApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(fs::path(dir_.path()) / "2020-01-12");
    std::ofstream(fs::path(dir_.path()) / "2020-01-12" / "c1.jsonl", std::ios::binary) << kRecording;
    std::ofstream(fs::path(outside_.path()) / "secret.jsonl", std::ios::binary) << "secret\n";
    router_ = make_serve_api_router(std::make_shared<RecordingCatalog>(dir_.path()), replays_, options_);
  }

  hub::HttpResponse call(std::string method, std::string target, std::string body = "") {
    hub::Request request;
    request.method = std::move(method);
    request.target = target;
    request.path = target.substr(0, target.find('?'));
    request.body = std::move(body);
    hub::Route route = router_(request);
    auto* response = std::get_if<hub::HttpResponse>(&route);
    if (response == nullptr) {
      ADD_FAILURE() << "the API answers every request at once";
      return {};
    }
    return *response;
  }

  // The body as the client receives it: downloads are streamed from body_file.
  static std::string body_of(const hub::HttpResponse& response) {
    if (response.body_file.empty()) return response.body;
    std::ifstream in(response.body_file, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

  TempDir dir_;
  TempDir outside_;
  std::shared_ptr<FakeReplays> replays_ = std::make_shared<FakeReplays>();
  ServeApiOptions options_;
  hub::Router router_;
};

TEST_F(ServeApiTest, ListsRecordings) {
  const auto response = call("GET", "/v1/recordings");
  EXPECT_EQ(response.status, 200u);
  EXPECT_EQ(response.content_type, "application/json");
  rapidjson::Document json;
  json.Parse(response.body.c_str());
  ASSERT_TRUE(json.IsArray()) << response.body;
  ASSERT_EQ(json.Size(), 1u);
  EXPECT_STREQ(json[0]["name"].GetString(), "2020-01-12/c1.jsonl");
  EXPECT_EQ(json[0]["size"].GetUint64(), kRecording.size());
  EXPECT_EQ(json[0]["events"].GetUint64(), 1u);
  EXPECT_STREQ(json[0]["firstTime"].GetString(), "2020-01-12T14:45:54.216352+01:00");
  EXPECT_STREQ(json[0]["lastTime"].GetString(), "2020-01-12T14:45:54.216352+01:00");
}

TEST_F(ServeApiTest, DownloadsARecordingByItsListedName) {
  const auto response = call("GET", "/v1/recordings/2020-01-12/c1.jsonl");
  EXPECT_EQ(response.status, 200u);
  EXPECT_TRUE(response.body.empty()) << "streamed from the file, not read into memory";
  EXPECT_EQ(body_of(response), kRecording);
  EXPECT_EQ(response.content_type, "application/x-ndjson");
  EXPECT_EQ(body_of(call("GET", "/v1/recordings/2020-01-12%2Fc1.jsonl")), kRecording)
      << "an encoded '/' works too";
}

TEST_F(ServeApiTest, DownloadsInProgressAreBoundedAnd503Beyond) {
  options_.max_downloads = 2;
  int refused = 0;
  options_.download_hooks.refused = [&refused] { ++refused; };
  SetUp();
  std::vector<hub::HttpResponse> in_progress;  // each holds its slot until "written" (destroyed)
  for (int i = 0; i < 2; ++i) in_progress.push_back(call("GET", "/v1/recordings/2020-01-12/c1.jsonl"));
  EXPECT_EQ(in_progress[1].status, 200u);
  const auto busy = call("GET", "/v1/recordings/2020-01-12/c1.jsonl");
  EXPECT_EQ(busy.status, 503u) << busy.body;
  EXPECT_EQ(refused, 1);
  in_progress.pop_back();
  EXPECT_EQ(call("GET", "/v1/recordings/2020-01-12/c1.jsonl").status, 200u)
      << "a finished download frees its slot";
}

TEST_F(ServeApiTest, InvalidUtf8FromThePathIsNeverEchoedRaw) {
  const auto response = call("GET", "/v1/recordings/%ff%fe.jsonl");
  EXPECT_GE(response.status, 400u);
  rapidjson::Document json;
  json.Parse<rapidjson::kParseValidateEncodingFlag>(response.body.c_str());
  EXPECT_FALSE(json.HasParseError()) << "the error body is valid UTF-8 JSON: " << response.body;
  const auto replay = call("GET", "/v1/replays/%ff\xfe");
  json.Parse<rapidjson::kParseValidateEncodingFlag>(replay.body.c_str());
  EXPECT_FALSE(json.HasParseError()) << replay.body;
  const auto raw = call("GET", "/v1/replays/\xff\xfe");
  EXPECT_EQ(raw.status, 404u);
  json.Parse<rapidjson::kParseValidateEncodingFlag>(raw.body.c_str());
  EXPECT_FALSE(json.HasParseError()) << "raw bytes in the path: " << raw.body;
}

TEST_F(ServeApiTest, PathsNeverLeaveTheDirectory) {
  const std::string outside_dir = fs::path(outside_.path()).filename().string();
  for (const std::string& target : std::vector<std::string>{
           "/v1/recordings/../" + outside_dir + "/secret.jsonl",
           "/v1/recordings/%2e%2e/" + outside_dir + "/secret.jsonl",
           "/v1/recordings/%2e%2e%2f" + outside_dir + "%2fsecret.jsonl", "/v1/recordings/%2Fetc%2Fpasswd",
           "/v1/recordings/2020-01-12/../../" + outside_dir + "/secret.jsonl", "/v1/recordings/%00.jsonl",
           "/v1/recordings/%zz.jsonl"}) {
    const auto response = call("GET", target);
    EXPECT_EQ(response.status, 400u) << target << ": " << response.body;
    EXPECT_EQ(response.body.find("secret"), std::string::npos) << target;
  }
  fs::create_symlink(fs::path(outside_.path()) / "secret.jsonl", fs::path(dir_.path()) / "link.jsonl");
  EXPECT_EQ(call("GET", "/v1/recordings/link.jsonl").status, 404u);
  EXPECT_EQ(call("GET", "/v1/recordings/missing.jsonl").status, 404u);
}

TEST_F(ServeApiTest, LargeRecordingsAreRefusedWith413) {
  options_.max_download_bytes = 10;
  router_ = make_serve_api_router(std::make_shared<RecordingCatalog>(dir_.path()), replays_, options_);
  EXPECT_EQ(call("GET", "/v1/recordings/2020-01-12/c1.jsonl").status, 413u);
}

TEST_F(ServeApiTest, StartsListsAndStopsReplays) {
  auto response =
      call("POST", "/v1/replays", R"({"recording":"2020-01-12/c1.jsonl","speed":10,"subjectPrefix":"r1"})");
  EXPECT_EQ(response.status, 201u) << response.body;
  ASSERT_TRUE(replays_->last_request);
  EXPECT_EQ(replays_->last_request->recording, "2020-01-12/c1.jsonl");
  EXPECT_DOUBLE_EQ(replays_->last_request->speed.factor, 10);
  EXPECT_EQ(replays_->last_request->subject_prefix, "r1");
  EXPECT_EQ(call("POST", "/v1/replays", R"({"recording":"2020-01-12/c1.jsonl"})").status, 201u);
  EXPECT_FALSE(replays_->last_request->subject_prefix) << "absent, so the service picks its default";
  rapidjson::Document json;
  json.Parse(response.body.c_str());
  ASSERT_TRUE(json.IsObject()) << response.body;
  const std::string id = json["id"].GetString();

  EXPECT_EQ(call("POST", "/v1/replays", R"({"recording":"2020-01-12/c1.jsonl","speed":"max"})").status, 201u);
  EXPECT_TRUE(replays_->last_request->speed.unlimited);

  response = call("GET", "/v1/replays");
  json.Parse(response.body.c_str());
  ASSERT_TRUE(json.IsArray());
  EXPECT_EQ(json.Size(), 3u);
  EXPECT_EQ(call("GET", "/v1/replays/" + id).status, 200u);
  response = call("DELETE", "/v1/replays/" + id);
  EXPECT_EQ(response.status, 200u);
  EXPECT_NE(response.body.find("\"cancelled\""), std::string::npos);
  EXPECT_EQ(call("DELETE", "/v1/replays/nope").status, 404u);
  EXPECT_EQ(call("GET", "/v1/replays/nope").status, 404u);
}

TEST_F(ServeApiTest, BadReplayBodiesAre400WithAReason) {
  for (const char* body :
       {"", "not json", "[1]", "{}", R"({"recording":5})", R"({"recording":"a.jsonl","speed":0})",
        R"({"recording":"a.jsonl","speed":-1})", R"({"recording":"a.jsonl","speed":"fast"})",
        R"({"recording":"a.jsonl","speed":1e-300})", R"({"recording":"a.jsonl","speed":0.009})",
        R"({"recording":"a.jsonl","speed":1000.5})", R"({"recording":"a.jsonl","speed":1e308})",
        R"({"recording":"a.jsonl","subjectPrefix":7})", R"({"recording":"a.jsonl","subject_prefix":"x"})",
        "{\"recording\":\"\xff\"}"}) {
    const auto response = call("POST", "/v1/replays", body);
    EXPECT_EQ(response.status, 400u) << body;
    rapidjson::Document json;
    json.Parse(response.body.c_str());
    EXPECT_TRUE(json.IsObject() && json.HasMember("error")) << response.body;
  }
  EXPECT_FALSE(replays_->last_request) << "no bad body reaches the replays";
}

TEST_F(ServeApiTest, RefusalsKeepTheirStatus) {
  replays_->refuse =
      ReplayControl::Refusal{403, "replaying onto the live subjects needs --allow-live-replay"};
  const auto response = call("POST", "/v1/replays", R"({"recording":"2020-01-12/c1.jsonl"})");
  EXPECT_EQ(response.status, 403u);
  EXPECT_NE(response.body.find("--allow-live-replay"), std::string::npos);
}

TEST_F(ServeApiTest, WrongMethodsAre405WithAllow) {
  auto response = call("DELETE", "/v1/recordings");
  EXPECT_EQ(response.status, 405u);
  ASSERT_EQ(response.headers.size(), 1u);
  EXPECT_EQ(response.headers[0].second, "GET");
  EXPECT_EQ(call("PUT", "/v1/replays").status, 405u);
  EXPECT_EQ(call("POST", "/v1/replays/r1").status, 405u);
  EXPECT_EQ(call("GET", "/v1/nothing").status, 404u);
}

}  // namespace
}  // namespace ovalstream::recorder
