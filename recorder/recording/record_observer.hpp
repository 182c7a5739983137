#pragma once
// What recording reports as it goes, for metrics (the serve command's Prometheus counters) and logs.
// Thread safety: the recorder calls an observer from its one recording thread; an implementation shared with
// other threads (a metrics scrape) synchronizes itself.

#include <cstddef>
#include <cstdint>
#include <system_error>

namespace ovalstream::recorder {

class RecordObserver {
 public:
  virtual ~RecordObserver() = default;
  // A line was written (and its position recorded); `bytes` with the newline.
  virtual void on_recorded(std::size_t bytes) { (void)bytes; }
  // A message at or below the recorded position came again (a redelivery) and was acknowledged unwritten.
  virtual void on_duplicate_skipped() {}
  // A message that cannot become a line (not a JSON object, no competition to file it under) was
  // acknowledged unwritten.
  virtual void on_rejected() {}
  // Writing failed; the message is not acknowledged and is tried again.
  virtual void on_write_error(const std::error_code& error) { (void)error; }
  // Messages of the consumer's filter still to come after the last one fetched.
  virtual void on_consumer_pending(std::uint64_t pending) { (void)pending; }
  // The writer reached its bound on open files and closed them (they reopen with their next line).
  virtual void on_open_files_closed_at_bound() {}
};

// Reports nothing (the record command logs instead).
inline RecordObserver& null_record_observer() {
  static RecordObserver observer;
  return observer;
}

}  // namespace ovalstream::recorder
