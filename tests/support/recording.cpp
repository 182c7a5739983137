#include "support/recording.hpp"

#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include "ovalstream/core/record_codec.hpp"

namespace ovalstream::testing {

std::string shared_data_dir() {
  if (const char* dir = std::getenv("OVALSTREAM_DATA_DIR"); dir && *dir) return dir;
#ifdef OVALSTREAM_SHARED_DATA_DIR
  return OVALSTREAM_SHARED_DATA_DIR;
#else
  return "../shared/data/vantage";
#endif
}

std::optional<std::vector<core::PositionedEvent>> load_recording(const std::string& file_name) {
  return load_recording_file(shared_data_dir() + "/" + file_name);
}

std::optional<std::vector<core::PositionedEvent>> load_recording_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::vector<core::PositionedEvent> events;
  std::string line;
  core::Position position = 0;
  while (std::getline(in, line)) {
    const core::RecordLineResult record = core::read_record_line(line);
    if (!record.ok() && record.error() == core::RecordError::kEmptyLine) continue;
    if (!record.ok()) throw std::runtime_error("bad record line " + std::to_string(position + 1));
    auto parsed = core::parse_event(std::string_view(record->event_bytes));
    if (!parsed.ok()) {
      throw std::runtime_error("bad event at line " + std::to_string(position + 1) + ": " +
                               std::string(core::parse_error_name(parsed.error())));
    }
    events.push_back({++position, std::move(parsed).value()});
  }
  return events;
}

std::string missing_recording_message(const std::string& file_name) {
  return "real recording " + shared_data_dir() + "/" + file_name +
         " not found; set OVALSTREAM_DATA_DIR or -DOVALSTREAM_SHARED_DATA_DIR to run this test";
}

}  // namespace ovalstream::testing
