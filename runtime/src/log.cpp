#include "ovalstream/runtime/log.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <ostream>
#include <unordered_map>
#include <unordered_set>

#include "ovalstream/runtime/mutex.hpp"

namespace ovalstream::runtime {

struct Logger::Shared {
  Shared(std::ostream& out, LoggerOptions options)
      : out(out),
        level(options.level),
        wall_clock(std::move(options.wall_clock)),
        monotonic_clock(std::move(options.monotonic_clock)) {}

  Mutex write_mutex;  // held only while one finished line is written
  std::ostream& out GUARDED_BY(write_mutex);
  std::atomic<LogLevel> level;
  const std::function<std::chrono::system_clock::time_point()> wall_clock;
  const std::function<std::chrono::steady_clock::time_point()> monotonic_clock;

  struct RateState {
    std::chrono::steady_clock::time_point last_written;
    std::uint64_t suppressed = 0;
  };
  Mutex memory_mutex;  // never held while writing
  std::unordered_set<std::string> logged_once GUARDED_BY(memory_mutex);
  std::unordered_map<std::string, RateState> rate_limited GUARDED_BY(memory_mutex);
};

namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// Copies `text`, replacing each invalid UTF-8 sequence with U+FFFD: RapidJSON's writer passes bytes
// through unchecked, and one bad byte from an event payload would make the whole line unreadable.
std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t size = text.size();
  std::size_t i = 0;
  while (i < size) {
    const unsigned char lead = bytes[i];
    std::size_t length = 0;
    std::uint32_t min_code_point = 0;
    if (lead < 0x80) {
      out.push_back(static_cast<char>(lead));
      ++i;
      continue;
    } else if ((lead & 0xE0) == 0xC0) {
      length = 2;
      min_code_point = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3;
      min_code_point = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4;
      min_code_point = 0x10000;
    }
    bool valid = length != 0 && i + length <= size;
    std::uint32_t code_point = valid ? lead & (0x7F >> length) : 0;
    for (std::size_t k = 1; valid && k < length; ++k) {
      valid = (bytes[i + k] & 0xC0) == 0x80;
      code_point = (code_point << 6) | (bytes[i + k] & 0x3F);
    }
    // Overlong forms, UTF-16 surrogates and values past U+10FFFF are invalid too.
    valid = valid && code_point >= min_code_point && code_point <= 0x10FFFF &&
            !(code_point >= 0xD800 && code_point <= 0xDFFF);
    if (valid) {
      out.append(text.substr(i, length));
      i += length;
    } else {
      out.append("\xEF\xBF\xBD");
      ++i;
    }
  }
  return out;
}

void write_string(JsonWriter& writer, std::string_view text) {
  const std::string clean = valid_utf8(text);
  writer.String(clean.data(), static_cast<rapidjson::SizeType>(clean.size()));
}

void write_key(JsonWriter& writer, std::string_view key) {
  const std::string clean = valid_utf8(key);
  writer.Key(clean.data(), static_cast<rapidjson::SizeType>(clean.size()));
}

// Keys the logger writes itself; a caller's field of that name is renamed so no key appears twice.
bool is_reserved_key(std::string_view key, bool writes_suppressed) {
  return key == "ts" || key == "level" || key == "msg" || key == "component" ||
         (writes_suppressed && key == "suppressed");
}

void write_value(JsonWriter& writer, const Field::Value& value) {
  if (const auto* text = std::get_if<std::string>(&value)) {
    write_string(writer, *text);
  } else if (const auto* integer = std::get_if<std::int64_t>(&value)) {
    writer.Int64(*integer);
  } else if (const auto* unsigned_integer = std::get_if<std::uint64_t>(&value)) {
    writer.Uint64(*unsigned_integer);
  } else if (const auto* real = std::get_if<double>(&value)) {
    // JSON has no NaN or infinity (RapidJSON would refuse them and leave the line cut short).
    if (std::isnan(*real)) {
      writer.String("NaN");
    } else if (std::isinf(*real)) {
      writer.String(*real > 0 ? "+Inf" : "-Inf");
    } else {
      writer.Double(*real);
    }
  } else if (const auto* flag = std::get_if<bool>(&value)) {
    writer.Bool(*flag);
  }
}

std::span<const Field> as_span(std::initializer_list<Field> fields) {
  return {fields.begin(), fields.size()};
}

}  // namespace

std::string_view log_level_name(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

std::optional<LogLevel> parse_log_level(std::string_view name) noexcept {
  if (name == "debug") return LogLevel::kDebug;
  if (name == "info") return LogLevel::kInfo;
  if (name == "warn" || name == "warning") return LogLevel::kWarn;
  if (name == "error") return LogLevel::kError;
  return std::nullopt;
}

std::string format_log_time(std::chrono::system_clock::time_point time) {
  using namespace std::chrono;
  const auto millis = floor<milliseconds>(time);
  const auto day = floor<days>(millis);
  const year_month_day date{day};
  const hh_mm_ss clock{millis - day};
  char text[32];
  std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
                static_cast<int>(clock.seconds().count()), static_cast<int>(clock.subseconds().count()));
  return text;
}

