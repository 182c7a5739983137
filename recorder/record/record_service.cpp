#include "record/record_service.hpp"

#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "common/stop_signals.hpp"
#include "ovalstream/core/subject.hpp"
#include "ovalstream/nats/jetstream.hpp"
#include "record/jetstream_recorder.hpp"
#include "record/websocket_recorder.hpp"
#include "recording/recording_writer.hpp"

namespace ovalstream::recorder {

std::string default_durable_name(const std::string& file) {
  std::error_code ignored;
  const std::filesystem::path absolute =
      std::filesystem::weakly_canonical(std::filesystem::absolute(file), ignored);
  const std::string text = absolute.empty() ? std::filesystem::absolute(file).string() : absolute.string();
  std::uint64_t hash = 14695981039346656037ull;
  for (const unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  std::string base;
  for (const char c : std::filesystem::path(text).filename().string()) {
    if (base.size() >= 32) break;
    const bool plain =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    base.push_back(plain ? c : '_');
  }
  char hex[24];
  std::snprintf(hex, sizeof hex, "%016" PRIx64, hash);
  return "recorder-" + base + "-" + hex;
}

RecordService::RecordService(RecordConfig config, runtime::Logger logger)
    : config_(std::move(config)), logger_(std::move(logger)) {}

int RecordService::run() {
  auto writer = RecordingWriter::for_file(config_.file, logger_.child("writer"));
  if (const auto opened = writer->open(); !opened.ok()) {
    logger_.error("cannot open the recording",
                  {{"file", config_.file}, {"error", opened.error().message()}});
    return 1;
  }
  return config_.from_url.empty() ? record_jetstream(*writer) : record_websocket(*writer);
}

int RecordService::record_websocket(RecordingWriter& writer) {
  WebsocketRecorder recorder(WebsocketRecorderOptions{config_.from_url}, writer, logger_.child("websocket"));
  StopSignalThread signals([&](int signal_number) {
    logger_.info("stopping", {{"signal", signal_number}});
    recorder.stop();
  });
  logger_.info("recording", {{"file", config_.file}, {"url", config_.from_url}});
  return recorder.run();
}

int RecordService::record_jetstream(RecordingWriter& writer) {
  // Signals are taken from before connecting (which may take a while) on: one that comes before the
  // recorder exists stops it as soon as it does.
  std::atomic<int> stop_signal{0};
  std::atomic<JetstreamRecorder*> running{nullptr};
  std::optional<StopSignalThread> signals;
  signals.emplace([&](int signal_number) {
    stop_signal = signal_number;
    if (JetstreamRecorder* recorder = running.load()) recorder->stop();
  });
  auto connection = nats::Connection::connect(nats::connection_options(config_.nats, "ovalstream-recorder"));
  if (!connection.ok()) {
    logger_.error("cannot connect to NATS",
                  {{"url", config_.nats.url}, {"error", connection.error().message}});
    return 1;
  }
  if (config_.nats.create_stream) {
    auto created = nats::create_stream(*connection.value(), config_.nats.stream, {"competition.>"});
    if (!created.ok()) {
      logger_.error("cannot create the stream",
                    {{"stream", config_.nats.stream}, {"error", created.error().message}});
      return 1;
    }
  }

  JetstreamRecorderOptions options;
  options.consumer.stream = config_.nats.stream;
  options.consumer.durable = config_.durable.empty() ? default_durable_name(config_.file) : config_.durable;
  options.consumer.ack_wait = config_.ack_wait;
  options.batch = static_cast<int>(config_.batch);
  if (config_.competition.empty()) {
    options.consumer.filter_subject = std::string(core::kSubjectRoot) + ".activations";
  } else {
    // One consumer on the whole stream, filtered here: nats-server 2.9 takes one filter per consumer, and
    // competition.ID.> misses the competition-level subject competition.ID and the competition's
    // activations on competition.activations. Several consumers would need a merge by stream sequence; one
    // keeps the stream's order by construction. Other competitions' events are acknowledged unwritten.
    options.consumer.filter_subject = std::string(core::kSubjectRoot) + ".>";
    options.accept = competition_filter(config_.competition);
  }
  JetstreamRecorder recorder(*connection.value(), writer, options, logger_.child("jetstream"));
  running = &recorder;
  if (stop_signal != 0) recorder.stop();
  logger_.info("recording", {{"file", config_.file},
                             {"stream", options.consumer.stream},
                             {"durable", options.consumer.durable},
                             {"filter", options.consumer.filter_subject},
                             {"competition", config_.competition}});
  const int code = recorder.run();
  signals.reset();  // joined: no handler still holds the recorder
  if (stop_signal != 0) logger_.info("stopped by signal", {{"signal", stop_signal.load()}});
  return code;
}

}  // namespace ovalstream::recorder
