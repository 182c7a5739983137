#include "ovalstream/hub/static_files.hpp"

#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

#include "ovalstream/runtime/paths.hpp"

namespace ovalstream::hub {

namespace fs = std::filesystem;

StaticFiles::StaticFiles(fs::path root, std::uint64_t max_file_bytes)
    : root_(std::move(root)), max_file_bytes_(max_file_bytes) {
  std::error_code error;
  if (!fs::is_directory(root_, error)) {
    throw std::invalid_argument("static directory " + root_.string() + " is not a directory");
  }
}

std::string_view StaticFiles::content_type_for(const fs::path& file) noexcept {
  const std::string extension = file.extension().string();
  if (extension == ".html" || extension == ".htm") return "text/html; charset=utf-8";
  if (extension == ".css") return "text/css; charset=utf-8";
  if (extension == ".js" || extension == ".mjs") return "text/javascript; charset=utf-8";
  if (extension == ".json") return "application/json";
  if (extension == ".svg") return "image/svg+xml";
  if (extension == ".png") return "image/png";
  if (extension == ".ico") return "image/x-icon";
  if (extension == ".txt") return "text/plain; charset=utf-8";
  if (extension == ".woff2") return "font/woff2";
  return "application/octet-stream";
}

std::optional<HttpResponse> StaticFiles::respond(const Request& request) const {
  if (request.websocket_upgrade || request.path.empty() || request.path.front() != '/') return std::nullopt;
  auto relative = runtime::percent_decode(std::string_view(request.path).substr(1));
  if (!relative) return std::nullopt;
  if (relative->empty() || relative->back() == '/') relative->append("index.html");
  // Dotfiles and dot-directories (.git, .env, editor backups) are never part of a page: not found.
  for (std::size_t start = 0; start < relative->size();) {
    if ((*relative)[start] == '.') return std::nullopt;
    const std::size_t slash = relative->find('/', start);
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  std::error_code error;
  const fs::path file = runtime::resolve_inside(root_, *relative, error);
  if (error) return std::nullopt;
  if (request.method != "GET") {
    return HttpResponse{405, "text/plain; charset=utf-8", "only GET\n", {{"Allow", "GET"}}};
  }
  const auto size = fs::file_size(file, error);
  if (error) return std::nullopt;
  if (size > max_file_bytes_) return HttpResponse{413, "text/plain; charset=utf-8", "file too large\n", {}};
  std::ifstream in(file, std::ios::binary);
  std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return HttpResponse{500, "text/plain; charset=utf-8", "cannot read file\n", {}};
  HttpResponse response{200, std::string(content_type_for(file)), std::move(body), {}};
  // The page is small and changes with a deployment: always revalidate rather than serve a stale page.
  response.headers.emplace_back("Cache-Control", "no-cache");
  return response;
}

}  // namespace ovalstream::hub
