// recorder record: JetStream (a durable pull consumer) or an aggregator's websocket (--from-url) to one
// recording file, with the no-loss, no-duplicate guarantee of RecordingWriter for JetStream.
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <ostream>
#include <string>
#include <thread>

#include "commands/commands.hpp"
#include "ovalstream/core/subject.hpp"
#include "ovalstream/nats/jetstream.hpp"
#include "ovalstream/nats/settings.hpp"
#include "ovalstream/runtime/flags.hpp"
#include "ovalstream/runtime/log.hpp"
#include "record/jetstream_recorder.hpp"
#include "record/websocket_recorder.hpp"
#include "recording/recording_writer.hpp"

#ifndef OVALSTREAM_VERSION
#define OVALSTREAM_VERSION "dev"
#endif

namespace ovalstream::recorder {
namespace {

using namespace std::chrono_literals;

// A durable name of the absolute path, so two recorders of different files never share a consumer:
// "recorder-<basename, sanitized, up to 32>-<16 hex digits of FNV-1a of the absolute path>".
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

void block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

// SIGINT/SIGTERM stop the recorder: blocked in every thread, taken by one watcher thread with sigwait.
// SIGUSR1 only ends the watcher when the recorder ended by itself.
class SignalWatcher {
 public:
  template <typename OnSignal>
  explicit SignalWatcher(OnSignal on_signal) {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGUSR1);
    block_stop_signals();
    thread_ = std::thread([this, on_signal] {
      int signal_number = 0;
      while (sigwait(&set_, &signal_number) == 0) {
        if (signal_number == SIGUSR1 && done_) return;
        if (signal_number == SIGINT || signal_number == SIGTERM) {
          on_signal(signal_number);
          return;
        }
      }
    });
  }
  ~SignalWatcher() {
    done_ = true;
    pthread_kill(thread_.native_handle(), SIGUSR1);
    thread_.join();
  }
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

 private:
  sigset_t set_{};
  std::atomic<bool> done_{false};
  std::thread thread_;
};

struct RecordSettings {
  std::string file;
  std::string competition;
  std::string from_url;
  std::string host;
  std::string durable;
  std::chrono::milliseconds ack_wait = 30s;
  std::int64_t batch = 256;
  bool debug = false;
  nats::NatsSettings nats_settings;
};

runtime::FlagSet record_flags(RecordSettings& settings) {
  runtime::FlagSet flags(
      "recorder record", OVALSTREAM_VERSION,
      "Records every competition activation, or one competition's events, to a JSON-lines file "
      "(the original recorder's format). Source: JetStream through a durable consumer (no loss, "
      "no duplicate across restarts), or an aggregator's websocket with --from-url.",
      "--file F [--competition ID] [--from-url ws://host/v1/competitions[/ID] | --host H] [flags]");
  flags.add_string("file", &settings.file,
                   "the recording file to append to (required); its position file is F.position");
  flags.add_string(
      "competition", &settings.competition,
      "record this competition's events (competition.ID, competition.ID.> and its activations on "
      "competition.activations); without it, every competition activation (competition.activations)");
  flags.add_string(
      "from-url", &settings.from_url,
      "record from an aggregator's websocket instead of JetStream: ws://host:port/v1/competitions or "
      "ws://host:port/v1/competitions/ID (wss:// too)");
  flags.add_string(
      "host", &settings.host,
      "as the original eventrecorder: record from the aggregator at wss://H/v1/competitions[/ID] "
      "(ID from --competition), as --from-url; H is host[:port], or ws://host[:port] for one "
      "without TLS");
  flags.add_string("durable", &settings.durable,
                   "the JetStream durable consumer's name (default: derived from the file's absolute path)");
  flags.add_duration("ack-wait", &settings.ack_wait,
                     "how long JetStream waits for an acknowledgement before delivering a message again",
                     runtime::DurationRange{std::chrono::seconds(1), std::chrono::hours(1)});
  flags.add_int("batch", &settings.batch, "messages fetched from JetStream at once",
                runtime::IntRange{1, 4096});
  flags.add_bool("debug", &settings.debug, "log at debug level");
  flags.add_short_name("d", "debug");
  nats::add_nats_flags(flags, &settings.nats_settings);
  return flags;
}

}  // namespace

std::vector<std::string> record_flag_names() {
  RecordSettings unused;
  return record_flags(unused).names();
}

