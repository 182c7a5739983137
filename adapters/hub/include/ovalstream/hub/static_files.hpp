#pragma once
// Plain files below a directory answered over HTTP (the scoreboard page, `--static-dir`): GET only,
// "/" and any path ending in '/' mean its index.html, a content type by extension, and request paths that
// never leave the directory (runtime::resolve_inside). A path with a segment starting with '.' (a dotfile
// or dot-directory) is not found. Files are read per request: a page of a few files,
// not a CDN.
// Thread safety: const after construction; respond() may be called concurrently.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>

#include "ovalstream/hub/server.hpp"

namespace ovalstream::hub {

class StaticFiles {
 public:
  // Throws std::invalid_argument when `root` is not a directory (a startup mistake).
  explicit StaticFiles(std::filesystem::path root, std::uint64_t max_file_bytes = 16u << 20);

  // The answer for `request`, or nullopt when no file here matches it (the caller answers 404 its way).
  // A method other than GET on an existing file is 405.
  std::optional<HttpResponse> respond(const Request& request) const;

  // "text/html; charset=utf-8" for index.html, ...; "application/octet-stream" when unknown.
  static std::string_view content_type_for(const std::filesystem::path& file) noexcept;

 private:
  std::filesystem::path root_;
  std::uint64_t max_file_bytes_;
};

}  // namespace ovalstream::hub
