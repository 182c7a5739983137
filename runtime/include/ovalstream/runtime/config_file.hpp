#pragma once
// The --config file of the executables: a YAML mapping of flag names to values, as the Go original read it
// through viper (e.g. "nats-url: nats://x:4222", "debug: true", a list flag as a YAML sequence). FlagSet
// applies the values (flags.hpp); this file only turns text into key/value pairs and reads the file.
//
// parse_config_text() is pure and refuses, with the line where yaml-cpp gives one: malformed YAML, more than
// one document, a top level that is not a mapping, a key that is not a plain name, a key given twice, and
// values that no flag takes (a mapping, a list holding anything but plain values). A key whose value is
// empty ("key:" or "key: ~") is kept as kNull: it sets nothing, but its name is still checked.
// read_config_file() is the only function here that touches the file system.
//
// Thread safety: pure functions, apart from read_config_file() reading the file system.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ovalstream::runtime {

struct ConfigValue {
  enum class Kind : std::uint8_t { kScalar, kSequence, kNull };
  std::string key;  // as written in the file
  Kind kind = Kind::kScalar;
  std::vector<std::string> items;  // kScalar: one; kSequence: each item in order; kNull: none
  int line = 0;                    // 1-based line of the key; 0 when unknown
};

struct ParsedConfigText {
  std::vector<ConfigValue> values;  // in file order; used when `error` is empty
  std::string error;                // e.g. "not valid YAML: end of map not found"
  int error_line = 0;               // 1-based, where the error is; 0 when unknown
  int error_column = 0;             // 1-based; 0 when unknown
  bool ok() const noexcept { return error.empty(); }
};

ParsedConfigText parse_config_text(std::string_view text);

// Config files are small; a larger one is refused instead of being read into memory.
inline constexpr std::size_t kMaxConfigFileBytes = 1 << 20;

struct ConfigFileText {
  enum class Status : std::uint8_t { kRead, kMissing, kUnreadable };
  Status status = Status::kRead;
  std::string text;    // for kRead
  std::string reason;  // otherwise, e.g. "No such file or directory"
};

// Reads a config file. kMissing only when nothing exists at `path` (a missing default file is not an
// error); a directory, a permission problem or a file over kMaxConfigFileBytes is kUnreadable.
ConfigFileText read_config_file(const std::string& path);

// Injectable so that FlagSet's tests need no files.
using ConfigFileReader = std::function<ConfigFileText(const std::string& path)>;

}  // namespace ovalstream::runtime
