#include "routes.hpp"

#include <algorithm>

namespace ovalstream::aggregator {
namespace {

constexpr std::string_view kCompetitionsPath = "/v1/competitions";

hub::HttpResponse text_response(unsigned status, std::string body) {
  hub::HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  response.body += '\n';
  return response;
}

hub::HttpResponse json_response(std::string body) {
  hub::HttpResponse response;
  response.content_type = "application/json";
  response.body = std::move(body);
  return response;
}

}  // namespace

bool is_well_formed_competition_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

RouteTarget classify_path(std::string_view path) {
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  if (path == kCompetitionsPath) return {RouteTarget::Kind::kCompetitions, {}};
  if (path.size() <= kCompetitionsPath.size() + 1 ||
      path.substr(0, kCompetitionsPath.size()) != kCompetitionsPath ||
      path[kCompetitionsPath.size()] != '/') {
    return {RouteTarget::Kind::kNotFound, {}};
  }
  const std::string_view id = path.substr(kCompetitionsPath.size() + 1);
  if (!is_well_formed_competition_id(id)) return {RouteTarget::Kind::kBadId, std::string(id)};
  return {RouteTarget::Kind::kCompetition, std::string(id)};
}

hub::Router make_hub_router(std::shared_ptr<CompetitionRegistry> registry,
                            std::shared_ptr<std::atomic<bool>> draining,
                            std::shared_ptr<const hub::StaticFiles> static_files) {
  return [registry, draining, static_files](const hub::Request& request) -> hub::Route {
    const RouteTarget target = classify_path(request.path);
    switch (target.kind) {
      case RouteTarget::Kind::kNotFound:
        if (static_files) {
          if (auto response = static_files->respond(request)) return std::move(*response);
        }
        return text_response(404, "not found: try /v1/competitions or /v1/competitions/{id}");
      case RouteTarget::Kind::kBadId:
        return text_response(400, "malformed competition id: expected 1 to 64 of A-Z a-z 0-9 - _");
      default:
        break;
    }
    if (request.method != "GET") return text_response(405, "method not allowed: use GET");
    if (target.kind == RouteTarget::Kind::kCompetition && !registry->follows(target.competition_id)) {
      return text_response(
          404, "competition " + target.competition_id + " is not followed by this aggregator (--filter)");
    }
    if (request.websocket_upgrade && draining->load())
      return text_response(503, "draining: connect to another replica");
    auto resume = parse_resume_request(request.target);
    if (const auto* error = std::get_if<std::string>(&resume)) return text_response(400, *error);
    if (!request.websocket_upgrade) {
      return std::function<void(hub::Respond)>([registry, target](hub::Respond respond) {
        auto reply = [respond = std::move(respond)](std::string json) {
          respond(json_response(std::move(json)));
        };
        if (target.kind == RouteTarget::Kind::kCompetitions) {
          registry->list(std::move(reply));
        } else {
          registry->state_view(target.competition_id, std::move(reply));
        }
      });
    }
    hub::WebSocketHandlers handlers;
    std::weak_ptr<CompetitionRegistry> weak = registry;
    if (target.kind == RouteTarget::Kind::kCompetitions) {
      handlers.endpoint = "competitions";
      handlers.on_open = [weak](const std::shared_ptr<hub::Connection>& connection) {
        if (auto registry = weak.lock()) registry->join_activations(connection);
      };
      handlers.on_close = [weak](const std::shared_ptr<hub::Connection>& connection) {
        if (auto registry = weak.lock()) registry->leave_activations(connection);
      };
    } else {
      handlers.endpoint = "competition";
      const std::string id = target.competition_id;
      handlers.on_open = [weak, id, resume = std::get<ResumeRequest>(std::move(resume))](
                             const std::shared_ptr<hub::Connection>& connection) {
        if (auto registry = weak.lock()) registry->join(id, connection, resume);
      };
      handlers.on_close = [weak, id](const std::shared_ptr<hub::Connection>& connection) {
        if (auto registry = weak.lock()) registry->leave(id, connection);
      };
    }
    return handlers;
  };
}

}  // namespace ovalstream::aggregator
