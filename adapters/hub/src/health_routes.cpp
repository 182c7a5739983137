#include "ovalstream/hub/health_routes.hpp"

namespace ovalstream::hub {
namespace {

HttpResponse text(unsigned status, std::string body) {
  return HttpResponse{status, "text/plain; charset=utf-8", std::move(body), {}};
}

}  // namespace

Router make_health_router(HealthEndpoints endpoints) {
  return [endpoints = std::move(endpoints)](const Request& request) -> Route {
    if (request.path == "/metrics") {
      return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", endpoints.scrape(), {}};
    }
    // Answered from an io_context thread: the process and its loop are alive.
    if (request.path == "/healthz") return text(200, "ok\n");
    if (request.path == "/readyz") {
      const std::string problems = endpoints.readiness_problems();
      if (problems.empty()) return text(200, "ready\n");
      return text(503, "not ready: " + problems + "\n");
    }
    return text(404, "not found: try /metrics, /healthz or /readyz\n");
  };
}

}  // namespace ovalstream::hub
