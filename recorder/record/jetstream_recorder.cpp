#include "record/jetstream_recorder.hpp"

#include "ovalstream/core/event.hpp"
#include "ovalstream/core/subject.hpp"
#include "ovalstream/nats/jetstream.hpp"

#include "common/stoppable_sleep.hpp"

#include <algorithm>
#include <optional>
#include <thread>
#include <utility>

namespace ovalstream::recorder {

using namespace std::chrono_literals;

std::function<bool(std::string_view, std::string_view)> competition_filter(std::string competition_id) {
  const std::string root(core::kSubjectRoot);
  const std::string own = root + "." + competition_id;
  const std::string activations = root + ".activations";
  return [own, activations, competition_id](std::string_view subject, std::string_view data) {
    if (subject == own ||
        (subject.size() > own.size() && subject.substr(0, own.size()) == own && subject[own.size()] == '.')) {
      return true;
    }
    if (subject != activations) return false;
    // Only the routing fields are read; an event that does not parse is not this competition's.
    const core::ParseResult parsed = core::parse_event(data);
    return parsed.ok() && parsed->header.type == core::EventType::kCompetitionActivated &&
           parsed->header.competition_id == competition_id;
  };
}

JetstreamRecorder::JetstreamRecorder(const nats::Connection& connection, RecordingWriter& writer,
                                     JetstreamRecorderOptions options, runtime::Logger logger,
                                     RecordObserver& observer)
    : connection_(connection),
      writer_(writer),
      options_(std::move(options)),
      logger_(std::move(logger)),
      observer_(observer) {}

void JetstreamRecorder::stop() noexcept {
  stop_.store(true);
}

bool JetstreamRecorder::pause(std::chrono::milliseconds duration) {
  return sleep_unless_stopped(stop_, duration);
}

bool JetstreamRecorder::position_consumer(std::unique_ptr<nats::DurableConsumer>& consumer, bool& fatal) {
  const auto& consumer_options = options_.consumer;
  auto stream = nats::stream_info(connection_, consumer_options.stream);
  if (!stream.ok() || !stream->exists) {
    logger_.log_every("stream", 10s, runtime::LogLevel::kError, "cannot look up the stream",
                      {{"stream", consumer_options.stream},
                       {"error", stream.ok() ? std::string("no such stream") : stream.error().message}});
    consumer.reset();
    return false;
  }
  const bool recreated = (stream_created_ns_ != 0 && stream->created_ns != stream_created_ns_) ||
                         writer_.last_sequence() > stream->last_sequence;
  if (recreated) {
    // Its sequences start at 1 again: from the old position every event of the new stream up to it would be
    // skipped as already written.
    logger_.warn("the stream was created again; recording it from its first event",
                 {{"stream", consumer_options.stream},
                  {"old_position", writer_.last_sequence()},
                  {"stream_last_sequence", stream->last_sequence}});
    if (const auto restarted = writer_.restart_sequence(); !restarted.ok()) {
      logger_.log_every("write", 10s, runtime::LogLevel::kError, "cannot write the recording's position",
                        {{"error", restarted.error().message()}});
      return false;
    }
    consumer.reset();  // the durable went with the old stream
  }
  stream_created_ns_ = stream->created_ns;
  if (!consumer) {
    auto opened = nats::DurableConsumer::open(connection_, consumer_options);
    if (!opened.ok()) {
      const nats::Error& status = opened.error();
      // A durable of that name with another filter: a retry cannot fix it.
      fatal = status.code == NATS_ERR && status.jetstream_error == 0;
      logger_.log_every("consumer", 10s, runtime::LogLevel::kError, "cannot open the durable consumer",
                        {{"durable", consumer_options.durable},
                         {"stream", consumer_options.stream},
                         {"error", status.message}});
      return false;
    }
    consumer = std::move(opened).value();
  }
  const std::uint64_t position = writer_.last_sequence();
  auto state = consumer->state();
  if (!state.ok()) {
    logger_.log_every("consumer", 10s, runtime::LogLevel::kError, "cannot read the durable consumer's state",
                      {{"durable", consumer_options.durable}, {"error", state.error().message}});
    consumer.reset();  // opened again next time (created when it is gone, e.g. with its stream)
    return false;
  }
  if (state->ack_pending == 0 && state->delivered_stream_sequence == position) {
    logger_.info("durable consumer bound", {{"durable", consumer_options.durable},
                                            {"filter", consumer_options.filter_subject},
                                            {"resume_after", position},
                                            {"pending", state->pending}});
    return true;
  }
  if (nats::Status repositioned = consumer->reposition(position + 1); !repositioned.ok()) {
    logger_.log_every("consumer", 10s, runtime::LogLevel::kError, "cannot reposition the durable consumer",
                      {{"durable", consumer_options.durable}, {"error", repositioned.error().message}});
    consumer.reset();
    return false;
  }
  logger_.info("durable consumer repositioned at the recording's position",
               {{"durable", consumer_options.durable},
                {"filter", consumer_options.filter_subject},
                {"resume_after", position},
                {"server_delivered", state->delivered_stream_sequence},
                {"server_ack_pending", state->ack_pending}});
  return true;
}

int JetstreamRecorder::run() {
  std::unique_ptr<nats::DurableConsumer> consumer;
  bool positioned = false;
  std::chrono::milliseconds consumer_backoff = 100ms;
  // The consumer sequence of the last delivery, from the server's count when the consumer was positioned
  // (none when that lookup failed: the first delivery then sets it).
  std::optional<std::uint64_t> last_delivery;
  auto next_consumer_check = std::chrono::steady_clock::now();
  while (!stopping()) {
    if (!positioned) {
      bool fatal = false;
      last_delivery.reset();
      positioned = position_consumer(consumer, fatal);
      if (positioned) {
        if (auto state = consumer->state(); state.ok()) last_delivery = state->delivered_consumer_sequence;
      }
      if (fatal) return 1;
      if (!positioned) {
        if (!pause(consumer_backoff)) break;
        consumer_backoff = std::min(consumer_backoff * 2, options_.max_backoff);
        continue;
      }
      consumer_backoff = 100ms;
      next_consumer_check = std::chrono::steady_clock::now() + options_.consumer_check_interval;
    }
    auto fetched = consumer->fetch(options_.batch, options_.fetch_timeout);
    if (!fetched.ok()) {
      // Messages of a failed fetch may be held unacknowledged by the server: put the consumer back at the
      // recording's position before fetching again (see the header).
      logger_.log_every("fetch", 10s, runtime::LogLevel::kWarn, "fetch failed; repositioning the consumer",
                        {{"error", fetched.error().message}});
      positioned = false;
      if (!pause(consumer_backoff)) break;
      consumer_backoff = std::min(consumer_backoff * 2, options_.max_backoff);
      continue;
    }
    if (fetched->empty()) {
      const auto now = std::chrono::steady_clock::now();
      if (now < next_consumer_check) continue;
      next_consumer_check = now + options_.consumer_check_interval;
      if (auto state = consumer->state(); !state.ok()) {
        logger_.log_every("consumer-lookup", 10s, runtime::LogLevel::kWarn,
                          "the durable consumer cannot be looked up; repositioning it",
                          {{"durable", options_.consumer.durable}, {"error", state.error().message}});
        positioned = false;
      }
      continue;
    }
    for (nats::PulledMessage& message : fetched.value()) {
      if (stopping()) break;  // unacknowledged: redelivered, or re-read after repositioning
      if (last_delivery && message.consumer_sequence != *last_delivery + 1) {
        // A delivery between the two never reached us (lost with a connection or a failed-over consumer
        // leader). The server redelivers it only after --ack-wait, after newer ones, and by then the
        // position has passed it and it would be skipped: put the consumer back at the position instead.
        logger_.log_every("delivery-gap", 10s, runtime::LogLevel::kWarn,
                          "a delivery was lost on the way; repositioning the consumer",
                          {{"consumer_sequence", message.consumer_sequence},
                           {"expected", *last_delivery + 1},
                           {"position", writer_.last_sequence()}});
        positioned = false;
        break;
      }
      last_delivery = message.consumer_sequence;
      observer_.on_consumer_pending(message.pending);
      if (options_.accept && !options_.accept(message.subject, *message.data)) {
        // Handled without a line: recorded as the position so a clean restart finds the consumer exactly
        // there. When that fails, it is not acknowledged (it comes again and is skipped again).
        if (writer_.skip(message.stream_sequence).ok()) (void)consumer->ack(message);
        continue;
      }
      const RecordEntry entry{message.stream_sequence, message.subject, *message.data,
                              local_record_time(message.timestamp_ns)};
      std::chrono::milliseconds write_backoff = 100ms;
      AppendOutcome outcome = AppendOutcome::kRejected;
      bool done = false;
      while (!done) {
        const auto appended = writer_.append(entry);
        if (appended.ok()) {
          outcome = *appended;
          done = true;
          break;
        }
        logger_.log_every("write", 10s, runtime::LogLevel::kError,
                          "cannot write the recording; the event stays unacknowledged and is retried",
                          {{"error", appended.error().message()},
                           {"sequence", message.stream_sequence},
                           {"subject", message.subject},
                           {"retry_in_ms", write_backoff.count()}});
        if (!pause(write_backoff)) break;
        write_backoff = std::min(write_backoff * 2, options_.max_backoff);
      }
      if (!done) break;  // stopping
      if (outcome == AppendOutcome::kWritten) written_.fetch_add(1);
      if (nats::Status acked = consumer->ack(message); !acked.ok()) {
        // Written and in the sidecar: a redelivery is skipped as a duplicate.
        logger_.log_every("ack", 10s, runtime::LogLevel::kWarn,
                          "acknowledgement failed (the event is written)",
                          {{"sequence", message.stream_sequence}, {"error", acked.error().message}});
      }
    }
  }
  // Every written message has been acknowledged above; flush the acknowledgements before returning.
  if (consumer) (void)natsConnection_FlushTimeout(connection_.native(), 2000);
  logger_.info("recording stopped", {{"last_sequence", writer_.last_sequence()}, {"written", written()}});
  return 0;
}

}  // namespace ovalstream::recorder
