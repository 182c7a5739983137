#include "serve/serve_access.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>

#include "ovalstream/auth/request_token.hpp"
#include "ovalstream/auth/verified_tokens.hpp"

namespace ovalstream::recorder {
namespace {

hub::HttpResponse refusal(unsigned status, std::string_view message) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  writer.Key("error");
  writer.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
  writer.EndObject();
  return hub::HttpResponse{status, "application/json", std::string(buffer.GetString()) + "\n", {}};
}

// The media type of a Content-Type value, without parameters ("application/json; charset=utf-8").
bool is_json_media_type(std::string_view content_type) {
  content_type = content_type.substr(0, content_type.find(';'));
  while (!content_type.empty() && (content_type.back() == ' ' || content_type.back() == '\t')) {
    content_type.remove_suffix(1);
  }
  while (!content_type.empty() && (content_type.front() == ' ' || content_type.front() == '\t')) {
    content_type.remove_prefix(1);
  }
  constexpr std::string_view kJson = "application/json";
  if (content_type.size() != kJson.size()) return false;
  for (std::size_t i = 0; i < kJson.size(); ++i) {
    const char c = content_type[i];
    if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != kJson[i]) return false;
  }
  return true;
}

double unix_seconds_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

hub::Router guard_serve_api(hub::Router api, ServeAccessOptions options, std::shared_ptr<auth::KeyStore> keys,
                            std::shared_ptr<auth::AuthObserver> observer) {
  return [api = std::move(api), options = std::move(options), keys = std::move(keys),
          observer = std::move(observer),
          remembered = std::make_shared<auth::VerifiedTokens>()](const hub::Request& request) -> hub::Route {
    const auto refuse = [&](unsigned status, std::string_view reason, std::string_view message) {
      if (observer) observer->refused(reason);
      hub::HttpResponse response = refusal(status, message);
      if (status == 401) {
        response.headers.emplace_back("WWW-Authenticate", reason == "missing"
                                                              ? "Bearer realm=\"ovalstream-recorder\""
                                                              : "Bearer realm=\"ovalstream-recorder\", "
                                                                "error=\"invalid_token\"");
      }
      return response;
    };
    const bool state_changing = request.method != "GET" && request.method != "HEAD";
    if (state_changing && !request.websocket_upgrade) {
      if (!options.origins.allows(request.header("Origin"))) {
        return refuse(403, "origin",
                      "origin not allowed: state-changing requests from a browser need an origin in "
                      "--allowed-origins");
      }
      if (!is_json_media_type(request.header("Content-Type"))) {
        return refuse(415, "content_type", "send Content-Type: application/json with POST and DELETE");
      }
    }
    if (options.auth_required && keys) {
      // Operators' tools set headers: the token is taken from Authorization only, never from a URL.
      const auth::RequestToken found = auth::find_token(request, {.subprotocol = false, .query = false});
      if (found.transport == auth::TokenTransport::kNone) {
        return refuse(401, "missing", "token required: send Authorization: Bearer <token>");
      }
      const auth::Verification verified =
          remembered->verify(keys->current(), found.token, options.verify, unix_seconds_now());
      if (const auto* failure = std::get_if<auth::Failure>(&verified)) {
        const std::string_view reason = auth::failure_reason(*failure);
        return refuse(401, reason, "token refused: " + std::string(reason));
      }
      const std::string_view needed = state_changing ? kWriteScope : kReadScope;
      if (!std::get<auth::Claims>(verified).has_scope(needed)) {
        return refuse(403, "forbidden", "the token's scope lacks " + std::string(needed));
      }
    }
    return api(request);
  };
}

}  // namespace ovalstream::recorder
