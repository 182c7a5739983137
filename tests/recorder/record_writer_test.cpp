// RecordingWriter: lines in the original's format, the sidecar position, crash recovery (a written but
// unconfirmed or partial tail is cut), duplicates skipped, write errors leave nothing behind, the directory
// layout.
#include "recording/recording_writer.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "ovalstream/core/record_codec.hpp"
#include "support/child_process.hpp"

namespace ovalstream::recorder {
namespace {

namespace fs = std::filesystem;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::vector<std::string> lines_of(const std::string& path) {
  std::vector<std::string> lines;
  std::istringstream in(read_file(path));
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

struct Scratch {
  Scratch() : dir(testing::make_temp_dir("ovalstream-writer")) {}
  ~Scratch() {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }
  std::string dir;
};

class WriterTest : public ::testing::Test {
 protected:
  std::ostringstream log_;
  runtime::Logger logger_{"test", log_};
  Scratch scratch_;
  std::string file_ = scratch_.dir + "/rec.jsonl";

  // 2020-01-12T14:45:54.216352+01:00
  static core::RecordTime time() { return core::RecordTime{1578836754216352, 60}; }

  static std::string event(int i) {
    return "{\"typeName\":\"X\",\"competitionId\":\"c1\",\"i\":" + std::to_string(i) + "}";
  }

  // The error of the append (none when it succeeded); its outcome goes to `outcome`.
  std::error_code append(RecordingWriter& writer, std::uint64_t sequence, const std::string& bytes,
                         AppendOutcome& outcome, const std::string& subject = "competition.c1") {
    const auto appended = writer.append(RecordEntry{sequence, subject, bytes, time()});
    if (!appended.ok()) return appended.error();
    outcome = *appended;
    return {};
  }
};

TEST_F(WriterTest, WritesTheOriginalFormatAndRecordsThePosition) {
  auto writer = RecordingWriter::for_file(file_, logger_);
  ASSERT_TRUE(writer->open().ok());
  EXPECT_TRUE(fs::exists(file_ + ".position"));
  AppendOutcome outcome{};
  ASSERT_FALSE(append(*writer, 7, event(1), outcome));
  EXPECT_EQ(outcome, AppendOutcome::kWritten);
  ASSERT_FALSE(append(*writer, 9, event(2), outcome));
  EXPECT_EQ(writer->last_sequence(), 9u);
  const auto lines = lines_of(file_);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "{\"_time\":\"2020-01-12T14:45:54.216352+01:00\"," + event(1).substr(1));
  const core::RecordLineResult parsed = core::read_record_line(lines[1]);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->event_bytes, event(2));

