#pragma once
// The aggregator's HTTP routes on the hub address:
//   /v1/competitions        websocket: latest activations, then new ones; GET: the list as JSON
//   /v1/competitions/{id}   websocket: snapshot, then live events; GET: the JSON state view
//   anything else           a file of --static-dir when set ("/" is its index.html), else 404
// A malformed id is 400 before any upgrade; while draining, upgrades get 503. Access control
// (access_control.hpp) answers 401/403 before anything else about an endpoint is revealed; static files are
// public (the scoreboard page carries its token in its URL's fragment, which no server sees).
// Thread safety: the Router it returns is called concurrently from connection strands.

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "access_control.hpp"
#include "competition_registry.hpp"
#include "expiry_watch.hpp"
#include "ovalstream/hub/server.hpp"
#include "ovalstream/hub/static_files.hpp"

namespace ovalstream::aggregator {

// A path segment with its %XX escapes decoded; nullopt for a bad escape or a '/' (two segments).
std::optional<std::string> decode_path_segment(std::string_view segment);

struct RouteTarget {
  enum class Kind { kCompetitions, kCompetition, kBadId, kNotFound } kind = Kind::kNotFound;
  std::string competition_id;
};
// Classifies a path ("/v1/competitions/abc", a trailing slash tolerated). The id is percent-decoded and
// must be one a client may ask for (core::is_requestable_competition_id); it is matched case-insensitively.
RouteTarget classify_path(std::string_view path);

// `static_files` (--static-dir, may be null) answers the paths that are not an endpoint, "/" its index.html.
// `access` null: everyone reads everything. `expiry` (may be null) closes connections whose token expired.
hub::Router make_hub_router(std::shared_ptr<CompetitionRegistry> registry,
                            std::shared_ptr<std::atomic<bool>> draining,
                            std::shared_ptr<const hub::StaticFiles> static_files = nullptr,
                            std::shared_ptr<const AccessControl> access = nullptr,
                            std::shared_ptr<ExpiryWatch> expiry = nullptr);

}  // namespace ovalstream::aggregator
