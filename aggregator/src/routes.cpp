#include "routes.hpp"

#include <algorithm>
#include <optional>

#include "ovalstream/core/competition_id.hpp"

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

std::optional<std::string> decode_path_segment(std::string_view segment) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string decoded;
  decoded.reserve(segment.size());
  for (std::size_t i = 0; i < segment.size(); ++i) {
    if (segment[i] == '/') return std::nullopt;  // two segments: not an id
    if (segment[i] != '%') {
      decoded.push_back(segment[i]);
      continue;
    }
    const int high = i + 1 < segment.size() ? hex(segment[i + 1]) : -1;
    const int low = i + 2 < segment.size() ? hex(segment[i + 2]) : -1;
    if (high < 0 || low < 0) return std::nullopt;
    decoded.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return decoded;
}

RouteTarget classify_path(std::string_view path) {
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  if (path == kCompetitionsPath) return {RouteTarget::Kind::kCompetitions, {}};
  if (path.size() <= kCompetitionsPath.size() + 1 ||
      path.substr(0, kCompetitionsPath.size()) != kCompetitionsPath ||
      path[kCompetitionsPath.size()] != '/') {
    return {RouteTarget::Kind::kNotFound, {}};
  }
  const std::string_view segment = path.substr(kCompetitionsPath.size() + 1);
  // Checked before decoding too, so that a request cannot make us decode an unbounded segment.
  if (segment.size() > 3 * core::kMaxCompetitionIdBytes) return {RouteTarget::Kind::kBadId, {}};
  std::optional<std::string> id = decode_path_segment(segment);
  if (!id || !core::is_requestable_competition_id(*id)) return {RouteTarget::Kind::kBadId, {}};
  return {RouteTarget::Kind::kCompetition, std::move(*id)};
}

hub::Router make_hub_router(std::shared_ptr<CompetitionRegistry> registry,
                            std::shared_ptr<std::atomic<bool>> draining,
                            std::shared_ptr<const hub::StaticFiles> static_files,
                            std::shared_ptr<const AccessControl> access,
                            std::shared_ptr<ExpiryWatch> expiry) {
  return [registry, draining, static_files, access, expiry](const hub::Request& request) -> hub::Route {
    const RouteTarget target = classify_path(request.path);
    switch (target.kind) {
      case RouteTarget::Kind::kNotFound:
        if (static_files) {
          if (auto response = static_files->respond(request)) return std::move(*response);
        }
        return text_response(404, "not found: try /v1/competitions or /v1/competitions/{id}");
      case RouteTarget::Kind::kBadId:
        return text_response(
            400,
            "malformed competition id: it must be able to stand as one NATS subject token (no . * > "
            "or whitespace, no control characters, UTF-8, at most 256 bytes once percent-decoded)");
      default:
        break;
    }
    if (request.method != "GET") return text_response(405, "method not allowed: use GET");
    Admission admission;
    if (access) {
      auto admitted = access->admit(request, target.competition_id);
      if (auto* refusal = std::get_if<hub::HttpResponse>(&admitted)) return std::move(*refusal);
      admission = std::get<Admission>(std::move(admitted));
    }
    if (target.kind == RouteTarget::Kind::kCompetition && !registry->follows(target.competition_id)) {
      return text_response(
          404, "competition " + target.competition_id + " is not followed by this aggregator (--filter)");
    }
    if (request.websocket_upgrade && draining->load())
      return text_response(503, "draining: connect to another replica");
    auto resume = parse_resume_request(request.target);
    if (const auto* error = std::get_if<std::string>(&resume)) return text_response(400, *error);
    if (!request.websocket_upgrade) {
      return std::function<void(hub::Respond)>(
          [registry, target, scope = admission.scope](hub::Respond respond) {
            auto reply = [respond = std::move(respond)](std::string json) {
              respond(json_response(std::move(json)));
            };
            if (target.kind == RouteTarget::Kind::kCompetitions) {
              registry->list(std::move(reply), scope);
            } else {
              registry->state_view(target.competition_id, std::move(reply));
            }
          });
    }
    hub::WebSocketHandlers handlers;
    handlers.subprotocol = admission.subprotocol;
    std::weak_ptr<CompetitionRegistry> weak = registry;
    if (target.kind == RouteTarget::Kind::kCompetitions) {
      handlers.endpoint = "competitions";
      handlers.on_open = [weak, scope = admission.scope](const std::shared_ptr<hub::Connection>& connection) {
        if (auto registry = weak.lock()) registry->join_activations(connection, scope);
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
    if (expiry && admission.valid_until) {
      // Closed with 4001 once its token is no longer valid; forgotten when it closes before.
      handlers.on_open = [open = std::move(handlers.on_open), expiry, until = *admission.valid_until](
                             const std::shared_ptr<hub::Connection>& connection) {
        open(connection);
        expiry->watch(connection, until);
      };
      handlers.on_close = [close = std::move(handlers.on_close),
                           expiry](const std::shared_ptr<hub::Connection>& connection) {
        expiry->forget(*connection);
        close(connection);
      };
    }
    return handlers;
  };
}

}  // namespace ovalstream::aggregator
