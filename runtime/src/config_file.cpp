#include "ovalstream/runtime/config_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <map>

#include "ovalstream/runtime/unique_fd.hpp"
#include "quote.hpp"

namespace ovalstream::runtime {

namespace {

// Where an error is: 1-based line and column, 0 when yaml-cpp gives none.
void locate(ParsedConfigText& parsed, const YAML::Mark& mark) {
  if (mark.is_null()) return;
  parsed.error_line = mark.line + 1;
  parsed.error_column = mark.column + 1;
}

std::string describe_node(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
      return "an empty value";
    default:
      return "a plain value";
  }
}

// Keys are matched case-insensitively (viper lower-cases them), so "Debug" and "debug" are the same key.
std::string lower_case(std::string_view text) {
  std::string lowered(text);
  for (char& c : lowered) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lowered;
}

}  // namespace

ParsedConfigText parse_config_text(std::string_view text) {
  ParsedConfigText parsed;
  // yaml-cpp reads a NUL as the end of its input; a config file never holds one.
  if (text.find('\0') != std::string_view::npos) {
    parsed.error = "holds a NUL byte; not a YAML text";
    return parsed;
  }
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& error) {
    locate(parsed, error.mark);
    parsed.error = "not valid YAML: " + error.msg;
    return parsed;
  } catch (const std::exception& error) {
    parsed.error = std::string("not valid YAML: ") + error.what();
    return parsed;
  }
  if (documents.empty()) return parsed;  // an empty file, or only comments
  if (documents.size() > 1) {
    parsed.error = "holds " + std::to_string(documents.size()) + " YAML documents; one mapping is expected";
    return parsed;
  }
  const YAML::Node top = documents.front();
  if (top.IsNull()) return parsed;
  if (!top.IsMap()) {
    locate(parsed, top.Mark());
    parsed.error = "the top level is " + describe_node(top) +
                   "; expected a mapping of flag names to values (e.g. \"nats-url: nats://host:4222\")";
    return parsed;
  }

  std::map<std::string, int> first_line_of_key;
  for (const auto& entry : top) {
    // Copies: yaml-cpp's iterator hands out temporaries, and nodes are cheap handles.
    const YAML::Node key = entry.first;
    const YAML::Node value = entry.second;
    const int line = key.Mark().is_null() ? 0 : key.Mark().line + 1;
    const auto fail_at_key = [&parsed, line](std::string message) {
      parsed.error = std::move(message);
      parsed.error_line = line;
      parsed.values.clear();
      return parsed;
    };
    if (!key.IsScalar() || key.Scalar().empty()) {
      return fail_at_key("a key is " + describe_node(key) + "; keys are flag names");
    }
    ConfigValue config_value;
    config_value.key = key.Scalar();
    config_value.line = line;
    const auto [earlier, inserted] = first_line_of_key.emplace(lower_case(config_value.key), line);
    if (!inserted) {
      return fail_at_key(
          "key " + quote(config_value.key) + " is given twice" +
          (earlier->second > 0 ? " (first on line " + std::to_string(earlier->second) + ")" : ""));
    }
    if (value.IsNull()) {
      config_value.kind = ConfigValue::Kind::kNull;
    } else if (value.IsScalar()) {
      config_value.items.push_back(value.Scalar());
    } else if (value.IsSequence()) {
      config_value.kind = ConfigValue::Kind::kSequence;
      std::size_t index = 0;
      for (const auto& item : value) {
        ++index;
        if (!item.IsScalar()) {
          return fail_at_key("key " + quote(config_value.key) + ": item " + std::to_string(index) + " is " +
                             describe_node(item) + "; a list holds plain values");
        }
        config_value.items.push_back(item.Scalar());
      }
    } else {
      return fail_at_key("key " + quote(config_value.key) + " holds " + describe_node(value) +
                         "; a flag takes a plain value (or a list, for a list flag)");
    }
    parsed.values.push_back(std::move(config_value));
  }
  return parsed;
}

ConfigFileText read_config_file(const std::string& path) {
  ConfigFileText result;
  const auto fail = [&result](ConfigFileText::Status status, std::string reason) {
    result.status = status;
    result.reason = std::move(reason);
    result.text.clear();
    return result;
  };
  // O_NONBLOCK: a FIFO at the path must not block the start of the process.
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!fd) {
    const int error = errno;
    return fail(error == ENOENT ? ConfigFileText::Status::kMissing : ConfigFileText::Status::kUnreadable,
                std::strerror(error));
  }
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) {
    const int error = errno;
    return fail(ConfigFileText::Status::kUnreadable, std::strerror(error));
  }
  if (!S_ISREG(info.st_mode)) {
    return fail(ConfigFileText::Status::kUnreadable, "not a regular file");
  }
  if (static_cast<std::size_t>(info.st_size) > kMaxConfigFileBytes) {
    return fail(ConfigFileText::Status::kUnreadable,
                "larger than " + std::to_string(kMaxConfigFileBytes) + " bytes; a config file is small");
  }
  char buffer[16384];
  for (;;) {
    const ssize_t received = ::read(fd.get(), buffer, sizeof buffer);
    if (received < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      return fail(ConfigFileText::Status::kUnreadable, std::strerror(error));
    }
    if (received == 0) break;
    result.text.append(buffer, static_cast<std::size_t>(received));
    // The file may grow after fstat().
    if (result.text.size() > kMaxConfigFileBytes) {
      return fail(ConfigFileText::Status::kUnreadable,
                  "larger than " + std::to_string(kMaxConfigFileBytes) + " bytes; a config file is small");
    }
  }
  return result;
}

}  // namespace ovalstream::runtime
