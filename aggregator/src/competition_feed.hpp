#pragma once
// One competition's live state and its websocket subscribers, on one serialized executor (a strand).
// Taking the snapshot and joining the live stream happen in one step on that strand, so a subscriber gets
// no gap and no duplicate: every later event is queued after its snapshot.
// Thread safety: all public members may be called from any thread; they post to the strand.

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ovalstream/core/competition_state.hpp"
#include "ovalstream/hub/connection.hpp"

namespace ovalstream::aggregator {

// What a feed reports, for metrics. Called on the feed's strand.
class FeedObserver {
 public:
  virtual ~FeedObserver() = default;
  virtual void snapshot_sent(std::size_t events, std::size_t bytes) = 0;
  virtual void duplicate_skipped() = 0;
  // An activation overtaken by later events of its competition: its clients were sent a fresh snapshot.
  virtual void clients_resynchronized(std::size_t clients) = 0;
};

class CompetitionFeed : public std::enable_shared_from_this<CompetitionFeed> {
 public:
  CompetitionFeed(boost::asio::io_context& io, std::string competition_id,
                  std::shared_ptr<FeedObserver> observer);

  const std::string& competition_id() const noexcept { return competition_id_; }

  // Applies an event of this competition and forwards it to every subscriber (unless it is a duplicate).
  // The first event a feed applies makes it "followed".
  void apply(core::Event event, core::Position position, std::int64_t published_ns);

  // Sends the snapshot to `connection`, then every later event. A competition not (yet) active sends
  // nothing until its activation.
  void join(std::shared_ptr<hub::Connection> connection);
  void leave(std::shared_ptr<hub::Connection> connection);

  // Forgets the state (garbage collection, or a rebuild). Subscribers stay and get the competition again
  // when it is followed again: its activation, which resets their view, then its events.
  void reset();

  // Calls `done` on the strand with the JSON state view ("null" when not followed).
  void state_view(std::function<void(std::string)> done);

  // The number of subscribers and whether the state is empty, read on the strand.
  void inspect(std::function<void(std::size_t subscribers, bool followed)> done);

 private:
  void apply_on_strand(const core::Event& event, core::Position position, std::int64_t published_ns);
  // False when the connection is closed or closing.
  bool send_snapshot(const std::shared_ptr<hub::Connection>& connection);

  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  std::string competition_id_;
  std::shared_ptr<FeedObserver> observer_;
  std::optional<core::CompetitionState> state_;
  core::Position activation_position_ = 0;  // of the latest competition activation
  std::vector<std::shared_ptr<hub::Connection>> subscribers_;
  core::SharedSnapshot framed_snapshot_;  // the snapshot snapshot_frames_ encode
  std::vector<hub::Frame> snapshot_frames_;
  hub::Frame snapshot_block_;  // snapshot_frames_ encoded back to back: what a websocket is sent
  std::size_t snapshot_bytes_ = 0;
};

}  // namespace ovalstream::aggregator
