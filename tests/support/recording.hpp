#pragma once
// Test support: the real recording in the shared data directory (OVALSTREAM_DATA_DIR, else the CMake
// setting, else ../shared/data/vantage), read into events with positions 1..n.

#include <optional>
#include <string>
#include <vector>

#include "ovalstream/core/competition_state.hpp"

namespace ovalstream::testing {

inline constexpr const char* kRealRecordingName = "20200112-ec-recover-10-3.jsonl";

// The directory holding the real recordings.
std::string shared_data_dir();

// The events of a recording, positions 1..n; nullopt when the file is absent (the caller skips).
std::optional<std::vector<core::PositionedEvent>> load_recording(const std::string& file_name);

// The events of the recording at `path`, positions 1..n; nullopt when the file is absent.
std::optional<std::vector<core::PositionedEvent>> load_recording_file(const std::string& path);

// GTEST_SKIP() message for a missing recording.
std::string missing_recording_message(const std::string& file_name);

}  // namespace ovalstream::testing
