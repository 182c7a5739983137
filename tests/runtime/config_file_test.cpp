// The --config file's text becomes key/value pairs, and every text that is not a flat mapping of flag
// names to plain values (or lists of them) is refused with a reason and, where known, the line. The reader
// tells a missing file from one that cannot be read.
#include "ovalstream/runtime/config_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace ovalstream::runtime {
namespace {

namespace fs = std::filesystem;

// `line`: the line the error must name; 0 for none, -1 for any.
void expect_error(std::string_view text, const std::vector<std::string>& parts, int line = -1) {
  const ParsedConfigText parsed = parse_config_text(text);
  ASSERT_FALSE(parsed.ok()) << "accepted: " << text;
  for (const std::string& part : parts) EXPECT_PRED_FORMAT2(::testing::IsSubstring, part, parsed.error);
  EXPECT_EQ(parsed.error.find('\n'), std::string::npos) << "one line: " << parsed.error;
  if (line >= 0) {
    EXPECT_EQ(parsed.error_line, line) << parsed.error;
  }
  EXPECT_TRUE(parsed.values.empty());
}

TEST(ConfigFileText, ScalarsListsAndEmptyValuesWithTheirLines) {
  const ParsedConfigText parsed = parse_config_text(
      "# the aggregator\n"
      "nats-url: nats://x:4222\n"
      "debug: true\n"
      "filter:\n"
      "  - c1\n"
      "  - \"c2\"\n"
      "nats-password: ''\n"
      "history:\n"
      "stream: ~\n"
      "hub-address: [\":8080\"]\n");
  ASSERT_TRUE(parsed.ok()) << parsed.error;
  ASSERT_EQ(parsed.values.size(), 7u);
  const auto expect_value = [&](std::size_t index, const std::string& key, ConfigValue::Kind kind,
                                const std::vector<std::string>& items, int line) {
    const ConfigValue& value = parsed.values[index];
    EXPECT_EQ(value.key, key);
    EXPECT_EQ(value.kind, kind) << key;
    EXPECT_EQ(value.items, items) << key;
    EXPECT_EQ(value.line, line) << key;
  };
  expect_value(0, "nats-url", ConfigValue::Kind::kScalar, {"nats://x:4222"}, 2);
  expect_value(1, "debug", ConfigValue::Kind::kScalar, {"true"}, 3);
  expect_value(2, "filter", ConfigValue::Kind::kSequence, {"c1", "c2"}, 4);
  expect_value(3, "nats-password", ConfigValue::Kind::kScalar, {""}, 7);
  expect_value(4, "history", ConfigValue::Kind::kNull, {}, 8);
  expect_value(5, "stream", ConfigValue::Kind::kNull, {}, 9);
  expect_value(6, "hub-address", ConfigValue::Kind::kSequence, {":8080"}, 10);
}

TEST(ConfigFileText, EmptyTextAndCommentsHoldNoValues) {
  for (const char* text : {"", "\n\n", "# nothing yet\n", "---\n", "~\n"}) {
    const ParsedConfigText parsed = parse_config_text(text);
    EXPECT_TRUE(parsed.ok()) << text << ": " << parsed.error;
    EXPECT_TRUE(parsed.values.empty()) << text;
  }
}

TEST(ConfigFileText, MalformedYamlNamesTheLine) {
  expect_error("nats-url: nats://x:4222\nfilter: [a, b\n", {"not valid YAML", "end of sequence"}, 3);
  expect_error("debug: true\n  stream: x\n", {"not valid YAML"}, 2);
  expect_error("nats-url: \"unterminated", {"not valid YAML"});
  expect_error("\tdebug: true\n", {"not valid YAML"});
}

TEST(ConfigFileText, TopLevelMustBeAMapping) {
  expect_error("nats://x:4222\n", {"top level is a plain value", "mapping"}, 1);
  expect_error("- debug\n- true\n", {"top level is a list", "mapping"});
}

TEST(ConfigFileText, AMappingIsNoFlagValue) {
  expect_error("debug: true\nnats-url:\n  host: x\n  port: 4222\n", {"key \"nats-url\"", "mapping"}, 2);
  expect_error("nats-url: {host: x}\n", {"key \"nats-url\"", "mapping"});
}

TEST(ConfigFileText, AListHoldsPlainValuesOnly) {
  expect_error("filter:\n  - a\n  - [b, c]\n", {"key \"filter\"", "item 2", "a list"}, 1);
  expect_error("filter: [a, {b: c}]\n", {"key \"filter\"", "item 2", "a mapping"});
}

TEST(ConfigFileText, KeysArePlainNames) {
  expect_error("? [a, b]\n: 1\n", {"key is a list"});
  expect_error("? {a: b}\n: 1\n", {"key is a mapping"});
  expect_error("~: 1\n", {"key is an empty value"});
  expect_error("\"\": 1\n", {"key is"});
}

TEST(ConfigFileText, AKeyGivenTwiceIsRefusedWhateverItsCase) {
  expect_error("debug: true\nstream: x\ndebug: false\n", {"key \"debug\" is given twice", "first on line 1"},
               3);
  expect_error("debug: true\nDebug: false\n", {"\"Debug\" is given twice"});
}

TEST(ConfigFileText, OneDocumentOnly) {
  expect_error("debug: true\n---\nstream: x\n", {"2 YAML documents"});
}

TEST(ConfigFileText, NulByteIsRefused) {
  expect_error(std::string_view("debug: true\nstream: a\0b\n", 24), {"NUL"});
}

TEST(ConfigFileText, DeepNestingIsAnErrorNotACrash) {
  const std::string deep = "filter: " + std::string(100'000, '[') + std::string(100'000, ']') + "\n";
  expect_error(deep, {"not valid YAML"});
  const std::string open_only = "filter: " + std::string(100'000, '{');
  expect_error(open_only, {"not valid YAML"});
}

TEST(ConfigFileText, AnAliasOfItsOwnListIsRefusedNotFollowed) {
  expect_error("filter: &self [a, *self]\n", {"key \"filter\"", "item 2"});
}

TEST(ConfigFileText, ControlCharactersInAKeyStayOnOneLine) {
  expect_error("\"a\\nb\": 1\n\"a\\nb\": 2\n", {"\"a\\nb\""});
}

class ConfigFileReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = fs::temp_directory_path() / ("ovalstream-config-" + std::to_string(::getpid()));
    fs::create_directories(directory_);
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(directory_, ignored);
  }
  std::string write(const std::string& name, const std::string& text) {
    const fs::path path = directory_ / name;
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
  }
  fs::path directory_;
};

TEST_F(ConfigFileReaderTest, ReadsAFile) {
  const std::string path = write("a.yaml", "debug: true\n");
  const ConfigFileText file = read_config_file(path);
  EXPECT_EQ(file.status, ConfigFileText::Status::kRead) << file.reason;
  EXPECT_EQ(file.text, "debug: true\n");
}

TEST_F(ConfigFileReaderTest, MissingIsToldApart) {
  const ConfigFileText file = read_config_file((directory_ / "missing.yaml").string());
  EXPECT_EQ(file.status, ConfigFileText::Status::kMissing);
  EXPECT_NE(file.reason.find("No such file"), std::string::npos) << file.reason;
  // A missing directory on the way is missing too.
  EXPECT_EQ(read_config_file((directory_ / "no" / "a.yaml").string()).status,
            ConfigFileText::Status::kMissing);
}

TEST_F(ConfigFileReaderTest, DirectoryIsUnreadable) {
  const ConfigFileText file = read_config_file(directory_.string());
  EXPECT_EQ(file.status, ConfigFileText::Status::kUnreadable);
  EXPECT_EQ(file.reason, "not a regular file");
}

TEST_F(ConfigFileReaderTest, FifoIsUnreadableAndDoesNotBlock) {
  const fs::path fifo = directory_ / "fifo.yaml";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(read_config_file(fifo.string()).status, ConfigFileText::Status::kUnreadable);
}

TEST_F(ConfigFileReaderTest, OversizedFileIsUnreadable) {
  const std::string path = write("big.yaml", "# " + std::string(kMaxConfigFileBytes, 'x') + "\n");
  const ConfigFileText file = read_config_file(path);
  EXPECT_EQ(file.status, ConfigFileText::Status::kUnreadable);
  EXPECT_NE(file.reason.find("larger than"), std::string::npos) << file.reason;
  EXPECT_TRUE(file.text.empty());
}

TEST_F(ConfigFileReaderTest, PermissionDeniedIsUnreadable) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads every file";
  const std::string path = write("secret.yaml", "debug: true\n");
  ASSERT_EQ(::chmod(path.c_str(), 0), 0);
  const ConfigFileText file = read_config_file(path);
  EXPECT_EQ(file.status, ConfigFileText::Status::kUnreadable);
  EXPECT_NE(file.reason.find("Permission denied"), std::string::npos) << file.reason;
}

}  // namespace
}  // namespace ovalstream::runtime
