#pragma once
// One competition's live state and its websocket subscribers, on one serialized executor (a strand).
// Taking the snapshot and joining the live stream happen in one step on that strand, so a subscriber gets
// no gap and no duplicate: every later event is queued after its snapshot.
// Events reach the strand through an inbox: one strand turn applies every event that arrived meanwhile and
// sends each subscriber those events in one call, encoded once as one block. Under load a client then gets
// one write per batch of events instead of one per event (the write system call per client and event was
// most of the cost of fan-out), and at low rates each event still leaves at once.
// Fan-out lanes: the subscribers are split into `lanes` groups, each with its own strand, so that one
// competition's writes to its clients run on every io thread instead of one. The feed's strand still applies
// every event, encodes each batch once and joins every client; it hands each batch (shared, not copied) to
// every lane in order. A client stays in the lane it joined for its life (the lane with the fewest clients at
// the time), and only that lane sends to it after its join, so its frames keep the feed's order. With one
// lane (lanes = 1) the lane's work runs inline on the feed's strand, as before lanes existed.
// A competition activation goes out followed by what the state kept below the competition (the frames a late
// joiner's snapshot holds after it), since clients reset their view at an activation.
// Thread safety: all public members may be called from any thread; they post to the strand.

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ovalstream/core/competition_state.hpp"
#include "ovalstream/core/resume_window.hpp"
#include "ovalstream/hub/connection.hpp"
#include "ovalstream/runtime/posted_drain_queue.hpp"
#include "resume.hpp"

namespace ovalstream::aggregator {

// What a feed reports, for metrics. Called on the feed's strand.
class FeedObserver {
 public:
  virtual ~FeedObserver() = default;
  virtual void snapshot_sent(std::size_t events, std::size_t bytes) = 0;
  virtual void duplicate_skipped() = 0;
  // A client that asked to resume: `exact` when it got only what it missed (`bytes` of events), else it got
  // its snapshot.
  virtual void resume_served(bool exact, std::size_t bytes) = 0;
};

class CompetitionFeed : public std::enable_shared_from_this<CompetitionFeed> {
 public:
  // `lanes`: fan-out lanes (at least 1; see above).
  CompetitionFeed(boost::asio::io_context& io, std::string competition_id,
                  std::shared_ptr<FeedObserver> observer, core::ResumeLimits resume_limits = {},
                  std::chrono::milliseconds resume_catch_up_wait = kResumeCatchUpWait, std::size_t lanes = 1);

  const std::string& competition_id() const noexcept { return competition_id_; }

  // The most events the inbox holds. Past it apply() still takes the event (nothing is lost) but returns
  // false: the caller should then wait_for_room() once it holds no lock, so that the backlog stays upstream
  // in nats.c's bounded pending queue instead of growing here.
  static constexpr std::size_t kInboxLimit = 4096;
  // Events sent to the subscribers as one block at most: a longer backlog leaves in several blocks, so that
  // a block stays far below a client's queue bound.
  static constexpr std::size_t kMaxBlockEvents = 256;
  // A client resuming at a position this replica has not read yet (it comes from a replica that is a little
  // ahead, or this one restarted and is catching up) waits this long for it by default before it gets the
  // reset and the snapshot instead.
  static constexpr std::chrono::milliseconds kResumeCatchUpWait{5000};

  // Queues an event of this competition; the strand applies it and forwards it to every subscriber (unless
  // it is a duplicate). The first event a feed applies makes it "followed". False when the inbox is over
  // kInboxLimit.
  // `context`: what positions mean while the current consumer reads the stream (epoch, floor).
  bool apply(core::Event event, core::Position position, std::int64_t published_ns,
             SharedStreamContext context = nullptr);
  // Blocks until the inbox is under kInboxLimit or `timeout` passed; false on timeout.
  bool wait_for_room(std::chrono::milliseconds timeout);

  // Sends the snapshot to `connection`, then every later event. A competition not (yet) active sends
  // nothing until its activation. With `request.positions` the control frames of docs/protocol.md follow
  // the snapshot and each batch; with `request.since` only what the client missed, when the resume window
  // covers it (else a reset frame, then the snapshot); a position this replica has not reached yet is
  // waited for, up to `resume_catch_up_wait`. `context`: the registry's, for a feed that has not
  // seen an event of the current consumer yet.
  void join(std::shared_ptr<hub::Connection> connection, ResumeRequest request = {},
            SharedStreamContext context = nullptr);
  void leave(std::shared_ptr<hub::Connection> connection);

