#pragma once
// Owning handles for nats.c objects: each is a unique_ptr whose deleter is the object's nats.c destroy
// function, so every exit path releases what it created.
// Thread safety: as std::unique_ptr; the nats.c objects themselves document their own.

#include <nats/nats.h>

#include <memory>

namespace ovalstream::nats {

namespace detail {
template <typename T, void (*Destroy)(T*)>
struct NatsDeleter {
  void operator()(T* handle) const noexcept {
    if (handle != nullptr) Destroy(handle);
  }
};
}  // namespace detail

using OptionsHandle = std::unique_ptr<natsOptions, detail::NatsDeleter<natsOptions, natsOptions_Destroy>>;
using ConnectionHandle =
    std::unique_ptr<natsConnection, detail::NatsDeleter<natsConnection, natsConnection_Destroy>>;
using JetStreamHandle = std::unique_ptr<jsCtx, detail::NatsDeleter<jsCtx, jsCtx_Destroy>>;
using SubscriptionHandle =
    std::unique_ptr<natsSubscription, detail::NatsDeleter<natsSubscription, natsSubscription_Destroy>>;
using MessageHandle = std::unique_ptr<natsMsg, detail::NatsDeleter<natsMsg, natsMsg_Destroy>>;
using MessageMetadataHandle =
    std::unique_ptr<jsMsgMetaData, detail::NatsDeleter<jsMsgMetaData, jsMsgMetaData_Destroy>>;
using StreamInfoHandle =
    std::unique_ptr<jsStreamInfo, detail::NatsDeleter<jsStreamInfo, jsStreamInfo_Destroy>>;
using PubAckHandle = std::unique_ptr<jsPubAck, detail::NatsDeleter<jsPubAck, jsPubAck_Destroy>>;
using ConsumerInfoHandle =
    std::unique_ptr<jsConsumerInfo, detail::NatsDeleter<jsConsumerInfo, jsConsumerInfo_Destroy>>;

}  // namespace ovalstream::nats