int run_record(std::span<const std::string> args, std::ostream& out, std::ostream& err) {
  RecordSettings settings;
  runtime::FlagSet flags = record_flags(settings);
  add_recorder_config_file(flags);

  const runtime::ParseOutcome outcome = flags.parse(args, out, err);
  if (!outcome.should_run()) return outcome.exit_code;
  if (!outcome.positionals.empty()) {
    return flags.usage_error(err, "unexpected argument \"" + outcome.positionals.front() + "\"").exit_code;
  }
  if (settings.file.empty()) return flags.usage_error(err, "--file is required").exit_code;
  if (!settings.competition.empty() && !core::is_subject_token(settings.competition)) {
    return flags.usage_error(err, "--competition \"" + settings.competition + "\" cannot be a subject token")
        .exit_code;
  }
  if (!settings.host.empty()) {
    if (!settings.from_url.empty()) {
      return flags.usage_error(err, "--host and --from-url both name the aggregator: give one").exit_code;
    }
    std::string why;
    const std::optional<std::string> url = url_for_host(settings.host, settings.competition, why);
    if (!url) return flags.usage_error(err, "--host " + settings.host + ": " + why).exit_code;
    settings.from_url = *url;
    settings.competition.clear();  // in the URL now
  }
  if (const auto problem = nats::check_nats_settings(settings.nats_settings)) {
    return flags.usage_error(err, *problem).exit_code;
  }
  if (!settings.durable.empty() && !nats::is_valid_consumer_name(settings.durable)) {
    return flags.usage_error(err, "--durable may hold only letters, digits, '-' and '_'").exit_code;
  }
  if (!settings.from_url.empty()) {
    std::string why;
    if (!valid_competitions_url(settings.from_url, why)) {
      return flags.usage_error(err, "--from-url " + settings.from_url + ": " + why).exit_code;
    }
    if (!settings.competition.empty()) {
      return flags
          .usage_error(err, "--competition does not go with --from-url (the URL names the competition)")
          .exit_code;
    }
    for (const char* jetstream_only :
         {"durable", "ack-wait", "batch", "stream", "create-stream", "nats-url", "nats-username",
          "nats-password", "nats-tls", "nats-ca", "nats-cert", "nats-key", "nats-creds"}) {
      if (flags.source(jetstream_only) == runtime::FlagSource::kCommandLine) {
        return flags
            .usage_error(err, std::string("--") + jetstream_only +
                                  " is for recording from JetStream; it does not go with --from-url")
            .exit_code;
      }
    }
  }

  runtime::Logger logger("recorder");
  if (settings.debug) logger.set_level(runtime::LogLevel::kDebug);
  log_parse_outcome(logger, outcome);

  auto writer = RecordingWriter::for_file(settings.file, logger.child("writer"));
  if (const std::error_code error = writer->open()) {
    logger.error("cannot open the recording", {{"file", settings.file}, {"error", error.message()}});
    return 1;
  }

  if (!settings.from_url.empty()) {
    WebsocketRecorder recorder(WebsocketRecorderOptions{settings.from_url}, *writer,
                               logger.child("websocket"));
    SignalWatcher signals([&](int signal_number) {
      logger.info("stopping", {{"signal", signal_number}});
      recorder.stop();
    });
    logger.info("recording", {{"file", settings.file}, {"url", settings.from_url}});
    return recorder.run();
  }

  // Block the stop signals before nats.c starts its threads (they inherit the mask); the watcher below
  // takes a signal that arrives in between.
  block_stop_signals();
  auto connection =
      nats::Connection::connect(nats::connection_options(settings.nats_settings, "ovalstream-recorder"));
  if (!connection.ok()) {
    logger.error("cannot connect to NATS",
                 {{"url", settings.nats_settings.url}, {"error", connection.status().message}});
    return 1;
  }
  if (settings.nats_settings.create_stream) {
    auto created = nats::create_stream(*connection.value(), settings.nats_settings.stream, {"competition.>"});
    if (!created.ok()) {
      logger.error("cannot create the stream",
                   {{"stream", settings.nats_settings.stream}, {"error", created.status().message}});
      return 1;
    }
  }

  JetstreamRecorderOptions options;
  options.consumer.stream = settings.nats_settings.stream;
  options.consumer.durable =
      settings.durable.empty() ? default_durable_name(settings.file) : settings.durable;
  options.consumer.ack_wait = settings.ack_wait;
  options.batch = static_cast<int>(settings.batch);
  if (settings.competition.empty()) {
    options.consumer.filter_subject = std::string(core::kSubjectRoot) + ".activations";
  } else {
    // One consumer on the whole stream, filtered here: nats-server 2.9 takes one filter per consumer, and
    // competition.ID.> misses the competition-level subject competition.ID and the competition's
    // activations on competition.activations. Several consumers would need a merge by stream sequence; one
    // keeps the stream's order by construction. Other competitions' events are acknowledged unwritten.
    options.consumer.filter_subject = std::string(core::kSubjectRoot) + ".>";
    options.accept = competition_filter(settings.competition);
  }
  JetstreamRecorder recorder(*connection.value(), *writer, options, logger.child("jetstream"));
  std::atomic<int> stop_signal{0};
  SignalWatcher stopper([&](int signal_number) {
    stop_signal = signal_number;
    recorder.stop();
  });
  logger.info("recording", {{"file", settings.file},
                            {"stream", options.consumer.stream},
                            {"durable", options.consumer.durable},
                            {"filter", options.consumer.filter_subject},
                            {"competition", settings.competition}});
  const int code = recorder.run();
  if (stop_signal != 0) logger.info("stopped by signal", {{"signal", stop_signal.load()}});
  return code;
}

}  // namespace ovalstream::recorder
