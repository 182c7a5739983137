#pragma once
// `recorder record` as a service: one recording file, fed from JetStream through a durable consumer (no
// loss, no duplicate across restarts: RecordingWriter's position file) or from an aggregator's websocket
// (`from_url`), until SIGINT or SIGTERM.
// Thread safety: run() blocks its thread; signals are taken on a thread of their own.

#include <chrono>
#include <cstdint>
#include <string>

#include "ovalstream/nats/settings.hpp"
#include "ovalstream/runtime/log.hpp"

namespace ovalstream::recorder {

class RecordingWriter;

// Checked by the command (commands/record_command.cpp) before a service is built.
struct RecordConfig {
  std::string file;
  // One competition's events and activations; empty: every competition's activations. JetStream only.
  std::string competition;
  // The aggregator's websocket (ws[s]://host/v1/competitions[/ID]); empty: JetStream.
  std::string from_url;
  // The durable consumer; empty: derived from the file's absolute path (default_durable_name).
  std::string durable;
  std::chrono::milliseconds ack_wait = std::chrono::seconds(30);
  std::int64_t batch = 256;
  bool debug = false;
  nats::NatsSettings nats;
};

// "recorder-<basename, sanitized, up to 32>-<16 hex digits of FNV-1a of the absolute path>": two recorders
// of different files never share a consumer.
std::string default_durable_name(const std::string& file);

class RecordService {
 public:
  RecordService(RecordConfig config, runtime::Logger logger);
  // Records until a signal (0) or a failure (1: the file cannot be opened, NATS cannot be reached, ...).
  int run();

 private:
  int record_websocket(RecordingWriter& writer);
  int record_jetstream(RecordingWriter& writer);

  RecordConfig config_;
  runtime::Logger logger_;
};

}  // namespace ovalstream::recorder
