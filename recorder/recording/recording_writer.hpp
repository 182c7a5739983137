#pragma once
// Appends events as recording lines (core::write_record_line, the original recorder's format) with the
// guarantee the durable consumer's acknowledgements rely on:
//   a line is written (write(2), completely) before append() returns kWritten, and a writer opened again
//   after a crash resumes after the last written stream sequence with no duplicate and no partial line.
//
// How: a position file (the "sidecar") beside the recordings holds {last written stream sequence, the file
// it went to, that file's size after the line}. After each line the writer updates it with one pwrite of a
// fixed-size slot; slots alternate between two places in the file and carry a generation and a checksum, so a
// torn update leaves the previous one readable. Order per message: line, then sidecar, then (the caller)
// acknowledgement. open() reads the sidecar, truncates the named file back to the recorded size (a line that
// was written but not confirmed, or a partial one, from a crash; the message was not acknowledged and comes
// again), and append() skips sequences at or below the recorded one.
//
// The guarantee covers a crash of the process (kill -9), not of the machine: nothing is fsynced.
//
// Layouts:
//   file       every line to one file F; sidecar F.position. A non-empty F without a sidecar is refused
//              (it would get every event appended again).
//   directory  D/YYYY-MM-DD/<competitionId>.jsonl, the date of the line's "_time" (its own UTC offset), the
//              competition from the subject (core::parse_subject) or, for competition.activations, from the
//              event; one sidecar D/.recorder-position.
//
// Errors (disk full, unwritable path): append() returns the error (a std::error_code), truncates a partial
// line back, keeps the position unchanged and closes the file, so the next append() of the same message opens
// it again.
//
// Thread safety: none; one thread owns a RecordingWriter.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "ovalstream/core/record_codec.hpp"
#include "ovalstream/runtime/log.hpp"
#include "ovalstream/runtime/result.hpp"
#include "ovalstream/runtime/unique_fd.hpp"
#include "recording/record_observer.hpp"

namespace ovalstream::recorder {

// The local time of the process at `unix_nanos` (ns since the Unix epoch): what a line's "_time" holds.
core::RecordTime local_record_time(std::int64_t unix_nanos);
// The local time now.
core::RecordTime local_record_time_now();

// One event to append.
struct RecordEntry {
  // The JetStream stream sequence; 0 for a source without one (a websocket): then no duplicate check and the
  // sidecar's sequence stays as it was.
  std::uint64_t sequence = 0;
  std::string_view subject;  // the NATS subject (routing in the directory layout)
  std::string_view event_bytes;
  core::RecordTime time;
};

enum class AppendOutcome : std::uint8_t {
  kWritten,    // the line is in the file and the sidecar says so
  kDuplicate,  // sequence at or below the recorded position: nothing written
  kRejected,   // cannot be a line (not a JSON object) or filed nowhere (directory layout): nothing written,
               // the sequence recorded as handled
};

class RecordingWriter {
 public:
  // Success, or the system error (errno, or a std::errc for a refused file) of why not.
  using Status = runtime::Result<void, std::error_code>;

  // Every line to `file`; the sidecar is `file` + ".position".
  static std::unique_ptr<RecordingWriter> for_file(std::string file, runtime::Logger logger,
                                                   RecordObserver& observer = null_record_observer());
  // D/YYYY-MM-DD/<competitionId>.jsonl; the sidecar is D/.recorder-position.
  static std::unique_ptr<RecordingWriter> for_directory(std::string directory, runtime::Logger logger,
                                                        RecordObserver& observer = null_record_observer());
  ~RecordingWriter();
  RecordingWriter(const RecordingWriter&) = delete;
  RecordingWriter& operator=(const RecordingWriter&) = delete;

  // Reads (or creates) the sidecar and repairs the file it names. Call once before append(). Errors: an
  // unreadable or corrupt sidecar, a file that cannot be truncated, a non-empty file without a sidecar.
  Status open();

  // Writes one line (see the file comment), or returns the error; on error nothing of the line stays in the
  // file.
  runtime::Result<AppendOutcome, std::error_code> append(const RecordEntry& entry);

  // Records `sequence` as handled without a line (a message the caller filtered out), so a restart resumes
  // after it; no-op at or below the position. Errors as append().
  Status skip(std::uint64_t sequence);

  // Starts the sequence over: the stream was deleted and created again, its sequences begin at 1 again. The
  // position becomes 0; the files and their sizes stay, so the new stream's events are appended after the
  // old ones. Errors as append().
  Status restart_sequence();

  // The last written (or skipped, or rejected) stream sequence (0: none).
  std::uint64_t last_sequence() const noexcept { return last_sequence_; }
  const std::string& sidecar_path() const noexcept { return sidecar_path_; }
  // Bytes open() cut from the end of the named file (0 when it was intact).
  std::uint64_t truncated_bytes() const noexcept { return truncated_bytes_; }

  // Recording files held open at once at most (serve --max-open-files); at the bound they are all closed
  // and reopened by their next line. At least 1.
  void set_max_open_files(std::size_t count) noexcept { max_open_files_ = count == 0 ? 1 : count; }
  static constexpr std::size_t kDefaultMaxOpenFiles = 16;

  // Sidecar slots: fixed size, two of them.
  static constexpr std::size_t kSlotSize = 512;

 private:
  enum class Layout : std::uint8_t { kFile, kDirectory };
  RecordingWriter(Layout layout, std::string root, runtime::Logger logger, RecordObserver& observer);

  // The path relative to the sidecar's directory that `entry` goes to; nullopt when it goes nowhere.
  std::optional<std::string> route(const RecordEntry& entry) const;
  struct OpenFile {
    runtime::UniqueFd fd;
    std::uint64_t size = 0;
  };
  // The open file `relative` (opening and creating it, and its directory, when needed). The pointer stays
  // valid until the file is closed.
  runtime::Result<OpenFile*, std::error_code> target(const std::string& relative);
  void close_target(const std::string& relative);
  void close_all();
  Status write_sidecar(std::uint64_t sequence, const std::string& relative, std::uint64_t size);

  Layout layout_;
  std::string root_;       // the directory of the sidecar (file layout: F's directory)
  std::string file_name_;  // file layout: F relative to root_
  std::string sidecar_path_;
  runtime::Logger logger_;
  RecordObserver& observer_;

  runtime::UniqueFd sidecar_fd_;
  std::uint64_t generation_ = 0;
  std::uint64_t last_sequence_ = 0;
  std::uint64_t truncated_bytes_ = 0;
  std::string position_path_;  // the file and size the sidecar names now
  std::uint64_t position_size_ = 0;
  std::map<std::string, OpenFile> open_files_;  // bounded by max_open_files_
  std::size_t max_open_files_ = kDefaultMaxOpenFiles;
};

}  // namespace ovalstream::recorder
