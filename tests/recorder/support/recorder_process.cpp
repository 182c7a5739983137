#include "recorder/support/recorder_process.hpp"

#include "ovalstream/core/record_codec.hpp"

#include <fstream>

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <stdexcept>

#include "support/child_process.hpp"

namespace ovalstream::recorder::itest {

std::string RecorderProcess::executable() {
  if (const char* path = std::getenv("OVALSTREAM_RECORDER"); path && *path) return path;
#ifdef OVALSTREAM_BINARY_DIR
  return std::string(OVALSTREAM_BINARY_DIR) + "/recorder/recorder";
#else
  return "recorder/recorder";
#endif
}

RecorderProcess::RecorderProcess(std::vector<std::string> args, std::vector<std::string> environment) {
  const std::string binary = executable();
  if (::access(binary.c_str(), X_OK) != 0) {
    throw std::runtime_error("recorder executable not found at " + binary + " (build the `recorder` target)");
  }
  temp_dir_ = testing::make_temp_dir("ovalstream-recorder");
  args.insert(args.begin(), binary);
  if (std::none_of(environment.begin(), environment.end(),
                   [](const std::string& entry) { return entry.starts_with("HOME="); })) {
    environment.push_back("HOME=" + temp_dir_);
  }
  child_ = std::make_unique<testing::ChildProcess>(std::move(args), temp_dir_ + "/recorder.log", environment);
}

RecorderProcess::~RecorderProcess() {
  child_->kill9();
  if (::testing::Test::HasFailure()) {
    std::cerr << "---- recorder log (" << child_->log_path() << "), last bytes ----\n"
              << child_->log_tail() << "\n---- end of recorder log ----\n";
  } else {
    std::error_code ignored;
    std::filesystem::remove_all(temp_dir_, ignored);
  }
}

pid_t RecorderProcess::pid() const noexcept {
  return child_->pid();
}
bool RecorderProcess::running() {
  return child_->running();
}
void RecorderProcess::send_signal(int signal_number) {
  child_->send_signal(signal_number);
}
std::optional<int> RecorderProcess::wait_exit(std::chrono::milliseconds timeout) {
  return child_->wait_exit(timeout);
}
void RecorderProcess::kill9() {
  child_->kill9();
}
const std::string& RecorderProcess::log_path() const noexcept {
  return child_->log_path();
}
std::string RecorderProcess::log() const {
  return child_->log();
}
std::string RecorderProcess::log_tail(std::size_t bytes) const {
  return child_->log_tail(bytes);
}
std::vector<std::string> RecorderProcess::log_lines_with(const std::string& message) const {
  return child_->log_lines_with(message);
}
bool RecorderProcess::wait_for_log(const std::string& message, std::chrono::milliseconds timeout) const {
  return child_->wait_for_log(message, timeout);
}

RecorderRun run_recorder(std::vector<std::string> args, std::chrono::milliseconds timeout,
                         std::vector<std::string> environment) {
  RecorderProcess process(std::move(args), std::move(environment));
  RecorderRun run;
  run.exit_code = process.wait_exit(timeout);
  if (!run.exit_code) process.kill9();
  run.output = process.log();
  return run;
}

std::vector<std::string> recorded_events(const std::string& path) {
  std::vector<std::string> events;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const core::RecordLineResult record = core::read_record_line(line);
    events.push_back(record.ok() ? record->event_bytes : "<bad line: " + line + ">");
  }
  return events;
}

}  // namespace ovalstream::recorder::itest
