// The recordings directory as `serve` exposes it: names, summaries, and that request names never leave it.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "aggregator/support/aggregator_process.hpp"
#include "recording/recording_catalog.hpp"

namespace ovalstream::recorder {
namespace {

namespace fs = std::filesystem;
using aggregator::itest::TempDir;

void write_file(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

const std::string kTwoEvents =
    "{\"_time\":\"2020-01-12T14:45:54.216352+01:00\",\"typeName\":\"CompetitionActivatedEvent\"}\n"
    "{\"_time\":\"2020-01-12T14:46:00.5+01:00\",\"typeName\":\"DistanceActivatedEvent\"}\n";

TEST(RecordingName, AcceptsRelativeJsonlPaths) {
  EXPECT_TRUE(is_valid_recording_name("a.jsonl"));
  EXPECT_TRUE(is_valid_recording_name("2020-01-12/c1.jsonl"));
}

TEST(RecordingName, RefusesEverythingThatCouldLeaveTheDirectory) {
  for (const char* name :
       {"", ".jsonl", "../a.jsonl", "a/../../b.jsonl", "/etc/passwd.jsonl", "./a.jsonl", "a//b.jsonl",
        "a\\..\\b.jsonl", "a.json", "a.jsonl/", "a\n.jsonl", "..", "a/..jsonl/../../x.jsonl"}) {
    EXPECT_FALSE(is_valid_recording_name(name)) << name;
  }
}

TEST(RecordingCatalog, ResolvesOnlyExistingFilesInside) {
  TempDir outside;
  TempDir dir;
  write_file(fs::path(dir.path()) / "2020-01-12" / "c1.jsonl", kTwoEvents);
  write_file(fs::path(outside.path()) / "secret.jsonl", kTwoEvents);
  fs::create_symlink(fs::path(outside.path()) / "secret.jsonl", fs::path(dir.path()) / "link.jsonl");
  RecordingCatalog catalog(dir.path());

  std::error_code error;
  const fs::path found = catalog.resolve("2020-01-12/c1.jsonl", error);
  EXPECT_FALSE(error);
  EXPECT_EQ(found, fs::canonical(fs::path(dir.path()) / "2020-01-12" / "c1.jsonl"));

  catalog.resolve("link.jsonl", error);
  EXPECT_EQ(error, std::errc::no_such_file_or_directory) << "a symlink leading outside must not resolve";
  catalog.resolve("missing.jsonl", error);
  EXPECT_EQ(error, std::errc::no_such_file_or_directory);
  catalog.resolve("../" + fs::path(outside.path()).filename().string() + "/secret.jsonl", error);
  EXPECT_EQ(error, std::errc::invalid_argument);
  catalog.resolve("2020-01-12", error);
  EXPECT_EQ(error, std::errc::invalid_argument);
}

TEST(RecordingCatalog, ListsSummariesAndRereadsChangedFiles) {
  TempDir dir;
  write_file(fs::path(dir.path()) / "2020-01-12" / "c1.jsonl",
             kTwoEvents + "{\"_time\":\"2020-01-12T14:47:00Z\",\"typeName\":\"Heat");  // truncated tail
  write_file(fs::path(dir.path()) / "b.jsonl", "");
  write_file(fs::path(dir.path()) / "notes.txt", "not a recording\n");
  write_file(fs::path(dir.path()) / "x" / "y" / "too-deep.jsonl", kTwoEvents);
  RecordingCatalog catalog(dir.path());

  std::error_code error;
  auto list = catalog.list(error);
  ASSERT_FALSE(error) << error.message();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].name, "2020-01-12/c1.jsonl");
  EXPECT_EQ(list[0].events, 2u);
  EXPECT_EQ(list[0].corrupt_lines, 1u);
  EXPECT_EQ(list[0].first_time, "2020-01-12T14:45:54.216352+01:00");
  EXPECT_EQ(list[0].last_time, "2020-01-12T14:46:00.5+01:00");
  EXPECT_EQ(list[1].name, "b.jsonl");
  EXPECT_EQ(list[1].events, 0u);
  EXPECT_EQ(list[1].first_time, "");

  write_file(fs::path(dir.path()) / "b.jsonl", kTwoEvents);
  list = catalog.list(error);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[1].events, 2u) << "a file that changed size is summarized again";
}

}  // namespace
}  // namespace ovalstream::recorder