  // Forgets the state (garbage collection, or a rebuild) after the events queued before it. Subscribers
  // stay and get the competition again when it is followed again: its activation, which resets their view,
  // then its events (subscribers with positions get a reset frame now and a live frame then).
  void reset();

  // Calls `done` on the strand with the JSON state view ("null" when not followed).
  void state_view(std::function<void(std::string)> done);

  // Its websocket clients (joined and not left, or waiting for a resume), as of the last change on the
  // strand. A client a lane dropped because it was closing counts until its leave (its on_close).
  std::size_t clients() const noexcept { return clients_.load(std::memory_order_relaxed); }
  // Events waiting in the inbox now, with those the lanes have yet to send (bounded by kInboxLimit plus what
  // arrived while over it).
  std::size_t inbox_events();
  std::size_t lanes() const noexcept { return lanes_.size(); }

  // The number of subscribers and whether the state is empty, read on the strand.
  void inspect(std::function<void(std::size_t subscribers, bool followed)> done);

 private:
  // An event, or (no event) a reset, in arrival order.
  struct Inbound {
    std::optional<core::Event> event;
    core::Position position = 0;
    std::int64_t published_ns = 0;
    SharedStreamContext context;
  };
  struct Subscriber {
    std::shared_ptr<hub::Connection> connection;
    bool positions = false;  // sends the control frames
  };
  // A batch of frames encoded once (on the feed's strand) for every lane. Immutable once handed out, except
  // lanes_left.
  struct Batch {
    std::vector<hub::Frame> frames;           // for subscribers without positions
    hub::Frame block;                         // make_frame_block(frames) when frames has several
    std::vector<hub::Frame> position_frames;  // frames and the control frame, for those with positions
    hub::Frame position_block;
    std::size_t events = 0;                  // counted in the inbox until every lane sent it
    std::atomic<std::size_t> lanes_left{0};  // lanes that have yet to send it
  };
  struct Lane;
  using LaneWork = std::function<void(CompetitionFeed&, Lane&)>;
  // What the feed's strand hands a lane: a batch to send, or other work (a subscriber joins or leaves, a
  // reset), run in the order handed out.
  struct LaneItem {
    std::shared_ptr<Batch> batch;  // or
    LaneWork work;
  };
  // A group of subscribers with its own strand. With one lane the strand is the feed's.
  struct Lane {
    explicit Lane(boost::asio::strand<boost::asio::io_context::executor_type> lane_strand)
        : strand(std::move(lane_strand)) {}
    boost::asio::strand<boost::asio::io_context::executor_type> strand;
    std::vector<Subscriber> subscribers;  // the lane's strand only
    // Handed out and not yet run: a lane that falls behind finds several batches here at once and sends
    // them to each client in one write (as the feed's inbox does for events), instead of a write per batch
    // per client. Bounded with the inbox: every batch's events count in lane_backlog_events_.
    runtime::PostedDrainQueue<LaneItem> queue;
    std::vector<LaneItem> running;  // the lane's strand only: the queue taken by the drain running
  };
  // Where a subscribed connection is, and how many times it joined (feed's strand only).
  struct Membership {
    std::size_t lane = 0;
    std::uint32_t joins = 0;
    std::uint32_t position_joins = 0;
  };
  // A resume at a position ahead of what this replica has read: served once it gets there, or at the timer.
  struct PendingResume {
    std::shared_ptr<hub::Connection> connection;
    ResumeRequest request;
    std::shared_ptr<boost::asio::steady_timer> deadline;
  };

