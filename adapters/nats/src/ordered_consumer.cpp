#include "ovalstream/nats/ordered_consumer.hpp"

#include <atomic>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "ovalstream/nats/handles.hpp"
#include "ovalstream/runtime/mutex.hpp"
#include "subscription_error_router.hpp"

namespace ovalstream::nats {
namespace {

// nats.c 3.4.1 encodes a start time's sub-second part without leading zeros (nats_EncodeTimeUTC prints
// ".%lld"), so 12:00:00.038 goes to the server as 12:00:00.38 and the messages in between are silently
// skipped. A fraction below 100 ms is therefore rounded down to the whole second, which nats.c encodes
// without a fraction; deliver() drops the messages stored before the requested time.
std::int64_t nats_safe_start_time(std::int64_t unix_ns) {
  constexpr std::int64_t kSecond = 1'000'000'000;
  const std::int64_t fraction = unix_ns % kSecond;
  return fraction < kSecond / 10 ? unix_ns - fraction : unix_ns;
}

// How long the destructor waits for nats.c to confirm that a subscription's last callback returned. The
// confirmation only decides when nats.c's closure may be freed; the callbacks stop before the wait.
constexpr std::chrono::seconds kCompletionTimeout{5};

}  // namespace

// Everything the callbacks touch. Each nats.c subscription holds a SubscriptionClosure with a shared_ptr to
// it, freed by the subscription's completion callback, so the State lives as long as any callback can run.
struct OrderedConsumer::State final : detail::SubscriptionErrorSink, std::enable_shared_from_this<State> {
  State(const Connection& connection, std::shared_ptr<detail::SubscriptionErrorRouter> router,
        OrderedConsumerOptions consumer_options, MessageHandler message_handler, StatusHandler status_handler)
      : native_connection(connection.native()),
        jetstream(connection.jetstream()),
        request_timeout(connection.request_timeout()),
        error_router(std::move(router)),
        options(std::move(consumer_options)),
        on_message(std::move(message_handler)),
        on_status(std::move(status_handler)) {}

  // Creates a subscription starting at `start`.
  Status subscribe_locked(const StartPosition& start) REQUIRES(mutex);
  // Closes the current subscription and deletes its server-side consumer.
  void retire_current_locked() REQUIRES(mutex);
  // Re-creates the consumer from the last delivered sequence + 1.
  void recreate_locked(natsStatus cause, const std::string& reason) REQUIRES(mutex);
  void report_locked(const Error& status) REQUIRES(mutex);

  void deliver(natsSubscription* subscription, natsMsg* raw_message, std::uint64_t subscription_generation);
  void on_subscription_error(natsSubscription* subscription, natsStatus code) override;
  void subscription_completed();
  // Re-creates the consumer once the messages queued before the problem are delivered; `cause` and
  // `reason` go into the report.
  void start_recovery_thread_locked(natsStatus cause, std::string reason) REQUIRES(mutex);
  void recover_when_delivered();

  natsConnection* const native_connection;
  jsCtx* const jetstream;
  const std::chrono::milliseconds request_timeout;
  const std::shared_ptr<detail::SubscriptionErrorRouter> error_router;
  const OrderedConsumerOptions options;
  const MessageHandler on_message;
  const StatusHandler on_status;

  // Held while a callback runs and while subscriptions change: callbacks of one consumer never overlap,
  // and the destructor stops them by taking it once.
  runtime::Mutex mutex;
  bool stopped GUARDED_BY(mutex) = false;
  // Of the current subscription; messages of older ones are discarded.
  std::uint64_t generation GUARDED_BY(mutex) = 0;
  SubscriptionHandle subscription GUARDED_BY(mutex);
  std::uint64_t last_consumer_sequence GUARDED_BY(mutex) = 0;  // of the current subscription's consumer
  std::thread recovery_thread GUARDED_BY(mutex);
  bool recovery_running GUARDED_BY(mutex) = false;
  // The generation whose drop the recovery thread repairs.
  std::uint64_t recovery_generation GUARDED_BY(mutex) = 0;
  natsStatus recovery_cause GUARDED_BY(mutex) = NATS_OK;
  std::string recovery_reason GUARDED_BY(mutex);

