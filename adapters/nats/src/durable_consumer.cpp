#include "ovalstream/nats/durable_consumer.hpp"

#include <limits>
#include <utility>

namespace ovalstream::nats {

bool is_valid_consumer_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 200) return false;
  for (const char c : name) {
    const bool plain =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!plain) return false;
  }
  return true;
}
namespace {

constexpr std::int64_t kNanosPerMilli = 1'000'000;

// nats.c's message list owns its messages until they are taken out (set to null).
struct MessageList {
  natsMsgList list{nullptr, 0};
  ~MessageList() { natsMsgList_Destroy(&list); }
};

bool consumer_missing(natsStatus status, jsErrCode js_error) {
  return status == NATS_NOT_FOUND || js_error == JSConsumerNotFoundErr;
}

}  // namespace

Result<std::unique_ptr<DurableConsumer>> DurableConsumer::open(const Connection& connection,
                                                               DurableConsumerOptions options) {
  if (options.durable.empty() || options.stream.empty() || options.filter_subject.empty()) {
    return Error{NATS_INVALID_ARG, 0, "durable consumer: stream, durable name and filter subject are needed"};
  }
  std::unique_ptr<DurableConsumer> consumer(new DurableConsumer(connection, std::move(options)));
  const auto& opts = consumer->options_;

  jsConsumerInfo* raw_info = nullptr;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  const natsStatus s = js_GetConsumerInfo(&raw_info, connection.jetstream(), opts.stream.c_str(),
                                          opts.durable.c_str(), nullptr, &js_error);
  ConsumerInfoHandle info(raw_info);
  if (s == NATS_OK) {
    const char* filter = info->Config != nullptr ? info->Config->FilterSubject : nullptr;
    const std::string existing = filter != nullptr ? filter : "";
    if (existing != opts.filter_subject) {
      return Error{NATS_ERR, 0,
                   "durable consumer '" + opts.durable + "' of stream '" + opts.stream +
                       "' exists with filter '" + existing + "', not '" + opts.filter_subject +
                       "'; not changed (use another durable name)"};
    }
  } else if (consumer_missing(s, js_error)) {
    if (Status created = consumer->create(0); !created.ok()) return std::move(created).error();
  } else {
    return Error::from_nats(s, "consumer info of '" + opts.durable + "'", js_error);
  }
  if (Status bound = consumer->bind(); !bound.ok()) return std::move(bound).error();
  return consumer;
}

DurableConsumer::~DurableConsumer() = default;

Status DurableConsumer::create(std::uint64_t start_sequence) {
  jsConsumerConfig config;
  jsConsumerConfig_Init(&config);
  config.Durable = options_.durable.c_str();
  config.FilterSubject = options_.filter_subject.c_str();
  config.AckPolicy = js_AckExplicit;
  config.AckWait = static_cast<std::int64_t>(options_.ack_wait.count()) * kNanosPerMilli;
  config.MaxAckPending = options_.max_ack_pending;
  if (start_sequence > 1) {
    config.DeliverPolicy = js_DeliverByStartSequence;
    config.OptStartSeq = start_sequence;
  } else {
    config.DeliverPolicy = js_DeliverAll;
  }
  jsConsumerInfo* raw_info = nullptr;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  const natsStatus s = js_AddConsumer(&raw_info, connection_.jetstream(), options_.stream.c_str(), &config,
                                      nullptr, &js_error);
  ConsumerInfoHandle info(raw_info);
  if (s != NATS_OK)
    return Error::from_nats(s, "creating durable consumer '" + options_.durable + "'", js_error);
  return {};
}

Status DurableConsumer::bind() {
  subscription_.reset();
  jsSubOptions sub_options;
  jsSubOptions_Init(&sub_options);
  sub_options.Stream = options_.stream.c_str();
  sub_options.Consumer = options_.durable.c_str();
  natsSubscription* raw = nullptr;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  const natsStatus s = js_PullSubscribe(&raw, connection_.jetstream(), options_.filter_subject.c_str(),
                                        options_.durable.c_str(), nullptr, &sub_options, &js_error);
  SubscriptionHandle subscription(raw);
  if (s != NATS_OK)
    return Error::from_nats(s, "binding to durable consumer '" + options_.durable + "'", js_error);
  subscription_ = std::move(subscription);
  return {};
}

