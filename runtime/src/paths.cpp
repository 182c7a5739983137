#include "ovalstream/runtime/paths.hpp"

#include <algorithm>
#include <charconv>

namespace ovalstream::runtime {

namespace fs = std::filesystem;

namespace {

bool is_inside(const fs::path& root, const fs::path& candidate) {
  auto candidate_it = candidate.begin();
  for (auto root_it = root.begin(); root_it != root.end(); ++root_it, ++candidate_it) {
    if (candidate_it == candidate.end() || *root_it != *candidate_it) return false;
  }
  return candidate_it != candidate.end();
}

}  // namespace

bool is_plain_relative_path(std::string_view path) noexcept {
  if (path.empty() || path.front() == '/') return false;
  for (const char c : path) {
    if (c == '\\' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  std::size_t begin = 0;
  while (begin <= path.size()) {
    const std::size_t end = std::min(path.find('/', begin), path.size());
    const std::string_view component = path.substr(begin, end - begin);
    if (component.empty() || component == "." || component == "..") return false;
    begin = end + 1;
  }
  return true;
}

std::optional<std::string> percent_decode(std::string_view text) {
  std::string decoded;
  decoded.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      decoded.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    unsigned value = 0;
    const auto [end, error] = std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16);
    if (error != std::errc() || end != text.data() + i + 3 || value == 0) return std::nullopt;
    decoded.push_back(static_cast<char>(value));
    i += 2;
  }
  return decoded;
}

fs::path resolve_inside(const fs::path& root, std::string_view relative, std::error_code& error) {
  error.clear();
  if (!is_plain_relative_path(relative)) {
    error = std::make_error_code(std::errc::invalid_argument);
    return {};
  }
  const fs::path canonical_root = fs::canonical(root, error);
  if (error) return {};
  // canonical() resolves symlinks, so a link pointing outside ends up outside canonical_root.
  const fs::path file = fs::canonical(canonical_root / fs::path(std::string(relative)), error);
  if (error || !is_inside(canonical_root, file) || !fs::is_regular_file(file, error)) {
    error = std::make_error_code(std::errc::no_such_file_or_directory);
    return {};
  }
  return file;
}

}  // namespace ovalstream::runtime