  std::atomic<std::thread::id> callback_thread{};  // the thread inside a callback, to spot self-destruction
  std::atomic<std::uint64_t> last_sequence{0};
  std::atomic<std::uint64_t> delivered{0};
  std::atomic<std::int64_t> dropped_before{0};  // by closed subscriptions
  std::atomic<std::uint64_t> slow_consumer_events{0};
  std::atomic<std::uint64_t> missed_heartbeats{0};
  std::atomic<std::uint64_t> recreations{0};
  std::atomic<std::uint64_t> duplicates_skipped{0};
  std::atomic<std::uint64_t> other_errors{0};
  std::atomic<bool> healthy{true};

  runtime::Mutex completion_mutex;
  runtime::CondVar completion_changed;
  // Subscriptions whose completion callback has not run yet.
  int open_subscriptions GUARDED_BY(completion_mutex) = 0;
};

namespace {

using State = OrderedConsumer::State;

struct SubscriptionClosure {
  std::shared_ptr<State> state;
  std::uint64_t generation = 0;
};

void on_nats_message(natsConnection*, natsSubscription* subscription, natsMsg* message, void* closure) {
  auto* subscription_closure = static_cast<SubscriptionClosure*>(closure);
  subscription_closure->state->deliver(subscription, message, subscription_closure->generation);
}

// nats.c calls this once, after the subscription is closed and its last message callback has returned.
void on_nats_subscription_complete(void* closure) {
  auto* subscription_closure = static_cast<SubscriptionClosure*>(closure);
  std::shared_ptr<State> state = std::move(subscription_closure->state);
  delete subscription_closure;
  state->subscription_completed();
}

}  // namespace

Status State::subscribe_locked(const StartPosition& start) {
  jsSubOptions sub_options;
  jsSubOptions_Init(&sub_options);
  sub_options.Stream = options.stream.c_str();
  sub_options.Ordered = true;
  sub_options.Config.Heartbeat = std::chrono::nanoseconds(options.heartbeat).count();
  switch (start.kind) {
    case StartPosition::Kind::kFirst:
      sub_options.Config.DeliverPolicy = js_DeliverAll;
      break;
    case StartPosition::Kind::kSequence:
      sub_options.Config.DeliverPolicy = js_DeliverByStartSequence;
      sub_options.Config.OptStartSeq = start.sequence;
      break;
    case StartPosition::Kind::kTime:
      sub_options.Config.DeliverPolicy = js_DeliverByStartTime;
      sub_options.Config.OptStartTime = nats_safe_start_time(start.time_ns);
      break;
  }
  jsOptions js_options;
  jsOptions_Init(&js_options);
  js_options.Wait = request_timeout.count();

  auto* closure = new SubscriptionClosure{shared_from_this(), generation};
  natsSubscription* raw_subscription = nullptr;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  const natsStatus s = js_Subscribe(&raw_subscription, jetstream, options.filter_subject.c_str(),
                                    on_nats_message, closure, &js_options, &sub_options, &js_error);
  if (s != NATS_OK) {
    natsSubscription_Destroy(raw_subscription);
    delete closure;  // no subscription, so no callback holds it
    return Error::from_nats(
        s, "ordered consumer on '" + options.filter_subject + "' of stream '" + options.stream + "'",
        js_error);
  }
  subscription.reset(raw_subscription);
  last_consumer_sequence = 0;

  if (natsSubscription_SetOnCompleteCB(raw_subscription, on_nats_subscription_complete, closure) == NATS_OK) {
    runtime::MutexLock lock(completion_mutex);
    ++open_subscriptions;
  }
  // Else the subscription closed already and nats.c will not say when its callbacks end: the closure is
  // leaked on purpose rather than freed under a possibly running callback.

  natsSubscription_SetPendingLimits(raw_subscription, options.pending_messages_limit,
                                    options.pending_bytes_limit);
  error_router->add(raw_subscription, shared_from_this());
  return {};
}

void State::retire_current_locked() {
  if (subscription == nullptr) return;
  natsSubscription* raw_subscription = subscription.get();
  error_router->remove(raw_subscription);
  std::int64_t dropped = 0;
  if (natsSubscription_GetDropped(raw_subscription, &dropped) == NATS_OK) {
    dropped_before.store(dropped_before.load() + dropped);
  }

  // The server-side consumer is deleted here rather than by natsSubscription_Unsubscribe: in nats.c 3.4.1
  // Unsubscribe formats its "consumer not found" error with a consumer name that a concurrent ordered-
  // consumer reset may have freed (a use-after-free AddressSanitizer caught after a server restart).
  // natsSubscription_GetConsumerInfo copies the name under the subscription's lock instead.
  const bool connected = natsConnection_Status(native_connection) == NATS_CONN_STATUS_CONNECTED;
  jsOptions js_options;
  jsOptions_Init(&js_options);
  js_options.Wait = request_timeout.count();
  std::string consumer_name;
  if (connected) {
    jsConsumerInfo* raw_info = nullptr;
    if (natsSubscription_GetConsumerInfo(&raw_info, raw_subscription, &js_options, nullptr) == NATS_OK) {
      ConsumerInfoHandle info(raw_info);
      if (info->Name != nullptr) consumer_name = info->Name;
    }
  }
  // Destroy closes the subscription without nats.c's own consumer deletion (and so without the race); once
  // it is closed nats.c no longer re-creates the consumer, so the deletion below is final. Without a name
  // (disconnected, or the lookup failed) the server drops the ephemeral consumer by itself after its
  // inactivity threshold (5 s for nats.c's ordered consumers).
  subscription.reset();
  if (!consumer_name.empty()) {
    js_DeleteConsumer(jetstream, options.stream.c_str(), consumer_name.c_str(), &js_options, nullptr);
  }
}

void State::recreate_locked(natsStatus cause, const std::string& reason) {
  ++generation;
  recreations.fetch_add(1);
  retire_current_locked();
  const std::uint64_t resume_at = last_sequence.load() + 1;
  const StartPosition start =
      last_sequence.load() == 0 ? options.start : StartPosition::at_sequence(resume_at);
  const Status subscribed = subscribe_locked(start);
  if (subscribed.ok()) {
    const std::string from = last_sequence.load() == 0 ? std::string("its start position")
                                                       : "stream sequence " + std::to_string(resume_at);
    report_locked(Error{cause, 0, reason + "; consumer re-created from " + from});
  } else {
    healthy.store(false);
    report_locked(Error{subscribed.error().code, 0,
                        reason +
                            "; re-creating the consumer failed, no more messages "
                            "will be delivered: " +
                            subscribed.error().message});
  }
}

void State::report_locked(const Error& status) {
  if (!on_status) return;
  callback_thread.store(std::this_thread::get_id());
  try {
    on_status(status);
  } catch (...) {
    // A status handler has nobody to report to; an exception must not unwind into nats.c's C frames.
  }
  callback_thread.store(std::thread::id{});
}

void State::deliver(natsSubscription* from, natsMsg* raw_message, std::uint64_t subscription_generation) {
  MessageHandle message(raw_message);
  runtime::MutexLock lock(mutex);
  // Leftovers of a retired subscription: the current one delivers them again, in order.
  if (stopped || subscription_generation != generation) return;

  jsMsgMetaData* raw_metadata = nullptr;
  if (const natsStatus s = natsMsg_GetMetaData(&raw_metadata, raw_message); s != NATS_OK) {
    other_errors.fetch_add(1);
    report_locked(Error::from_nats(s, "reading the JetStream metadata of a message on '" +
                                          std::string(natsMsg_GetSubject(raw_message)) + "'"));
    return;
  }
  MessageMetadataHandle metadata(raw_metadata);

  // nats.c drops at the pending limit after its ordered consumer has counted the message as received, so
  // nats.c itself carries on past the hole (also when it later re-creates its consumer). The hole shows as
  // a jump in the consumer sequence: messages before it are delivered, the first one after it makes the
  // adapter start over from the last delivered sequence + 1.
  const std::uint64_t consumer_sequence = metadata->Sequence.Consumer;
  std::int64_t dropped = 0;
  natsSubscription_GetDropped(from, &dropped);
  if (consumer_sequence != last_consumer_sequence + 1) {
    if (dropped > 0) {
      recreate_locked(NATS_SLOW_CONSUMER, "nats.c dropped " + std::to_string(dropped) +
                                              " message(s) at the pending limit of '" +
                                              options.filter_subject + "'");
      return;
    }
    // No drop: nats.c re-created its consumer (after a reconnect or missed heartbeats), numbered from 1.
  }
  last_consumer_sequence = consumer_sequence;
  // A drop behind the queued messages: usually no message after the hole follows (see
  // start_recovery_thread_locked), so the re-creation is scheduled for when the queue is delivered.
  if (dropped > 0) {
    start_recovery_thread_locked(NATS_SLOW_CONSUMER, "slow consumer on '" + options.filter_subject +
                                                         "': nats.c dropped messages at the pending limit");
  }

  // Before the requested start time: only when nats_safe_start_time() moved the start earlier. Like the
  // server, the first message at or after the start time ends the skipping.
  if (options.start.kind == StartPosition::Kind::kTime && last_sequence.load() == 0 &&
      metadata->Timestamp < options.start.time_ns) {
    return;
  }
  if (metadata->Sequence.Stream <= last_sequence.load()) {
    duplicates_skipped.fetch_add(1);
    return;
  }

  Message delivered_message;
  delivered_message.subject = natsMsg_GetSubject(raw_message);
  const char* data = natsMsg_GetData(raw_message);
  const int length = natsMsg_GetDataLength(raw_message);
  delivered_message.data = std::make_shared<const std::string>(
      length > 0 ? std::string(data, static_cast<std::size_t>(length)) : std::string());
  delivered_message.stream_sequence = metadata->Sequence.Stream;
  delivered_message.timestamp_ns = metadata->Timestamp;
  delivered_message.pending = metadata->NumPending;
  metadata.reset();
  message.reset();  // the payload is copied; give nats.c's buffer back before the callback runs

  last_sequence.store(delivered_message.stream_sequence);
  delivered.fetch_add(1);
  callback_thread.store(std::this_thread::get_id());
  try {
    on_message(std::move(delivered_message));
  } catch (const std::exception& error) {
    other_errors.fetch_add(1);
    report_locked(Error{NATS_ERR, 0, std::string("message callback threw: ") + error.what()});
  } catch (...) {
    other_errors.fetch_add(1);
    report_locked(Error{NATS_ERR, 0, "message callback threw a non-standard exception"});
  }
  callback_thread.store(std::thread::id{});
}

void State::on_subscription_error(natsSubscription* about, natsStatus code) {
  switch (code) {
    case NATS_SLOW_CONSUMER:
      slow_consumer_events.fetch_add(1);
      break;
    case NATS_MISSED_HEARTBEAT:
      missed_heartbeats.fetch_add(1);
      break;
    default:
      other_errors.fetch_add(1);
      break;
  }
  // This runs on nats.c's callback thread, which serves every connection: it must not wait for a slow
  // message callback. When one is running the report is only counted; a drop is then noticed by deliver().
  if (!mutex.try_lock()) return;
  runtime::MutexLock lock(mutex, std::adopt_lock);
  if (stopped) return;
  switch (code) {
    case NATS_SLOW_CONSUMER:
      if (about == subscription.get()) {
        start_recovery_thread_locked(NATS_SLOW_CONSUMER,
                                     "slow consumer on '" + options.filter_subject +
                                         "': nats.c dropped messages at the pending limit");
      }
      return;
    case NATS_MISSED_HEARTBEAT:
      report_locked(Error{
          code, 0,
          "missed heartbeats on '" + options.filter_subject + "': nats.c re-creates the ordered consumer"});
      return;
    default:
      // nats.c reports a failed re-creation of its ordered consumer here and does not try again; after a
      // reconnect it fails every time for a consumer started at a time (nats.c 3.4.1). The adapter re-creates
      // the consumer from the last delivered sequence + 1 instead, as after a drop.
      if (about == subscription.get()) {
        start_recovery_thread_locked(code, "nats.c could not re-create the ordered consumer on '" +
                                               options.filter_subject + "': " + natsStatus_GetText(code));
        return;
      }
      report_locked(Error{
          code, 0, "ordered consumer on '" + options.filter_subject + "': " + natsStatus_GetText(code)});
      return;
  }
}

// After a drop the server soon stops sending: its flow control waits for a response that nats.c sends only
// once the dropped messages would have been delivered, so no message after the hole comes for deliver() to
// notice (until an idle heartbeat un-stalls the consumer). So once a drop is known (from the slow-consumer
// report or from the drop counter), a short-lived thread waits until the messages queued before the hole
// are delivered and then re-creates the consumer. It does not run on nats.c's callback thread, which serves
// every connection and must not wait for JetStream requests. The destructor joins it.
void State::start_recovery_thread_locked(natsStatus cause, std::string reason) {
  if (stopped) return;
  recovery_generation = generation;
  recovery_cause = cause;
  recovery_reason = std::move(reason);
  if (recovery_running) return;                            // the running thread picks up the new generation
  if (recovery_thread.joinable()) recovery_thread.join();  // it has left the loop: recovery_running is false
  recovery_running = true;
  try {
    recovery_thread = std::thread([self = shared_from_this()] { self->recover_when_delivered(); });
  } catch (const std::system_error& error) {
    recovery_running = false;
    report_locked(Error{NATS_SLOW_CONSUMER, 0,
                        std::string("slow consumer, and no thread to recover: ") + error.what() +
                            "; recovering at the next message"});
  }
}

void State::recover_when_delivered() {
  for (;;) {
    {
      runtime::MutexLock lock(mutex);
      // Done when stopping, or when deliver() already re-created the subscription that dropped.
      if (stopped || generation != recovery_generation || subscription == nullptr) {
        recovery_running = false;
        return;
      }
      int queued = 0;
      if (natsSubscription_GetPending(subscription.get(), &queued, nullptr) != NATS_OK || queued == 0) {
        recreate_locked(recovery_cause, recovery_reason);
        recovery_running = false;
        return;
      }
    }
    // Polling keeps the dispatcher free of extra work; re-creations are rare.
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

void State::subscription_completed() {
  runtime::MutexLock lock(completion_mutex);
  --open_subscriptions;
  completion_changed.notify_all();
}

Result<std::unique_ptr<OrderedConsumer>> OrderedConsumer::start(const Connection& connection,
                                                                OrderedConsumerOptions options,
                                                                MessageHandler on_message,
                                                                StatusHandler on_status) {
  if (!on_message) throw std::invalid_argument("OrderedConsumer::start: on_message must not be empty");
  if (options.stream.empty() || options.filter_subject.empty()) {
    return Error{NATS_INVALID_ARG, 0, "an ordered consumer needs a stream and a filter subject"};
  }
  auto state = std::make_shared<State>(connection, connection.error_router_, std::move(options),
                                       std::move(on_message), std::move(on_status));
  {
    runtime::MutexLock lock(state->mutex);
    if (Status subscribed = state->subscribe_locked(state->options.start); !subscribed.ok())
      return std::move(subscribed).error();
  }
  return std::unique_ptr<OrderedConsumer>(new OrderedConsumer(std::move(state)));
}

// Not analysed: it locks `mutex` only when not called from inside a callback, which holds it already.
OrderedConsumer::~OrderedConsumer() NO_THREAD_SAFETY_ANALYSIS {
  State& state = *state_;
  // From inside its own callback the mutex is already held by this thread.
  const bool inside_callback = state.callback_thread.load() == std::this_thread::get_id();
  runtime::MutexLock lock(state.mutex, std::defer_lock);
  if (!inside_callback) lock.lock();
  state.stopped = true;  // no callback starts after this, and none is running (except our caller)
  state.retire_current_locked();
  std::thread recovery_thread = std::move(state.recovery_thread);
  if (lock.owns_lock()) lock.unlock();

  if (recovery_thread.joinable()) {
    // From inside a callback this thread holds `mutex`, which the recovery thread may be waiting for (or
    // this is the recovery thread). Detached, it sees `stopped` once the callback returns, and ends; its
    // reference keeps the State alive until then.
    if (inside_callback) {
      recovery_thread.detach();
    } else {
      recovery_thread.join();  // it sees `stopped` and ends
    }
  }

  // Waits until nats.c has released its closures, so that the owner's teardown is quiet; callbacks could not
  // reach the owner anyway once `stopped` was set.
  if (!inside_callback) {
    runtime::MutexLock completion_lock(state.completion_mutex);
    state.completion_changed.wait_for(completion_lock, kCompletionTimeout, [&state] {
      state.completion_mutex.assert_held();
      return state.open_subscriptions == 0;
    });
  }
}

std::uint64_t OrderedConsumer::last_delivered_sequence() const noexcept {
  return state_->last_sequence.load();
}

OrderedConsumerStats OrderedConsumer::stats() const {
  const State& state = *state_;
  OrderedConsumerStats stats;
  stats.delivered = state.delivered.load();
  stats.last_delivered_sequence = state.last_sequence.load();
  stats.dropped_messages = state.dropped_before.load();
  stats.slow_consumer_events = state.slow_consumer_events.load();
  stats.missed_heartbeats = state.missed_heartbeats.load();
  stats.recreations = state.recreations.load();
  stats.duplicates_skipped = state.duplicates_skipped.load();
  stats.other_errors = state.other_errors.load();
  stats.healthy = state.healthy.load();
  return stats;
}

const OrderedConsumerOptions& OrderedConsumer::options() const noexcept {
  return state_->options;
}

}  // namespace ovalstream::nats