  // Queues `inbound` and posts a drain unless one is pending. False when the inbox is over its limit.
  bool enqueue(Inbound inbound);
  // On the strand: handles everything in the inbox.
  void drain();
  // On the strand. Appends the frames to forward, if any, to pending_frames_.
  void apply_on_strand(const Inbound& inbound);
  void reset_on_strand();
  // Sends pending_frames_ to every subscriber, one block per subscriber (subscribers that are closed or
  // closing leave), and clears it: encoded once here, sent by each lane.
  void forward_pending();
  // On the feed's strand: runs `work` on `lane`'s strand after everything handed to it before; inline with
  // one lane. Every lane's work is handed out from the feed's strand, so each lane sees the feed's order.
  void on_lane(std::size_t lane, LaneWork work);
  // On the feed's strand: hands `batch` to `lane` (inline with one lane).
  void hand_batch(std::size_t lane, const std::shared_ptr<Batch>& batch);
  // Queues an item for `lane` and posts the lane's drain unless one is pending.
  void enqueue_on_lane(std::size_t lane, LaneItem item);
  // On a lane's strand: runs what the queue holds, consecutive batches merged into one send per client.
  void drain_lane(Lane& lane);
  // On a lane's strand: `batches` (two or more, in order) as one batch, encoded once for the lane.
  static std::unique_ptr<Batch> merge_batches(const Lane& lane,
                                              const std::vector<std::shared_ptr<Batch>>& batches);
  // On the feed's strand, after what was sent to the connection at its join: every later batch goes to it,
  // from its lane.
  void subscribe(const std::shared_ptr<hub::Connection>& connection, bool positions);
  // On a lane's strand.
  static void send_batch(Lane& lane, const Batch& batch);
  // On any lane's strand: the batch was sent by one more lane.
  void batch_sent(Batch& batch);
  // False when the connection is closed or closing.
  bool send_snapshot(const std::shared_ptr<hub::Connection>& connection);
  // On the strand: a join with positions (see join()).
  // `may_wait`: a position not read yet is waited for (PendingResume) instead of answered with a reset.
  void join_with_positions(const std::shared_ptr<hub::Connection>& connection, const ResumeRequest& request,
                           const SharedStreamContext& context, bool may_wait = true);
  // On the strand, after a drain: serves the pending resumes whose position the window reached, and falls
  // back to the snapshot for those it never will (the window's floor passed them).
  void serve_pending_resumes();
  void resume_deadline_passed(const std::shared_ptr<hub::Connection>& connection);
  // On the strand, after subscribers_ or pending_resumes_ changed: publishes clients().
  void count_clients();
  const std::string& epoch() const;

  boost::asio::strand<boost::asio::io_context::executor_type> strand_;

  runtime::PostedDrainQueue<Inbound> inbox_;
  // Events handed to the lanes that not every lane has sent yet (with more than one lane).
  std::atomic<std::size_t> lane_backlog_events_{0};
  std::atomic<std::size_t> clients_{0};  // written on the strand, read by scrapes

  // Strand only.
  std::vector<Inbound> draining_;           // the inbox taken by the drain running
  std::vector<hub::Frame> pending_frames_;  // applied in this drain, not yet sent
  std::string competition_id_;
  std::shared_ptr<FeedObserver> observer_;
  std::optional<core::CompetitionState> state_;
  // The JSON state view of state version view_version_: a plain GET in a loop must not redo its parse.
  std::optional<std::uint64_t> view_version_;
  std::string view_;
  std::vector<std::unique_ptr<Lane>> lanes_;  // fixed at construction
  // Subscribers that joined and have not left (a lane drops a closed one before it leaves), by lane.
  std::unordered_map<const hub::Connection*, Membership> members_;
  std::vector<std::size_t> lane_joins_;   // joins per lane, for placing the next subscriber
  std::size_t subscriber_joins_ = 0;      // over every lane
  std::size_t position_subscribers_ = 0;  // of those, the ones with positions
  // Bounded by the connections the hub accepts; each leaves at its deadline.
  std::vector<PendingResume> pending_resumes_;
  // What clients received by position, for resumes; its floor comes from the stream context when the feed
  // first holds a state, else (after a reset) from the first event after it.
  core::ResumeWindow window_;
  std::chrono::milliseconds resume_catch_up_wait_;
  bool had_state_ = false;
  SharedStreamContext context_;  // of the latest event
  bool announce_live_ = false;   // after a reset: the next batch ends with a live frame, not a position frame
  core::SharedSnapshot framed_snapshot_;  // the snapshot snapshot_frames_ encode
  std::vector<hub::Frame> snapshot_frames_;
  hub::Frame snapshot_block_;  // snapshot_frames_ encoded back to back: what a websocket is sent
  std::size_t snapshot_bytes_ = 0;
};

}  // namespace ovalstream::aggregator
