#pragma once
// Keeps a KeyStore current while a service runs: SIGHUP reloads the key files at once; every
// kKeyFileCheckInterval the files are looked at and reloaded when one changed (a rotated Kubernetes Secret
// replaces the file behind its symlink; nobody sends the pod a signal). Each reload is logged (file names
// and key counts, never key bytes) and counted; a failed one keeps the keys in force.
// Without a store (--auth off) SIGHUP is caught and logged, so it no longer ends the process.
// Thread safety: start() and stop() from any thread; the work runs on the io_context.

#include <utility>  // before Asio: Boost 1.74 with C++20 needs it

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>

#include "ovalstream/auth/auth_metrics.hpp"
#include "ovalstream/auth/key_store.hpp"
#include "ovalstream/runtime/log.hpp"

namespace ovalstream::auth {

inline constexpr std::chrono::seconds kKeyFileCheckInterval{5};

class KeyReloader final : public std::enable_shared_from_this<KeyReloader> {
 public:
  // `keys` and `observer` may be null.
  KeyReloader(boost::asio::io_context& io, std::shared_ptr<KeyStore> keys, runtime::Logger logger,
              std::shared_ptr<AuthObserver> observer);

  void start();
  void stop();

 private:
  void wait_for_signal();
  void schedule_check();
  void reload(bool forced);

  const std::shared_ptr<KeyStore> keys_;
  runtime::Logger logger_;
  const std::shared_ptr<AuthObserver> observer_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer timer_;
};

}  // namespace ovalstream::auth
