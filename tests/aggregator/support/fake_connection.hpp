#pragma once
// A hub::Connection that collects what the hub would write, and how many calls it took, for tests of the
// registry and the feeds without sockets.
// Thread safety: every member may be called from any thread.

#include <cstddef>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ovalstream/hub/connection.hpp"

namespace ovalstream::testing {

class FakeConnection final : public hub::Connection {
 public:
  bool send(std::span<const hub::Frame> frames) override {
    std::lock_guard lock(mutex_);
    if (!open_) return false;
    ++send_calls_;
    for (const auto& frame : frames) payloads_.push_back(*frame.payload);
    return true;
  }
  void close(std::uint16_t, std::string_view) override {
    std::lock_guard lock(mutex_);
    open_ = false;
  }
  bool is_open() const override {
    std::lock_guard lock(mutex_);
    return open_;
  }
  std::uint64_t id() const override { return 1; }

  std::vector<std::string> payloads() const {
    std::lock_guard lock(mutex_);
    return payloads_;
  }
  // Calls of send() (send_block() included) that queued frames: each is one entry in a real connection's
  // queue.
  std::size_t send_calls() const {
    std::lock_guard lock(mutex_);
    return send_calls_;
  }

 private:
  mutable std::mutex mutex_;
  bool open_ = true;
  std::size_t send_calls_ = 0;
  std::vector<std::string> payloads_;
};

}  // namespace ovalstream::testing
