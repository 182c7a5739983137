// The operations endpoints shared by the services.

#include "ovalstream/hub/health_routes.hpp"

#include <gtest/gtest.h>

namespace ovalstream::hub {
namespace {

HttpResponse get(const Router& router, const std::string& path) {
  Request request;
  request.method = "GET";
  request.target = path;
  request.path = path;
  Route route = router(request);
  return std::get<HttpResponse>(route);
}

TEST(HealthRoutes, MetricsHealthAndReadiness) {
  std::string problems;
  const Router router = make_health_router({[] { return std::string("up 1\n"); }, [&] { return problems; }});
  EXPECT_EQ(get(router, "/metrics").body, "up 1\n");
  EXPECT_EQ(get(router, "/metrics").content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(get(router, "/healthz").status, 200u);
  EXPECT_EQ(get(router, "/readyz").status, 200u);
  problems = "nats not connected; ";
  const HttpResponse not_ready = get(router, "/readyz");
  EXPECT_EQ(not_ready.status, 503u);
  EXPECT_EQ(not_ready.body, "not ready: nats not connected; \n");
  EXPECT_EQ(get(router, "/other").status, 404u);
}

}  // namespace
}  // namespace ovalstream::hub