Result<std::vector<PulledMessage>> DurableConsumer::fetch(int batch, std::chrono::milliseconds timeout) {
  if (!subscription_) return Error{NATS_INVALID_SUBSCRIPTION, 0, "durable consumer is not bound"};
  MessageList messages;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  const natsStatus s = natsSubscription_Fetch(&messages.list, subscription_.get(), batch < 1 ? 1 : batch,
                                              timeout.count() < 1 ? 1 : timeout.count(), &js_error);
  std::vector<PulledMessage> result;
  if (s == NATS_TIMEOUT && messages.list.Count == 0) return result;
  if (s != NATS_OK && s != NATS_TIMEOUT) {
    return Error::from_nats(s, "fetching from durable consumer '" + options_.durable + "'", js_error);
  }
  result.reserve(static_cast<std::size_t>(messages.list.Count));
  for (int i = 0; i < messages.list.Count; ++i) {
    MessageHandle handle(messages.list.Msgs[i]);
    messages.list.Msgs[i] = nullptr;
    if (!handle) continue;
    PulledMessage message;
    const char* subject = natsMsg_GetSubject(handle.get());
    message.subject = subject != nullptr ? subject : "";
    const char* data = natsMsg_GetData(handle.get());
    const int length = natsMsg_GetDataLength(handle.get());
    message.data = std::make_shared<const std::string>(data != nullptr ? data : "",
                                                       static_cast<std::size_t>(length < 0 ? 0 : length));
    jsMsgMetaData* raw_meta = nullptr;
    if (natsMsg_GetMetaData(&raw_meta, handle.get()) == NATS_OK) {
      MessageMetadataHandle meta(raw_meta);
      message.stream_sequence = meta->Sequence.Stream;
      message.timestamp_ns = meta->Timestamp;
      message.pending = meta->NumPending;
      message.delivery_count = meta->NumDelivered;
      message.consumer_sequence = meta->Sequence.Consumer;
    } else {
      // Not a JetStream message (cannot happen on a bound pull subscription); nothing to order or ack by.
      continue;
    }
    message.handle = std::move(handle);
    result.push_back(std::move(message));
  }
  return result;
}

Status DurableConsumer::ack(PulledMessage& message) {
  if (!message.handle) return Error{NATS_INVALID_ARG, 0, "acknowledging a message without its handle"};
  const natsStatus s = natsMsg_Ack(message.handle.get(), nullptr);
  if (s != NATS_OK) {
    return Error::from_nats(s, "acknowledging stream sequence " + std::to_string(message.stream_sequence));
  }
  return {};
}

Result<DurableConsumerState> DurableConsumer::state() {
  jsConsumerInfo* raw_info = nullptr;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  const natsStatus s = js_GetConsumerInfo(&raw_info, connection_.jetstream(), options_.stream.c_str(),
                                          options_.durable.c_str(), nullptr, &js_error);
  ConsumerInfoHandle info(raw_info);
  if (s != NATS_OK) return Error::from_nats(s, "consumer info of '" + options_.durable + "'", js_error);
  DurableConsumerState state;
  state.delivered_stream_sequence = info->Delivered.Stream;
  state.delivered_consumer_sequence = info->Delivered.Consumer;
  state.ack_floor_stream_sequence = info->AckFloor.Stream;
  state.ack_pending = info->NumAckPending;
  state.pending = info->NumPending;
  if (info->Config != nullptr && info->Config->FilterSubject != nullptr) {
    state.filter_subject = info->Config->FilterSubject;
  }
  return state;
}

Status DurableConsumer::reposition(std::uint64_t start_sequence) {
  subscription_.reset();
  jsErrCode js_error = static_cast<jsErrCode>(0);
  const natsStatus s = js_DeleteConsumer(connection_.jetstream(), options_.stream.c_str(),
                                         options_.durable.c_str(), nullptr, &js_error);
  if (s != NATS_OK && !consumer_missing(s, js_error)) {
    return Error::from_nats(s, "deleting durable consumer '" + options_.durable + "'", js_error);
  }
  if (Status created = create(start_sequence); !created.ok()) return created;
  return bind();
}

}  // namespace ovalstream::nats
