#pragma once
// The operations endpoints every service serves on its internal address: /metrics (Prometheus text from
// `scrape`), /healthz (200 while the loop answers) and /readyz (200, or 503 naming what is not ready).
// Thread safety: the Router may be called concurrently; so may the two functions it is given.

#include <functional>
#include <string>

#include "ovalstream/hub/server.hpp"

namespace ovalstream::hub {

struct HealthEndpoints {
  std::function<std::string()> scrape;              // the Prometheus text exposition
  std::function<std::string()> readiness_problems;  // "" when ready, else e.g. "nats not connected; "
};

Router make_health_router(HealthEndpoints endpoints);

}  // namespace ovalstream::hub