Logger::Logger(std::string component, LoggerOptions options)
    : Logger(std::move(component), std::cout, std::move(options)) {}

Logger::Logger(std::string component, std::ostream& out, LoggerOptions options)
    : Logger(std::move(component), std::make_shared<Shared>(out, std::move(options))) {}

Logger::Logger(std::string component, std::shared_ptr<Shared> shared)
    : component_(std::move(component)), shared_(std::move(shared)) {}

Logger Logger::child(std::string component) const {
  return Logger(std::move(component), shared_);
}

void Logger::set_level(LogLevel level) noexcept {
  shared_->level.store(level, std::memory_order_relaxed);
}

LogLevel Logger::level() const noexcept {
  return shared_->level.load(std::memory_order_relaxed);
}

bool Logger::enabled(LogLevel level) const noexcept {
  return level >= this->level();
}

void Logger::debug(std::string_view msg, std::initializer_list<Field> fields) const {
  log(LogLevel::kDebug, msg, as_span(fields));
}
void Logger::info(std::string_view msg, std::initializer_list<Field> fields) const {
  log(LogLevel::kInfo, msg, as_span(fields));
}
void Logger::warn(std::string_view msg, std::initializer_list<Field> fields) const {
  log(LogLevel::kWarn, msg, as_span(fields));
}
void Logger::error(std::string_view msg, std::initializer_list<Field> fields) const {
  log(LogLevel::kError, msg, as_span(fields));
}

void Logger::log(LogLevel level, std::string_view msg, std::span<const Field> fields) const {
  if (!enabled(level)) return;
  write_line(format_line(level, msg, fields, std::nullopt));
}

std::string Logger::memory_key(std::string_view key) const {
  // Keys are per component, so two components using the same key do not silence each other.
  std::string scoped = component_;
  scoped.push_back('\0');
  scoped.append(key);
  return scoped;
}

bool Logger::log_once(std::string_view key, LogLevel level, std::string_view msg,
                      std::initializer_list<Field> fields) const {
  if (!enabled(level)) return false;
  {
    MutexLock lock(shared_->memory_mutex);
    if (shared_->logged_once.size() >= kMaxRememberedKeys) shared_->logged_once.clear();
    if (!shared_->logged_once.insert(memory_key(key)).second) return false;
  }
  write_line(format_line(level, msg, as_span(fields), std::nullopt));
  return true;
}

bool Logger::warn_once(std::string_view key, std::string_view msg,
                       std::initializer_list<Field> fields) const {
  return log_once(key, LogLevel::kWarn, msg, fields);
}

bool Logger::log_every(std::string_view key, std::chrono::nanoseconds interval, LogLevel level,
                       std::string_view msg, std::initializer_list<Field> fields) const {
  if (!enabled(level)) return false;
  const auto now = shared_->monotonic_clock();
  std::uint64_t suppressed = 0;
  {
    MutexLock lock(shared_->memory_mutex);
    if (shared_->rate_limited.size() >= kMaxRememberedKeys) shared_->rate_limited.clear();
    auto [it, inserted] = shared_->rate_limited.try_emplace(memory_key(key));
    auto& state = it->second;
    if (!inserted && now - state.last_written < interval) {
      ++state.suppressed;
      return false;
    }
    suppressed = state.suppressed;
    state.suppressed = 0;
    state.last_written = now;
  }
  write_line(format_line(level, msg, as_span(fields),
                         suppressed > 0 ? std::optional<std::uint64_t>(suppressed) : std::nullopt));
  return true;
}

std::string Logger::format_line(LogLevel level, std::string_view msg, std::span<const Field> fields,
                                std::optional<std::uint64_t> suppressed) const {
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  writer.Key("ts");
  write_string(writer, format_log_time(shared_->wall_clock()));
  writer.Key("level");
  write_string(writer, log_level_name(level));
  writer.Key("msg");
  write_string(writer, msg);
  writer.Key("component");
  write_string(writer, component_);
  for (const Field& field : fields) {
    if (is_reserved_key(field.key, suppressed.has_value())) {
      write_key(writer, "field." + field.key);
    } else {
      write_key(writer, field.key);
    }
    write_value(writer, field.value);
  }
  if (suppressed) {
    writer.Key("suppressed");
    writer.Uint64(*suppressed);
  }
  writer.EndObject();
  std::string line(buffer.GetString(), buffer.GetSize());
  line.push_back('\n');
  return line;
}

void Logger::write_line(const std::string& line) const {
  MutexLock lock(shared_->write_mutex);
  shared_->out.write(line.data(), static_cast<std::streamsize>(line.size()));
  shared_->out.flush();  // a line must reach the collector even if the process dies right after
}

}  // namespace ovalstream::runtime
