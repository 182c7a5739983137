// Request paths resolved inside a directory: shapes refused up front, symlinks leading out refused after.

#include "ovalstream/runtime/paths.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>

namespace ovalstream::runtime {
namespace {

namespace fs = std::filesystem;

TEST(PlainRelativePath, AcceptsNestedNames) {
  EXPECT_TRUE(is_plain_relative_path("a"));
  EXPECT_TRUE(is_plain_relative_path("2020-01-12/c1.jsonl"));
  EXPECT_TRUE(is_plain_relative_path("a..b/c"));
}

TEST(PlainRelativePath, RefusesEscapesAndOddShapes) {
  for (const char* path :
       {"", "/a", "..", "../a", "a/..", "a/../b", "./a", "a//b", "a/", "a\\b", "a\nb", "a\x7f"}) {
    EXPECT_FALSE(is_plain_relative_path(path)) << path;
  }
}

TEST(PercentDecode, DecodesAndRefusesMalformedEscapes) {
  EXPECT_EQ(percent_decode("a%2Fb%2e"), "a/b.");
  EXPECT_EQ(percent_decode("plain"), "plain");
  EXPECT_FALSE(percent_decode("%"));
  EXPECT_FALSE(percent_decode("%2"));
  EXPECT_FALSE(percent_decode("%zz"));
  EXPECT_FALSE(percent_decode("%00"));
}

TEST(ResolveInside, FindsFilesInsideOnly) {
  std::string root = (fs::temp_directory_path() / "ovalstream-paths-XXXXXX").string();
  std::string outside = (fs::temp_directory_path() / "ovalstream-paths-XXXXXX").string();
  ASSERT_NE(::mkdtemp(root.data()), nullptr);
  ASSERT_NE(::mkdtemp(outside.data()), nullptr);
  fs::create_directories(fs::path(root) / "d");
  std::ofstream(fs::path(root) / "d" / "f.txt") << "x";
  std::ofstream(fs::path(outside) / "secret.txt") << "s";
  fs::create_symlink(fs::path(outside) / "secret.txt", fs::path(root) / "out.txt");
  fs::create_symlink(fs::path(root) / "d" / "f.txt", fs::path(root) / "in.txt");

  std::error_code error;
  EXPECT_EQ(resolve_inside(root, "d/f.txt", error), fs::canonical(fs::path(root) / "d" / "f.txt"));
  EXPECT_FALSE(error);
  EXPECT_EQ(resolve_inside(root, "in.txt", error), fs::canonical(fs::path(root) / "d" / "f.txt"))
      << "a symlink staying inside is fine";
  resolve_inside(root, "out.txt", error);
  EXPECT_EQ(error, std::errc::no_such_file_or_directory);
  resolve_inside(root, "d", error);
  EXPECT_EQ(error, std::errc::no_such_file_or_directory) << "a directory is not a file";
  resolve_inside(root, "../" + fs::path(outside).filename().string() + "/secret.txt", error);
  EXPECT_EQ(error, std::errc::invalid_argument);
  fs::remove_all(root);
  fs::remove_all(outside);
}

}  // namespace
}  // namespace ovalstream::runtime
