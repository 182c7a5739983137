#include "chaos/support/chaos_client.hpp"

#include <memory>
#include <sstream>

#include "aggregator/support/ws_clients.hpp"
#include "ovalstream/core/control_frame.hpp"

namespace ovalstream::chaos {

using namespace std::chrono_literals;
using aggregator::itest::RawWsClient;
using Clock = std::chrono::steady_clock;

namespace {
constexpr std::uint8_t kText = 0x1;
constexpr std::uint8_t kClose = 0x8;
constexpr std::uint8_t kPing = 0x9;
constexpr std::uint8_t kPong = 0xA;
}  // namespace

void AggregatorDirectory::set(std::size_t index, std::uint16_t port) {
  std::lock_guard lock(mutex_);
  ports_.at(index) = port;
}

std::uint16_t AggregatorDirectory::port(std::size_t index) const {
  std::lock_guard lock(mutex_);
  return ports_.at(index);
}

ChaosClient::ChaosClient(ChaosClientOptions options, const AggregatorDirectory& directory)
    : options_(std::move(options)), directory_(directory) {}

ChaosClient::~ChaosClient() {
  stop();
}

void ChaosClient::start() {
  thread_ = std::thread([this] { run(); });
}

void ChaosClient::stop_churn() {
  churn_stopped_ = true;
}

void ChaosClient::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

bool ChaosClient::settled_at(core::Position position) const {
  std::lock_guard lock(mutex_);
  return connected_ && live_ && position_ == position && pending_.empty();
}

std::string ChaosClient::epoch() const {
  std::lock_guard lock(mutex_);
  return epoch_;
}

std::string ChaosClient::describe() const {
  std::lock_guard lock(mutex_);
  std::ostringstream out;
  out << options_.name << ": " << (connected_ ? "connected" : "not connected") << (live_ ? ", live" : "")
      << ", position " << (position_ ? std::to_string(*position_) : std::string("none")) << " epoch "
      << epoch_ << ", " << committed_.size() << " committed and " << pending_.size() << " pending frames, "
      << segments_.size() << " segments (ended:";
  for (const Segment& segment : segments_) out << " [" << (segment.end.empty() ? "open" : segment.end) << "]";
  out << ")";
  if (!segments_.empty()) {
    out << "; last segment " << segments_.back().target << " on aggregator " << segments_.back().aggregator
        << " (" << segments_.back().frames.size() << " frames" << (segments_.back().end.empty() ? "" : ", ")
        << segments_.back().end << ")";
  }
  return out.str();
}

std::vector<std::string> ChaosClient::view_frames() const {
  std::lock_guard lock(mutex_);
  return committed_;
}

std::vector<Segment> ChaosClient::segments() const {
  std::lock_guard lock(mutex_);
  return segments_;
}

std::size_t ChaosClient::reconnects() const {
  std::lock_guard lock(mutex_);
  return reconnects_;
}

void ChaosClient::handle_text(std::string text) {
  std::lock_guard lock(mutex_);
  const auto control = core::parse_control_frame(text);
  segments_.back().frames.push_back(std::move(text));
  if (!control) {
    pending_.push_back(segments_.back().frames.back());
    return;
  }
  switch (control->kind) {
    case core::ControlFrame::Kind::kLive:
      epoch_ = control->epoch;
      live_ = true;
      [[fallthrough]];
    case core::ControlFrame::Kind::kPosition:
      committed_.insert(committed_.end(), pending_.begin(), pending_.end());
      pending_.clear();
      position_ = control->position;
      break;
    case core::ControlFrame::Kind::kReset:
      committed_.clear();
      pending_.clear();
      position_.reset();
      live_ = false;
      break;
  }
}

void ChaosClient::end_segment(const std::string& why) {
  std::lock_guard lock(mutex_);
  if (!connected_) return;
  segments_.back().end = why;
  pending_.clear();  // not confirmed by a position: a resume sends them again
  connected_ = false;
  live_ = false;
}

void ChaosClient::run() {
  const auto started = Clock::now();
  std::size_t next_step = 0;
  std::size_t target = options_.home;
  bool fresh = true;
  std::unique_ptr<RawWsClient> socket;
  auto last_heard = Clock::now();
  auto last_ping = Clock::now();
  const auto other = [this](std::size_t index) { return (index + 1) % directory_.size(); };
  const auto drop = [&](const std::string& why) {
    end_segment(why);
    socket.reset();
    target = other(target);  // the load balancer sends the reconnect elsewhere
  };

  while (!stopping_) {
    const auto now = Clock::now();
    if (!churn_stopped_ && next_step < options_.churn.size() &&
        now >= started + options_.churn[next_step].at) {
      const ChurnStep step = options_.churn[next_step++];
      if (socket) {
        (void)socket->send_frame(kClose, std::string("\x03\xe8", 2));
        end_segment("left");
        socket.reset();
      }
      const auto back = Clock::now() + step.away;
      while (!stopping_ && !churn_stopped_ && Clock::now() < back) std::this_thread::sleep_for(20ms);
      fresh = fresh || step.fresh;
      target = options_.home;
      continue;
    }

    if (!socket) {
      const std::uint16_t port = directory_.port(target);
      if (port == 0) {
        target = other(target);
        std::this_thread::sleep_for(100ms);
        continue;
      }
      std::optional<core::Position> since;
      std::string epoch;
      {
        std::lock_guard lock(mutex_);
        if (fresh) {
          committed_.clear();
          position_.reset();
          epoch_.clear();
        }
        since = position_;
        epoch = epoch_;
      }
      const std::string path =
          "/v1/competitions/" + options_.competition_id +
          (since ? "?since=" + std::to_string(*since) + "&epoch=" + epoch : std::string("?positions=1"));
      auto candidate = std::make_unique<RawWsClient>(port);
      if (!candidate->connected() || !candidate->handshake(path, 3s)) {
        target = other(target);
        std::this_thread::sleep_for(100ms);
        continue;
      }
      socket = std::move(candidate);
      {
        std::lock_guard lock(mutex_);
        segments_.push_back(Segment{target, path, since, {}, {}});
        connected_ = true;
        live_ = false;
        pending_.clear();
        ++reconnects_;
      }
      fresh = false;
      last_heard = last_ping = Clock::now();
      continue;
    }

    auto frame = socket->read_frame(50ms);
    if (frame) {
      last_heard = Clock::now();
      if (frame->opcode() == kText) {
        handle_text(std::move(frame->payload));
      } else if (frame->opcode() == kClose) {
        drop("closed " + std::to_string(frame->close_code()));
        continue;
      } else if (frame->opcode() == kPing) {
        (void)socket->send_frame(kPong, frame->payload);
      } else if (frame->opcode() != kPong) {
        drop("unexpected opcode " + std::to_string(frame->opcode()));
        continue;
      }
    } else if (socket->eof() || socket->reset()) {
      drop(socket->eof() ? "eof" : "reset");
      continue;
    }
    if (Clock::now() - last_heard > options_.dead_after) {
      drop("no pong within " + std::to_string(options_.dead_after.count()) + " ms");
      continue;
    }
    if (Clock::now() - last_ping >= options_.ping_every) {
      if (!socket->send_frame(kPing, "chaos")) {
        drop("ping not sent");
        continue;
      }
      last_ping = Clock::now();
    }
  }
  if (socket) end_segment("stopped");
}

}  // namespace ovalstream::chaos
