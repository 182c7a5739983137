#include "access_control.hpp"

#include "ovalstream/auth/request_token.hpp"

namespace ovalstream::aggregator {
namespace {

double unix_seconds_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

AccessControl::AccessControl(AccessOptions options, std::shared_ptr<auth::KeyStore> keys,
                             std::shared_ptr<auth::AuthObserver> observer)
    : options_(std::move(options)),
      keys_(std::move(keys)),
      observer_(std::move(observer)),
      everything_(std::make_shared<const auth::CompetitionScope>(auth::CompetitionScope::everything())) {}

hub::HttpResponse AccessControl::refuse(unsigned status, std::string_view reason, std::string body) const {
  if (observer_) observer_->refused(reason);
  hub::HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  response.body += '\n';
  if (status == 401) {
    // RFC 6750 section 3: the scheme, and why a token that was sent is refused.
    std::string challenge = "Bearer realm=\"ovalstream\"";
    if (reason != "missing") challenge += ", error=\"invalid_token\"";
    response.headers.emplace_back("WWW-Authenticate", std::move(challenge));
  }
  return response;
}

std::variant<Admission, hub::HttpResponse> AccessControl::admit(const hub::Request& request,
                                                                const std::string& competition_id) const {
  if (request.websocket_upgrade && !options_.origins.allows(request.header("Origin"))) {
    return refuse(403, "origin", "origin not allowed: the page's origin is not in --allowed-origins");
  }
  Admission admission;
  if (request.websocket_upgrade) admission.subprotocol = std::string(auth::chosen_subprotocol(request));
  if (!options_.auth_required || !keys_) {
    admission.scope = everything_;
    return admission;
  }
  const auth::RequestToken found = auth::find_token(request);
  if (found.transport == auth::TokenTransport::kNone) {
    return refuse(
        401, "missing",
        "token required: send Authorization: Bearer <token>, the websocket subprotocols \"ovalstream\" "
        "and \"bearer.<token>\", or ?token=<token>");
  }
  const auth::Verification verified =
      verified_->verify(keys_->current(), found.token, options_.verify, unix_seconds_now());
  if (const auto* failure = std::get_if<auth::Failure>(&verified)) {
    const std::string_view reason = auth::failure_reason(*failure);
    return refuse(401, reason, "token refused: " + std::string(reason));
  }
  const auth::Claims& claims = std::get<auth::Claims>(verified);
  if (!competition_id.empty() && !claims.competitions.covers(competition_id)) {
    return refuse(403, "forbidden", "the token does not cover competition " + competition_id);
  }
  admission.scope = claims.competitions.covers_everything()
                        ? everything_
                        : std::make_shared<const auth::CompetitionScope>(claims.competitions);
  const double valid_until_seconds =
      claims.expires_at + static_cast<double>(options_.verify.clock_skew_seconds);
  admission.valid_until =
      std::chrono::system_clock::time_point(std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::duration<double>(valid_until_seconds)));
  return admission;
}

}  // namespace ovalstream::aggregator
