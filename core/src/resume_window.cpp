#include "ovalstream/core/resume_window.hpp"

#include <algorithm>

namespace ovalstream::core {

void ResumeWindow::append(Position position, std::int64_t stored_ns, std::vector<EventBytes> frames,
                          bool starts_view) {
  if (starts_view) {
    entries_.clear();
    bytes_ = 0;
    floor_ = position - 1;
    starts_with_activation_ = true;
  }
  Entry entry{position, stored_ns, std::move(frames), 0};
  for (const EventBytes& frame : entry.frames) entry.bytes += frame->size();
  bytes_ += entry.bytes;
  entries_.push_back(std::move(entry));
  evict();
}

void ResumeWindow::evict() {
  const std::int64_t newest_ns = entries_.back().stored_ns;
  while (entries_.size() > 1 &&
         (bytes_ > limits_.max_bytes || newest_ns - entries_.front().stored_ns > limits_.max_age_ns)) {
    floor_ = entries_.front().position;
    bytes_ -= entries_.front().bytes;
    entries_.pop_front();
    starts_with_activation_ = false;
  }
}

void ResumeWindow::reset(Position floor) {
  entries_.clear();
  bytes_ = 0;
  floor_ = floor;
  starts_with_activation_ = false;
}

std::vector<EventBytes> ResumeWindow::frames_after(Position position) const {
  std::vector<EventBytes> frames;
  if (!covers(position)) return frames;
  auto it = std::upper_bound(entries_.begin(), entries_.end(), position,
                             [](Position p, const Entry& entry) { return p < entry.position; });
  for (; it != entries_.end(); ++it) frames.insert(frames.end(), it->frames.begin(), it->frames.end());
  return frames;
}

}  // namespace ovalstream::core
