#pragma once
// nats.c has one asynchronous error handler per connection; it names the subscription an error is about
// (slow consumer, missed heartbeats). The router hands each such error to the consumer that owns the
// subscription, or to the connection's on_error when no consumer claims it.
// Thread safety: all members are thread-safe.

#include <nats/nats.h>

#include <map>
#include <memory>

#include "ovalstream/nats/status.hpp"
#include "ovalstream/runtime/mutex.hpp"

namespace ovalstream::nats::detail {

class SubscriptionErrorSink {
 public:
  virtual ~SubscriptionErrorSink() = default;
  virtual void on_subscription_error(natsSubscription* subscription, natsStatus code) = 0;
};

class SubscriptionErrorRouter {
 public:
  void add(natsSubscription* subscription, std::shared_ptr<SubscriptionErrorSink> sink) {
    runtime::MutexLock lock(mutex_);
    sinks_[subscription] = std::move(sink);
  }
  void remove(natsSubscription* subscription) {
    runtime::MutexLock lock(mutex_);
    sinks_.erase(subscription);
  }
  // The sink of `subscription`, or null. The caller reports outside the router's lock.
  std::shared_ptr<SubscriptionErrorSink> find(natsSubscription* subscription) const {
    runtime::MutexLock lock(mutex_);
    const auto found = sinks_.find(subscription);
    return found == sinks_.end() ? nullptr : found->second;
  }

 private:
  mutable runtime::Mutex mutex_;
  std::map<natsSubscription*, std::shared_ptr<SubscriptionErrorSink>> sinks_ GUARDED_BY(mutex_);
};

}  // namespace ovalstream::nats::detail
