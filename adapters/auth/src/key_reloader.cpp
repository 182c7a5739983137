#include "ovalstream/auth/key_reloader.hpp"

#include <boost/asio/post.hpp>
#include <csignal>

namespace ovalstream::auth {

KeyReloader::KeyReloader(boost::asio::io_context& io, std::shared_ptr<KeyStore> keys, runtime::Logger logger,
                         std::shared_ptr<AuthObserver> observer)
    : keys_(std::move(keys)),
      logger_(std::move(logger)),
      observer_(std::move(observer)),
      signals_(io, SIGHUP),
      timer_(io) {}

void KeyReloader::start() {
  wait_for_signal();
  if (keys_) schedule_check();
}

void KeyReloader::stop() {
  boost::asio::post(timer_.get_executor(), [self = shared_from_this()] {
    self->signals_.cancel();
    self->timer_.cancel();
  });
}

void KeyReloader::wait_for_signal() {
  signals_.async_wait([self = shared_from_this()](const boost::system::error_code& error, int) {
    if (error) return;
    self->reload(true);
    self->wait_for_signal();
  });
}

void KeyReloader::schedule_check() {
  timer_.expires_after(kKeyFileCheckInterval);
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& error) {
    if (error) return;
    self->reload(false);
    self->schedule_check();
  });
}

// Open connections keep what they were admitted with; new tokens are checked against the new keys.
void KeyReloader::reload(bool forced) {
  if (!keys_) {
    logger_.info("SIGHUP: no key files to reload (--auth off)");
    return;
  }
  const auto outcome = forced ? keys_->reload() : keys_->reload_if_changed();
  const char* trigger = forced ? "SIGHUP" : "file changed";
  if (!outcome.error.empty()) {
    if (observer_) observer_->keys_reloaded(false);
    logger_.error("cannot reload the keys; the previous keys stay in force",
                  {{"error", outcome.error}, {"trigger", trigger}});
  } else if (outcome.reloaded) {
    if (observer_) observer_->keys_reloaded(true);
    const auto keys = keys_->current();
    logger_.info("keys reloaded", {{"trigger", trigger},
                                   {"hmacSecret", keys->hmac_secret.has_value()},
                                   {"publicKeys", keys->public_keys.size()}});
  }
}

}  // namespace ovalstream::auth
