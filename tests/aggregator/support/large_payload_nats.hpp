#pragma once
// Integration-test support: a nats-server with JetStream whose max_payload is raised above the default
// 1 MiB, so a test can publish an event over the aggregator's 1 MiB bound (tests/support's NatsServerProcess
// has no option for it). Random loopback port, a fresh temporary store, fork + exec without a shell; the
// server dies with the test process.
// Thread safety: none.

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <string>

namespace ovalstream::aggregator::itest {

class LargePayloadNatsServer {
 public:
  // Starts `nats-server -js` with `max_payload: <max_payload>`; throws std::runtime_error (with its log)
  // when it does not accept connections within 10 s.
  explicit LargePayloadNatsServer(std::size_t max_payload);
  ~LargePayloadNatsServer();
  LargePayloadNatsServer(const LargePayloadNatsServer&) = delete;
  LargePayloadNatsServer& operator=(const LargePayloadNatsServer&) = delete;

  std::string url() const;

 private:
  std::string temp_dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace ovalstream::aggregator::itest
