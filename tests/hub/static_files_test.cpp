// Static files (the scoreboard page): index.html for "/", content types, and request paths that stay inside.

#include "ovalstream/hub/static_files.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <vector>

namespace ovalstream::hub {
namespace {

namespace fs = std::filesystem;

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (std::string* dir : {&root_, &outside_}) {
      std::string pattern = (fs::temp_directory_path() / "ovalstream-static-XXXXXX").string();
      ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
      *dir = pattern;
    }
    std::ofstream(fs::path(root_) / "index.html") << "<h1>board</h1>";
    fs::create_directories(fs::path(root_) / "js");
    std::ofstream(fs::path(root_) / "js" / "app.js") << "let x = 1;";
    std::ofstream(fs::path(outside_) / "secret.txt") << "secret";
  }
  void TearDown() override {
    fs::remove_all(root_);
    fs::remove_all(outside_);
  }

  std::optional<HttpResponse> get(const std::string& path, const std::string& method = "GET") {
    Request request;
    request.method = method;
    request.target = path;
    request.path = path;
    return StaticFiles(root_).respond(request);
  }

  std::string root_;
  std::string outside_;
};

TEST_F(StaticFilesTest, RootIsIndexHtml) {
  const auto response = get("/");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200u);
  EXPECT_EQ(response->body, "<h1>board</h1>");
  EXPECT_EQ(response->content_type, "text/html; charset=utf-8");
}

TEST_F(StaticFilesTest, FilesHaveTheirContentType) {
  const auto response = get("/js/app.js");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "let x = 1;");
  EXPECT_EQ(response->content_type, "text/javascript; charset=utf-8");
}

TEST_F(StaticFilesTest, NothingOutsideTheDirectory) {
  fs::create_symlink(fs::path(outside_) / "secret.txt", fs::path(root_) / "link.txt");
  const std::string outside_name = fs::path(outside_).filename().string();
  for (const std::string& path : std::vector<std::string>{
           "/../" + outside_name + "/secret.txt", "/%2e%2e/" + outside_name + "/secret.txt",
           "/js/../../" + outside_name + "/secret.txt", "/link.txt", "/missing.html", "/js", "//etc/passwd",
           "/%00"}) {
    EXPECT_FALSE(get(path)) << path;
  }
}

TEST_F(StaticFilesTest, DotfilesAndDotDirectoriesAreNotServed) {
  std::ofstream(fs::path(root_) / ".secret") << "token";
  fs::create_directories(fs::path(root_) / ".git");
  std::ofstream(fs::path(root_) / ".git" / "config") << "[remote]";
  std::ofstream(fs::path(root_) / "js" / ".env") << "KEY=1";
  for (const std::string path : {"/.secret", "/%2esecret", "/.git/config", "/js/.env", "/js/%2Eenv"}) {
    EXPECT_FALSE(get(path)) << path;
    EXPECT_FALSE(get(path, "POST")) << path << ": not even 405, it does not exist";
  }
  EXPECT_TRUE(get("/js/app.js")) << "a dot inside a name is fine";
}

TEST_F(StaticFilesTest, OtherMethodsAre405) {
  const auto response = get("/", "POST");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 405u);
}

TEST(StaticFiles, AMissingDirectoryIsAStartupError) {
  EXPECT_THROW(StaticFiles("/nonexistent/ovalstream"), std::invalid_argument);
}

}  // namespace
}  // namespace ovalstream::hub
