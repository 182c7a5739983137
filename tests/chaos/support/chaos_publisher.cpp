#include "chaos/support/chaos_publisher.hpp"

#include <nats/nats.h>

#include <stdexcept>

#include "ovalstream/core/subject.hpp"
#include "ovalstream/nats/connection.hpp"

namespace ovalstream::chaos {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

ChaosPublisher::ChaosPublisher(const std::string& urls) {
  nats::ConnectionOptions options;
  options.url = urls;
  options.name = "ovalstream-chaos-publisher";
  options.reconnect_wait = 100ms;
  options.request_timeout = 2s;
  auto connection = nats::Connection::connect(options);
  if (!connection) throw std::runtime_error("publisher cannot connect: " + connection.error().message);
  connection_ = std::move(connection).value();
}

ChaosPublisher::~ChaosPublisher() {
  stop();
}

void ChaosPublisher::start(std::vector<core::Event> events, std::chrono::milliseconds interval,
                           std::string id_prefix, std::chrono::milliseconds give_up) {
  stop();
  {
    std::lock_guard lock(mutex_);
    published_.clear();
    error_.clear();
  }
  stopping_ = false;
  done_ = false;
  thread_ =
      std::thread([this, events = std::move(events), interval, id_prefix = std::move(id_prefix),
                   give_up]() mutable { run(std::move(events), interval, std::move(id_prefix), give_up); });
}

bool ChaosPublisher::wait(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!done_ && Clock::now() < deadline) std::this_thread::sleep_for(20ms);
  if (!done_) return false;
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mutex_);
  return error_.empty();
}

void ChaosPublisher::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

std::vector<Published> ChaosPublisher::published() const {
  std::lock_guard lock(mutex_);
  return published_;
}

std::size_t ChaosPublisher::published_count() const {
  std::lock_guard lock(mutex_);
  return published_.size();
}

std::string ChaosPublisher::error() const {
  std::lock_guard lock(mutex_);
  return error_;
}

void ChaosPublisher::run(std::vector<core::Event> events, std::chrono::milliseconds interval,
                         std::string id_prefix, std::chrono::milliseconds give_up) {
  core::HeatGroupAssigner groups;
  const auto started = Clock::now();
  for (std::size_t i = 0; i < events.size() && !stopping_; ++i) {
    // Paced from the start, so time lost to retries is caught up instead of stretching the run.
    std::this_thread::sleep_until(started + interval * static_cast<long>(i));
    const core::Event& event = events[i];
    const auto subject = core::subject_for(event.header, groups.observe(event.header));
    if (!subject) {
      std::lock_guard lock(mutex_);
      error_ = "event " + std::to_string(i) + " has no subject";
      break;
    }
    const std::string message_id = id_prefix + "-" + std::to_string(i);
    const auto deadline = Clock::now() + give_up;
    std::string last_error;
    bool acknowledged = false;
    while (!stopping_ && Clock::now() < deadline) {
      jsPubOptions options;
      jsPubOptions_Init(&options);
      options.MsgId = message_id.c_str();
      options.MaxWait = 2000;
      jsPubAck* ack = nullptr;
      jsErrCode js_error = static_cast<jsErrCode>(0);
      const natsStatus status =
          js_Publish(&ack, connection_->jetstream(), subject->c_str(), event.raw().data(),
                     static_cast<int>(event.raw().size()), &options, &js_error);
      if (status == NATS_OK && ack != nullptr) {
        std::lock_guard lock(mutex_);
        published_.push_back(Published{event, ack->Sequence, *subject});
        jsPubAck_Destroy(ack);
        acknowledged = true;
        break;
      }
      if (ack != nullptr) jsPubAck_Destroy(ack);
      last_error = std::string(natsStatus_GetText(status)) + " (JetStream error " +
                   std::to_string(static_cast<int>(js_error)) + ")";
      ++retries_;
      std::this_thread::sleep_for(100ms);
    }
    if (!acknowledged) {
      std::lock_guard lock(mutex_);
      if (!stopping_)
        error_ = "event " + std::to_string(i) + " (" + message_id + ") not acknowledged: " + last_error;
      break;
    }
  }
  done_ = true;
}

}  // namespace ovalstream::chaos
