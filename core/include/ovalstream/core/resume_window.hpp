#pragma once
// What one competition's clients received recently, by stream position, so that a client that reconnects
// with the position it had reached gets exactly what it missed instead of a full snapshot (docs/protocol.md,
// "Resume"). Bounded by bytes and by age (the events' stored times, no clock); what falls out raises the
// floor, below which a resume is refused and the client gets its snapshot.
// Thread safety: none; belongs to its competition's serialized executor, like CompetitionState.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "ovalstream/core/competition_state.hpp"
#include "ovalstream/core/event.hpp"

namespace ovalstream::core {

struct ResumeLimits {
  std::size_t max_bytes = 4u << 20;                     // payload bytes of the retained frames
  std::int64_t max_age_ns = 10LL * 60 * 1'000'000'000;  // from the oldest to the newest stored time
};

class ResumeWindow {
 public:
  explicit ResumeWindow(ResumeLimits limits = {}, Position floor = 0) : limits_(limits), floor_(floor) {}

  // The frames clients received for the event at `position` (stored at `stored_ns`), in order: the event
  // itself, or an activation followed by what the state kept. Positions must increase; evicts past the
  // limits (the newest entry always stays).
  // `starts_view`: the frames are an applied competition activation, at which every client starts its view
  // afresh (docs/protocol.md). What came before it is then forgotten, and a client at any older position
  // of the stream is served from the activation on: the same view as a client that never left, from less.
  void append(Position position, std::int64_t stored_ns, std::vector<EventBytes> frames,
              bool starts_view = false);

  // Forgets everything; every event of the competition after `floor` will be appended.
  void reset(Position floor);

  // Every event of the competition with a position in (floor(), last()] is in the window.
  Position floor() const noexcept { return floor_; }
  // The position of the newest entry, or floor() when empty.
  Position last() const noexcept { return entries_.empty() ? floor_ : entries_.back().position; }
  // True when frames_after(position) gives a client at `position` the view of one that never left: exactly
  // what it missed, or (older than an activation the window starts with) everything from the activation.
  bool covers(Position position) const noexcept {
    return position <= last() && (position >= floor_ || starts_with_activation_);
  }
  // The frames of every entry after `position`, in order (empty when not covers(position)).
  std::vector<EventBytes> frames_after(Position position) const;

  std::size_t bytes() const noexcept { return bytes_; }
  std::size_t size() const noexcept { return entries_.size(); }

 private:
  struct Entry {
    Position position = 0;
    std::int64_t stored_ns = 0;
    std::vector<EventBytes> frames;
    std::size_t bytes = 0;
  };
  void evict();

  ResumeLimits limits_;
  Position floor_ = 0;
  bool starts_with_activation_ = false;  // the front entry starts every client's view afresh
  std::deque<Entry> entries_;
  std::size_t bytes_ = 0;
};

}  // namespace ovalstream::core
