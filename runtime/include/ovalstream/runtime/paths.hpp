#pragma once
// Paths that come from requests (a recording name, a static file) resolved so they never leave the
// directory they are meant for: the shape is checked first (plain relative components), then the
// canonical result must lie inside the canonical root, which also catches symlinks leading out.
// Thread safety: pure functions, apart from resolve_inside() reading the file system.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace ovalstream::runtime {

// True for a '/'-separated relative path whose components are non-empty and not "." or "..", without
// backslashes or control characters.
bool is_plain_relative_path(std::string_view path) noexcept;

// Decodes %XX escapes of a URL path; nullopt for a malformed escape or an encoded NUL.
std::optional<std::string> percent_decode(std::string_view text);

// The regular file `relative` names below `root`. Errors: std::errc::invalid_argument when `relative` is not
// a plain relative path, std::errc::no_such_file_or_directory when there is no regular file there or its
// canonical path is outside the canonical root.
std::filesystem::path resolve_inside(const std::filesystem::path& root, std::string_view relative,
                                     std::error_code& error);

}  // namespace ovalstream::runtime
