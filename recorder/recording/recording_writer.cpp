#include "recording/recording_writer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

#include "ovalstream/core/event.hpp"
#include "ovalstream/core/subject.hpp"

namespace ovalstream::recorder {
namespace {

constexpr std::string_view kSlotMagic = "ovalstream-recorder-position v1";
constexpr std::size_t kMaxRelativePath = 360;

std::error_code last_error() {
  return {errno, std::generic_category()};
}

std::uint64_t fnv1a(std::string_view text) {
  std::uint64_t hash = 14695981039346656037ull;
  for (const unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// A JSON object by its shape: '{' ... '}' around optional whitespace. The event's JSON itself is not
// validated (raw bytes are recorded as published).
bool object_shaped(std::string_view bytes) {
  std::size_t begin = 0, end = bytes.size();
  while (begin < end && is_space(bytes[begin])) ++begin;
  while (end > begin && is_space(bytes[end - 1])) --end;
  return end - begin >= 2 && bytes[begin] == '{' && bytes[end - 1] == '}';
}

// "YYYY-MM-DD" of a time in its own UTC offset.
std::string local_date(const core::RecordTime& time) {
  using namespace std::chrono;
  const std::int64_t local_micros = time.unix_micros + std::int64_t{time.utc_offset_minutes} * 60'000'000;
  const sys_days day = floor<days>(sys_time<microseconds>(microseconds(local_micros)));
  const year_month_day date(day);
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return text;
}

// A competition id that is safe as a file name: a subject token (no '.', '*', '>', whitespace) and no '/'.
bool safe_file_token(std::string_view id) {
  if (!core::is_subject_token(id) || id.size() > 200) return false;
  for (const char c : id) {
    if (c == '/' || c == '\\' || c == '\0') return false;
  }
  return true;
}

struct Slot {
  std::uint64_t generation = 0;
  std::uint64_t sequence = 0;
  std::uint64_t size = 0;
  std::string path;
};

std::string encode_slot(const Slot& slot) {
  std::string content = std::string(kSlotMagic) + " gen=" + std::to_string(slot.generation) +
                        " seq=" + std::to_string(slot.sequence) + " size=" + std::to_string(slot.size) +
                        " file=" + slot.path;
  char hash[24];
  std::snprintf(hash, sizeof hash, "%016" PRIx64, fnv1a(content));
  std::string encoded = content + "\n" + hash + "\n";
  encoded.resize(RecordingWriter::kSlotSize, '\0');
  return encoded;
}

std::optional<std::uint64_t> field_number(std::string_view content, std::string_view key) {
  const auto at = content.find(key);
  if (at == std::string_view::npos) return std::nullopt;
  std::uint64_t value = 0;
  std::size_t i = at + key.size();
  if (i >= content.size() || content[i] < '0' || content[i] > '9') return std::nullopt;
  for (; i < content.size() && content[i] >= '0' && content[i] <= '9'; ++i)
    value = value * 10 + (content[i] - '0');
  return value;
}

std::optional<Slot> decode_slot(std::string_view raw) {
  const auto newline = raw.find('\n');
  if (newline == std::string_view::npos || newline + 17 > raw.size()) return std::nullopt;
  const std::string_view content = raw.substr(0, newline);
  if (content.substr(0, kSlotMagic.size()) != kSlotMagic) return std::nullopt;
  char hash[24];
  std::snprintf(hash, sizeof hash, "%016" PRIx64, fnv1a(content));
  if (raw.substr(newline + 1, 16) != std::string_view(hash, 16)) return std::nullopt;
  Slot slot;
  const auto generation = field_number(content, " gen=");
  const auto sequence = field_number(content, " seq=");
  const auto size = field_number(content, " size=");
  const auto file = content.find(" file=");
  if (!generation || !sequence || !size || file == std::string_view::npos) return std::nullopt;
  slot.generation = *generation;
  slot.sequence = *sequence;
  slot.size = *size;
  slot.path = std::string(content.substr(file + 6));
  return slot;
}

RecordingWriter::Status write_fully(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return last_error();
    }
    if (written == 0) return std::make_error_code(std::errc::io_error);
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
  return {};
}

}  // namespace

core::RecordTime local_record_time(std::int64_t unix_nanos) {
  const std::int64_t micros = unix_nanos >= 0 ? unix_nanos / 1000 : -((-unix_nanos + 999) / 1000);
  const std::time_t seconds =
      static_cast<std::time_t>(micros >= 0 ? micros / 1'000'000 : -((-micros + 999'999) / 1'000'000));
  std::tm local{};
  ::localtime_r(&seconds, &local);
  return core::RecordTime{micros, static_cast<int>(local.tm_gmtoff / 60)};
}

core::RecordTime local_record_time_now() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return local_record_time(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count());
}

std::unique_ptr<RecordingWriter> RecordingWriter::for_file(std::string file, runtime::Logger logger,
                                                           RecordObserver& observer) {
  return std::unique_ptr<RecordingWriter>(
      new RecordingWriter(Layout::kFile, std::move(file), std::move(logger), observer));
}

std::unique_ptr<RecordingWriter> RecordingWriter::for_directory(std::string directory, runtime::Logger logger,
                                                                RecordObserver& observer) {
  return std::unique_ptr<RecordingWriter>(
      new RecordingWriter(Layout::kDirectory, std::move(directory), std::move(logger), observer));
}

RecordingWriter::RecordingWriter(Layout layout, std::string root, runtime::Logger logger,
                                 RecordObserver& observer)
    : layout_(layout), logger_(std::move(logger)), observer_(observer) {
  if (layout_ == Layout::kFile) {
    const std::filesystem::path file(root);
    root_ = file.has_parent_path() ? file.parent_path().string() : std::string(".");
    file_name_ = file.filename().string();
    sidecar_path_ = root + ".position";
  } else {
    root_ = root.empty() ? std::string(".") : root;
    sidecar_path_ = root_ + "/.recorder-position";
  }
}

RecordingWriter::~RecordingWriter() = default;

RecordingWriter::Status RecordingWriter::open() {
  if (layout_ == Layout::kDirectory) {
    std::error_code created;
    std::filesystem::create_directories(root_, created);
    if (created) return created;
  }
  struct stat sidecar_stat {};
  const bool sidecar_exists = ::stat(sidecar_path_.c_str(), &sidecar_stat) == 0;
  if (!sidecar_exists && errno != ENOENT) return last_error();

  if (!sidecar_exists) {
    std::uint64_t size = 0;
    if (layout_ == Layout::kFile) {
      struct stat file_stat {};
      const std::string path = root_ + "/" + file_name_;
      if (::stat(path.c_str(), &file_stat) == 0 && S_ISREG(file_stat.st_mode) && file_stat.st_size > 0) {
        logger_.error(
            "recording file exists without a position file; refusing to append to it",
            {{"file", path}, {"position_file", sidecar_path_}, {"bytes", std::int64_t{file_stat.st_size}}});
        return std::make_error_code(std::errc::file_exists);
      }
    }
    runtime::UniqueFd created(::open(sidecar_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (!created) return last_error();
    sidecar_fd_ = std::move(created);
    if (Status written = write_sidecar(0, layout_ == Layout::kFile ? file_name_ : std::string(), size);
        !written.ok())
      return written;
    logger_.info("new recording position", {{"position_file", sidecar_path_}});
    return {};
  }

  runtime::UniqueFd existing(::open(sidecar_path_.c_str(), O_RDWR | O_CLOEXEC));
  if (!existing) return last_error();
  sidecar_fd_ = std::move(existing);
  std::string raw(2 * kSlotSize, '\0');
  const ssize_t read = ::pread(sidecar_fd_.get(), raw.data(), raw.size(), 0);
  if (read < 0) return last_error();
  std::optional<Slot> best;
  for (std::size_t slot = 0; slot < 2; ++slot) {
    if (static_cast<std::size_t>(read) < (slot + 1) * kSlotSize &&
        static_cast<std::size_t>(read) <= slot * kSlotSize) {
      continue;
    }
    auto decoded = decode_slot(std::string_view(raw).substr(slot * kSlotSize, kSlotSize));
    if (decoded && (!best || decoded->generation > best->generation)) best = std::move(decoded);
  }
  if (!best) {
    logger_.error("position file is corrupt; move it and the recording away to start anew",
                  {{"position_file", sidecar_path_}});
    return std::make_error_code(std::errc::illegal_byte_sequence);
  }
  generation_ = best->generation;
  last_sequence_ = best->sequence;
  position_path_ = best->path;
  position_size_ = best->size;
  if (layout_ == Layout::kFile && !best->path.empty() && best->path != file_name_) {
    logger_.warn("position file names another file; repairing that one",
                 {{"position_file", sidecar_path_}, {"names", best->path}});
  }
  if (!best->path.empty()) {
    const std::string path = root_ + "/" + best->path;
    struct stat file_stat {};
    if (::stat(path.c_str(), &file_stat) != 0) {
      if (best->size > 0) logger_.warn("recording named by the position file is missing", {{"file", path}});
    } else if (S_ISREG(file_stat.st_mode) && static_cast<std::uint64_t>(file_stat.st_size) > best->size) {
      truncated_bytes_ = static_cast<std::uint64_t>(file_stat.st_size) - best->size;
      if (::truncate(path.c_str(), static_cast<off_t>(best->size)) != 0) return last_error();
      logger_.warn(
          "dropped the unconfirmed end of the recording (a crash after writing, before recording the "
          "position; those events come again)",
          {{"file", path}, {"dropped_bytes", truncated_bytes_}, {"size", best->size}});
    } else if (S_ISREG(file_stat.st_mode) && static_cast<std::uint64_t>(file_stat.st_size) < best->size) {
      logger_.warn(
          "recording is shorter than the position file says (changed by someone else?)",
          {{"file", path}, {"size", std::int64_t{file_stat.st_size}}, {"expected_size", best->size}});
    }
  }
  logger_.info("resuming recording",
               {{"position_file", sidecar_path_}, {"last_sequence", last_sequence_}, {"file", best->path}});
  return {};
}

std::optional<std::string> RecordingWriter::route(const RecordEntry& entry) const {
  if (layout_ == Layout::kFile) return file_name_;
  const auto info = core::parse_subject(entry.subject);
  if (!info) return std::nullopt;
  std::string competition;
  if (info->competition_id) {
    competition = *info->competition_id;
  } else {
    // competition.activations: filed under the competition it activates.
    const core::ParseResult parsed = core::parse_event(entry.event_bytes);
    if (!parsed.ok()) return std::nullopt;
    competition = parsed->header.competition_id;
  }
  if (!safe_file_token(competition)) return std::nullopt;
  return local_date(entry.time) + "/" + competition + ".jsonl";
}

runtime::Result<RecordingWriter::OpenFile*, std::error_code> RecordingWriter::target(
    const std::string& relative) {
  if (const auto found = open_files_.find(relative); found != open_files_.end()) return &found->second;
  if (open_files_.size() >= max_open_files_) {
    // At the bound (every new competition id a publisher invents would otherwise hold a descriptor): the
    // open files are closed, and reopened by their next line.
    close_all();
    observer_.on_open_files_closed_at_bound();
  }
  const std::string path = root_ + "/" + relative;
  if (layout_ == Layout::kDirectory) {
    std::error_code created;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), created);
    if (created) return created;
  }
  runtime::UniqueFd opened(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!opened) return last_error();
  struct stat file_stat {};
  if (::fstat(opened.get(), &file_stat) != 0) return last_error();
  const std::uint64_t size = S_ISREG(file_stat.st_mode) ? static_cast<std::uint64_t>(file_stat.st_size) : 0;
  OpenFile& file = open_files_[relative];
  file = OpenFile{std::move(opened), size};
  return &file;
}

void RecordingWriter::close_target(const std::string& relative) {
  open_files_.erase(relative);
}

void RecordingWriter::close_all() {
  open_files_.clear();
}

RecordingWriter::Status RecordingWriter::write_sidecar(std::uint64_t sequence, const std::string& relative,
                                                       std::uint64_t size) {
  if (relative.size() > kMaxRelativePath) return std::make_error_code(std::errc::filename_too_long);
  const Slot slot{generation_ + 1, sequence, size, relative};
  const std::string encoded = encode_slot(slot);
  const off_t offset = static_cast<off_t>((slot.generation % 2) * kSlotSize);
  for (;;) {
    const ssize_t written = ::pwrite(sidecar_fd_.get(), encoded.data(), encoded.size(), offset);
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) return last_error();
    if (static_cast<std::size_t>(written) != encoded.size()) return std::make_error_code(std::errc::io_error);
    break;
  }
  generation_ = slot.generation;
  position_path_ = relative;
  position_size_ = size;
  return {};
}

RecordingWriter::Status RecordingWriter::skip(std::uint64_t sequence) {
  if (sequence <= last_sequence_) return {};
  if (Status written = write_sidecar(sequence, position_path_, position_size_); !written.ok()) {
    observer_.on_write_error(written.error());
    return written;
  }
  last_sequence_ = sequence;
  return {};
}

RecordingWriter::Status RecordingWriter::restart_sequence() {
  if (Status written = write_sidecar(0, position_path_, position_size_); !written.ok()) {
    observer_.on_write_error(written.error());
    return written;
  }
  last_sequence_ = 0;
  return {};
}

runtime::Result<AppendOutcome, std::error_code> RecordingWriter::append(const RecordEntry& entry) {
  if (entry.sequence != 0 && entry.sequence <= last_sequence_) {
    observer_.on_duplicate_skipped();
    return AppendOutcome::kDuplicate;
  }
  const auto relative = object_shaped(entry.event_bytes) ? route(entry) : std::nullopt;
  if (!relative) {
    if (Status skipped = skip(entry.sequence); !skipped.ok()) return skipped.error();
    observer_.on_rejected();
    logger_.log_every(
        "rejected", std::chrono::seconds(10), runtime::LogLevel::kWarn,
        "event not recorded: not a JSON object, or no competition to file it under",
        {{"subject", entry.subject}, {"sequence", entry.sequence}, {"bytes", entry.event_bytes.size()}});
    return AppendOutcome::kRejected;
  }
  std::string line = core::write_record_line(entry.event_bytes, entry.time);
  // One event per line: a newline can only be JSON whitespace in a valid event, so a space keeps its meaning.
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  line.push_back('\n');

  const auto opened = target(*relative);
  if (!opened.ok()) {
    observer_.on_write_error(opened.error());
    return opened.error();
  }
  const int fd = (*opened)->fd.get();
  const std::uint64_t size = (*opened)->size;
  auto undo = [&] {
    // Nothing of this line may stay: its message is not acknowledged and will be written again.
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0 && errno != EINVAL) {
      logger_.log_every("truncate", std::chrono::seconds(10), runtime::LogLevel::kError,
                        "could not remove a partial line; it is removed at the next start",
                        {{"file", *relative}, {"error", std::strerror(errno)}});
    }
    close_target(*relative);
  };
  if (const Status written = write_fully(fd, line); !written.ok()) {
    undo();
    observer_.on_write_error(written.error());
    return written.error();
  }
  const std::uint64_t new_size = size + line.size();
  const std::uint64_t sequence = entry.sequence != 0 ? entry.sequence : last_sequence_;
  if (const Status written = write_sidecar(sequence, *relative, new_size); !written.ok()) {
    undo();
    observer_.on_write_error(written.error());
    return written.error();
  }
  open_files_[*relative].size = new_size;
  last_sequence_ = sequence;
  observer_.on_recorded(line.size());
  return AppendOutcome::kWritten;
}

}  // namespace ovalstream::recorder
