#include "recording/recording_catalog.hpp"

#include <algorithm>
#include <fstream>

#include "ovalstream/core/record_codec.hpp"
#include "ovalstream/runtime/paths.hpp"

namespace ovalstream::recorder {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kExtension = ".jsonl";

std::string relative_name(const fs::path& root, const fs::path& file) {
  return file.lexically_relative(root).generic_string();
}

}  // namespace

bool is_valid_recording_name(std::string_view name) noexcept {
  return name.size() > kExtension.size() && name.ends_with(kExtension) &&
         runtime::is_plain_relative_path(name);
}

std::optional<RecordingSummary> summarize_recording(const fs::path& file, std::string name,
                                                    std::error_code& error) {
  error.clear();
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    error = std::make_error_code(std::errc::no_such_file_or_directory);
    return std::nullopt;
  }
  RecordingSummary summary;
  summary.name = std::move(name);
  summary.size_bytes = fs::file_size(file, error);
  if (error) return std::nullopt;
  std::string line;
  while (std::getline(in, line)) {
    const core::RecordLineResult record = core::read_record_line(line);
    if (!record.ok() && record.error() == core::RecordError::kEmptyLine) continue;
    if (!record.ok()) {
      ++summary.corrupt_lines;
      continue;
    }
    ++summary.events;
    if (summary.first_time.empty()) summary.first_time = record->time_text;
    summary.last_time = record->time_text;
  }
  if (in.bad()) {
    error = std::make_error_code(std::errc::io_error);
    return std::nullopt;
  }
  return summary;
}

RecordingCatalog::RecordingCatalog(fs::path directory) : directory_(std::move(directory)) {}

fs::path RecordingCatalog::resolve(std::string_view name, std::error_code& error) const {
  if (!is_valid_recording_name(name)) {
    error = std::make_error_code(std::errc::invalid_argument);
    return {};
  }
  return runtime::resolve_inside(directory_, name, error);
}

std::vector<RecordingSummary> RecordingCatalog::list(std::error_code& error) {
  error.clear();
  std::vector<RecordingSummary> summaries;
  const fs::path root = fs::canonical(directory_, error);
  if (error) return summaries;
  runtime::MutexLock lock(mutex_);
  std::map<std::string, CachedSummary> fresh;
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, error);
  for (; !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
    if (it.depth() + 1 >= kMaxDepth) it.disable_recursion_pending();
    const fs::directory_entry& entry = *it;
    std::error_code entry_error;
    // Symlinks are not listed: resolve() would refuse one leading outside, and one inside is a duplicate.
    if (entry.is_symlink(entry_error) || !entry.is_regular_file(entry_error) ||
        entry.path().extension() != kExtension) {
      continue;
    }
    std::string name = relative_name(root, entry.path());
    if (!is_valid_recording_name(name)) continue;
    const auto size = entry.file_size(entry_error);
    const auto modified = entry.last_write_time(entry_error);
    if (entry_error) continue;  // vanished while listing
    if (auto cached = cache_.find(name);
        cached != cache_.end() && cached->second.size == size && cached->second.modified == modified) {
      fresh.emplace(name, cached->second);
      continue;
    }
    auto summary = summarize_recording(entry.path(), name, entry_error);
    if (!summary) continue;
    fresh.emplace(name, CachedSummary{size, modified, std::move(*summary)});
  }
  if (error) return summaries;
  cache_ = std::move(fresh);
  summaries.reserve(cache_.size());
  for (const auto& [name, cached] : cache_) summaries.push_back(cached.summary);
  return summaries;
}

}  // namespace ovalstream::recorder