  // A new writer (a restart) resumes after 9: 9 again is a duplicate, 10 is written.
  writer.reset();
  auto again = RecordingWriter::for_file(file_, logger_);
  ASSERT_TRUE(again->open().ok());
  EXPECT_EQ(again->last_sequence(), 9u);
  EXPECT_EQ(again->truncated_bytes(), 0u);
  ASSERT_FALSE(append(*again, 9, event(2), outcome));
  EXPECT_EQ(outcome, AppendOutcome::kDuplicate);
  ASSERT_FALSE(append(*again, 10, event(3), outcome));
  EXPECT_EQ(outcome, AppendOutcome::kWritten);
  EXPECT_EQ(lines_of(file_).size(), 3u);
}

TEST_F(WriterTest, CrashRecoveryCutsAnUnconfirmedAndAPartialLine) {
  {
    auto writer = RecordingWriter::for_file(file_, logger_);
    ASSERT_TRUE(writer->open().ok());
    AppendOutcome outcome{};
    ASSERT_FALSE(append(*writer, 1, event(1), outcome));
    ASSERT_FALSE(append(*writer, 2, event(2), outcome));
  }
  const std::string intact = read_file(file_);
  // What a crash leaves: a whole line whose position was never recorded, then half a line.
  const std::string tail = core::write_record_line(event(3), time()) + "\n{\"_time\":\"2020-01-12T14:4";
  {
    std::ofstream out(file_, std::ios::app | std::ios::binary);
    out << tail;
  }
  auto writer = RecordingWriter::for_file(file_, logger_);
  ASSERT_TRUE(writer->open().ok());
  EXPECT_EQ(writer->truncated_bytes(), tail.size());
  EXPECT_EQ(read_file(file_), intact);
  EXPECT_NE(log_.str().find("dropped the unconfirmed end"), std::string::npos) << log_.str();
  // The message of the cut line comes again and is written once.
  AppendOutcome outcome{};
  ASSERT_FALSE(append(*writer, 3, event(3), outcome));
  EXPECT_EQ(outcome, AppendOutcome::kWritten);
  const auto lines = lines_of(file_);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(core::read_record_line(lines[2]).value().event_bytes, event(3));
}

TEST_F(WriterTest, ATornSidecarUpdateFallsBackToThePreviousPosition) {
  {
    auto writer = RecordingWriter::for_file(file_, logger_);
    ASSERT_TRUE(writer->open().ok());
    AppendOutcome outcome{};
    ASSERT_FALSE(append(*writer, 1, event(1), outcome));
    ASSERT_FALSE(append(*writer, 2, event(2), outcome));
  }
  // The newest slot (generation 3: open() wrote 1, the lines 2 and 3) is at offset 512; tear it.
  std::string sidecar = read_file(file_ + ".position");
  ASSERT_EQ(sidecar.size(), 2 * RecordingWriter::kSlotSize);
  sidecar[RecordingWriter::kSlotSize + 40] ^= 0x5a;
  {
    std::ofstream out(file_ + ".position", std::ios::binary | std::ios::trunc);
    out << sidecar;
  }
  auto writer = RecordingWriter::for_file(file_, logger_);
  ASSERT_TRUE(writer->open().ok());
  // Back at sequence 1: the second line is cut and written again when its message comes again.
  EXPECT_EQ(writer->last_sequence(), 1u);
  EXPECT_EQ(lines_of(file_).size(), 1u);
}

TEST_F(WriterTest, SkippedSequencesMoveThePositionWithoutALine) {
  auto writer = RecordingWriter::for_file(file_, logger_);
  ASSERT_TRUE(writer->open().ok());
  AppendOutcome outcome{};
  ASSERT_FALSE(append(*writer, 1, event(1), outcome));
  ASSERT_TRUE(writer->skip(4).ok());
  EXPECT_EQ(writer->last_sequence(), 4u);
  writer.reset();
  auto again = RecordingWriter::for_file(file_, logger_);
  ASSERT_TRUE(again->open().ok());
  EXPECT_EQ(again->last_sequence(), 4u);
  EXPECT_EQ(again->truncated_bytes(), 0u);
  EXPECT_EQ(lines_of(file_).size(), 1u);
  ASSERT_FALSE(append(*again, 3, event(3), outcome));
  EXPECT_EQ(outcome, AppendOutcome::kDuplicate);
}

TEST_F(WriterTest, RefusesANonEmptyFileWithoutPosition) {
  {
    std::ofstream out(file_);
    out << "{\"_time\":\"2020-01-12T14:45:54+01:00\",\"a\":1}\n";
  }
  auto writer = RecordingWriter::for_file(file_, logger_);
  EXPECT_EQ(writer->open().error(), std::make_error_code(std::errc::file_exists));
  EXPECT_FALSE(fs::exists(file_ + ".position"));
}

TEST_F(WriterTest, AWriteErrorLeavesNothingAndTheSameMessageIsWrittenLater) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "/dev/full is missing";
  fs::create_symlink("/dev/full", file_);
  auto writer = RecordingWriter::for_file(file_, logger_);
  ASSERT_TRUE(writer->open().ok());
  AppendOutcome outcome{};
  const std::error_code error = append(*writer, 5, event(5), outcome);
  EXPECT_EQ(error, std::make_error_code(std::errc::no_space_on_device));
  EXPECT_EQ(writer->last_sequence(), 0u);
  // The disk "works again": the same message is written, once.
  fs::remove(file_);
  ASSERT_FALSE(append(*writer, 5, event(5), outcome));
  EXPECT_EQ(outcome, AppendOutcome::kWritten);
  EXPECT_EQ(writer->last_sequence(), 5u);
  EXPECT_EQ(lines_of(file_).size(), 1u);
}

