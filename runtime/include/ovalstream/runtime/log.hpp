#pragma once
// JSON-lines logging: one object per line, so log collectors need no parsing rules of ours.
//   {"ts":"2024-01-02T03:04:05.678Z","level":"info","msg":"nats connected","component":"aggregator",
//    "url":"nats://127.0.0.1:4222","servers":3}
// Fields keep their call order after the four fixed ones; a field named like a key the logger writes
// itself (ts, level, msg, component, and "suppressed" on a rate-limited line) is written as
// "field.<name>" so each key appears once. Strings are escaped by RapidJSON, with
// invalid UTF-8 replaced by U+FFFD so every line stays valid JSON; non-finite doubles are written as the
// strings "NaN", "+Inf", "-Inf".
//
// Thread safety: Logger is thread-safe. Every method may be called concurrently, on one Logger or on
// several sharing a sink through child(); each line is built outside the lock and written whole under
// one mutex, so lines never interleave. A Logger is a cheap handle (a shared_ptr): copy it freely.
// The std::ostream given must outlive every Logger writing to it and must not be written to by others
// concurrently.

#include <chrono>
#include <concepts>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

namespace ovalstream::runtime {

enum class LogLevel : std::uint8_t { kDebug = 0, kInfo, kWarn, kError };

std::string_view log_level_name(LogLevel level) noexcept;                 // "debug", "info", "warn", "error"
std::optional<LogLevel> parse_log_level(std::string_view name) noexcept;  // the names above; "warning" too

// One key/value of a log line. The value is copied, so a Field may outlive what it was made from.
struct Field {
  using Value = std::variant<std::string, std::int64_t, std::uint64_t, double, bool>;

  Field(std::string_view key, std::string_view value) : key(key), value(std::string(value)) {}
  Field(std::string_view key, const std::string& value) : key(key), value(value) {}
  Field(std::string_view key, const char* value) : key(key), value(std::string(value)) {}
  Field(std::string_view key, bool value) : key(key), value(value) {}
  Field(std::string_view key, double value) : key(key), value(value) {}
  Field(std::string_view key, float value) : key(key), value(static_cast<double>(value)) {}
  template <std::signed_integral T>
  Field(std::string_view key, T value) : key(key), value(static_cast<std::int64_t>(value)) {}
  template <std::unsigned_integral T>
  requires(!std::same_as<T, bool>) Field(std::string_view key, T value)
      : key(key), value(static_cast<std::uint64_t>(value)) {}

  std::string key;
  Value value;
};

struct LoggerOptions {
  LogLevel level = LogLevel::kInfo;
  // Time written in "ts". Injectable for tests.
  std::function<std::chrono::system_clock::time_point()> wall_clock = std::chrono::system_clock::now;
  // Time used by log_every(); monotonic so a wall-clock step cannot silence or flood a rate-limited line.
  std::function<std::chrono::steady_clock::time_point()> monotonic_clock = std::chrono::steady_clock::now;
};

class Logger {
 public:
  // Writes to std::cout.
  explicit Logger(std::string component, LoggerOptions options = {});
  // Writes to `out`, which must outlive the Logger and its children.
  Logger(std::string component, std::ostream& out, LoggerOptions options = {});

  // A logger for another component sharing this one's sink, level, clocks and once/rate-limit memory.
  Logger child(std::string component) const;
  const std::string& component() const noexcept { return component_; }

  // The level is shared with every child; debug lines are dropped unless the level is kDebug.
  void set_level(LogLevel level) noexcept;
  LogLevel level() const noexcept;
  bool enabled(LogLevel level) const noexcept;

  void debug(std::string_view msg, std::initializer_list<Field> fields = {}) const;
  void info(std::string_view msg, std::initializer_list<Field> fields = {}) const;
  void warn(std::string_view msg, std::initializer_list<Field> fields = {}) const;
  void error(std::string_view msg, std::initializer_list<Field> fields = {}) const;
  void log(LogLevel level, std::string_view msg, std::span<const Field> fields) const;

  // Writes the line only the first time `key` is seen by this component (e.g. "a rejected event is
  // logged once" with the subject as key). Returns true when the line was written. The memory of keys is
  // bounded (kMaxRememberedKeys); when full it is forgotten, so a key may be logged once more.
  bool log_once(std::string_view key, LogLevel level, std::string_view msg,
                std::initializer_list<Field> fields = {}) const;
  bool warn_once(std::string_view key, std::string_view msg, std::initializer_list<Field> fields = {}) const;

  // Writes at most one line per `interval` per key (e.g. "stream missing" repeated every few seconds
  // while a retry loop runs much faster). The first call for a key writes. Calls dropped in between are
  // counted and the next written line carries "suppressed": <count>. Returns true when written.
  bool log_every(std::string_view key, std::chrono::nanoseconds interval, LogLevel level,
                 std::string_view msg, std::initializer_list<Field> fields = {}) const;

  static constexpr std::size_t kMaxRememberedKeys = 4096;

 private:
  struct Shared;
  Logger(std::string component, std::shared_ptr<Shared> shared);
  std::string format_line(LogLevel level, std::string_view msg, std::span<const Field> fields,
                          std::optional<std::uint64_t> suppressed) const;
  void write_line(const std::string& line) const;
  std::string memory_key(std::string_view key) const;

  std::string component_;
  std::shared_ptr<Shared> shared_;
};

// The "ts" text: RFC 3339 in UTC with milliseconds, "2024-01-02T03:04:05.678Z".
std::string format_log_time(std::chrono::system_clock::time_point time);

}  // namespace ovalstream::runtime
