#pragma once
// The recordings under a directory, as `serve` lists and hands them out: names are paths relative to the
// directory ("2020-01-12/c1.jsonl"), and a name from a request resolves only to a .jsonl file inside the
// directory (no "..", no absolute paths, no symlink leading out).
// Thread safety: RecordingCatalog may be used from any thread (its summary cache has a mutex).

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "ovalstream/runtime/mutex.hpp"

namespace ovalstream::recorder {

struct RecordingSummary {
  std::string name;  // relative to the directory, '/'-separated
  std::uint64_t size_bytes = 0;
  std::uint64_t events = 0;         // lines that read as recorded events
  std::uint64_t corrupt_lines = 0;  // other non-empty lines (e.g. a truncated last line after a crash)
  std::string first_time;           // "_time" of the first event, as written; "" when none
  std::string last_time;
};

class RecordingCatalog {
 public:
  // Recordings nested deeper than this below the directory are not listed.
  static constexpr int kMaxDepth = 2;

  explicit RecordingCatalog(std::filesystem::path directory);

  const std::filesystem::path& directory() const noexcept { return directory_; }

  // The file a request's recording name means, or an error: std::errc::invalid_argument for a name that
  // is not a relative .jsonl path of plain components, std::errc::no_such_file_or_directory when there is
  // no such regular file inside the directory (also when a symlink leads outside it).
  std::filesystem::path resolve(std::string_view name, std::error_code& error) const;

  // Every recording, sorted by name. A file whose size and modification time did not change since the
  // last call is not read again.
  std::vector<RecordingSummary> list(std::error_code& error);

 private:
  struct CachedSummary {
    std::uintmax_t size = 0;
    std::filesystem::file_time_type modified;
    RecordingSummary summary;
  };

  std::filesystem::path directory_;
  runtime::Mutex mutex_;
  std::map<std::string, CachedSummary> cache_ GUARDED_BY(mutex_);
};

// Reads a recording file and summarizes it; `name` is copied into the summary.
std::optional<RecordingSummary> summarize_recording(const std::filesystem::path& file, std::string name,
                                                    std::error_code& error);

// True when `name` is a plausible recording name: relative, '/'-separated, each component non-empty and
// not "." or "..", no backslash or control character, ending in ".jsonl".
bool is_valid_recording_name(std::string_view name) noexcept;

}  // namespace ovalstream::recorder