TEST_F(WriterTest, AnUnusablePathIsAnError) {
  // A "directory" that is a regular file: ENOTDIR, also for root (who writes into read-only directories).
  { std::ofstream out(scratch_.dir + "/plain"); }
  auto writer = RecordingWriter::for_file(scratch_.dir + "/plain/rec.jsonl", logger_);
  EXPECT_EQ(writer->open().error(), std::make_error_code(std::errc::not_a_directory));
}

TEST_F(WriterTest, RejectsWhatCannotBeALine) {
  auto writer = RecordingWriter::for_file(file_, logger_);
  ASSERT_TRUE(writer->open().ok());
  AppendOutcome outcome{};
  ASSERT_FALSE(append(*writer, 1, "[1,2]", outcome));
  EXPECT_EQ(outcome, AppendOutcome::kRejected);
  // Newlines (JSON whitespace) become spaces: one event, one line.
  ASSERT_FALSE(append(*writer, 2, "{\"a\":\n1}", outcome));
  EXPECT_EQ(outcome, AppendOutcome::kWritten);
  const auto lines = lines_of(file_);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(core::read_record_line(lines[0]).value().event_bytes, "{\"a\": 1}");
}

TEST_F(WriterTest, DirectoryLayoutFilesByDateAndCompetition) {
  const std::string dir = scratch_.dir + "/recordings";
  auto writer = RecordingWriter::for_directory(dir, logger_);
  ASSERT_TRUE(writer->open().ok());
  AppendOutcome outcome{};
  const std::string activation = R"({"typeName":"CompetitionActivatedEvent","competitionId":"c2"})";
  ASSERT_FALSE(append(*writer, 1, activation, outcome, "competition.activations"));
  EXPECT_EQ(outcome, AppendOutcome::kWritten);
  ASSERT_FALSE(append(*writer, 2, event(1), outcome, "competition.c1.distances.d1"));
  ASSERT_FALSE(append(*writer, 3, event(2), outcome, "competition.c2"));
  ASSERT_FALSE(append(*writer, 4, event(3), outcome, "other.subject"));
  EXPECT_EQ(outcome, AppendOutcome::kRejected);
  // The date of "_time" in its own offset: 14:45 +01:00 on 2020-01-12.
  EXPECT_EQ(lines_of(dir + "/2020-01-12/c2.jsonl").size(), 2u);
  EXPECT_EQ(lines_of(dir + "/2020-01-12/c1.jsonl").size(), 1u);
  EXPECT_TRUE(fs::exists(dir + "/.recorder-position"));
  // 23:30 UTC on the 12th is already the 13th at +01:00.
  ASSERT_TRUE(
      writer->append(RecordEntry{5, "competition.c1", event(4), core::RecordTime{1578871800000000, 60}})
          .ok());
  EXPECT_EQ(lines_of(dir + "/2020-01-13/c1.jsonl").size(), 1u);

  // A restart cuts the file the sidecar names (the last one written).
  writer.reset();
  {
    std::ofstream out(dir + "/2020-01-13/c1.jsonl", std::ios::app);
    out << "{\"_time\":\"partial";
  }
  auto again = RecordingWriter::for_directory(dir, logger_);
  ASSERT_TRUE(again->open().ok());
  EXPECT_EQ(again->last_sequence(), 5u);
  EXPECT_EQ(again->truncated_bytes(), std::string("{\"_time\":\"partial").size());
}

TEST(LocalRecordTime, UsesTheProcessOffset) {
  const core::RecordTime time = local_record_time(1578836754216352123);
  EXPECT_EQ(time.unix_micros, 1578836754216352);
}

}  // namespace
}  // namespace ovalstream::recorder
