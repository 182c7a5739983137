// The aggregator's access decision (AccessControl) and the expiry watch, without sockets: what a request
// is answered before any upgrade, and connections closed with 4001 at their deadline unless forgotten.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <mutex>
#include <thread>

#include "access_control.hpp"
#include "expiry_watch.hpp"
#include "support/token_minter.hpp"

namespace ovalstream::aggregator {
namespace {

using namespace std::chrono_literals;

class RecordingConnection final : public hub::Connection {
 public:
  explicit RecordingConnection(std::uint64_t id) : id_(id) {}
  bool send(std::span<const hub::Frame>) override { return true; }
  void close(std::uint16_t code, std::string_view reason) override {
    std::lock_guard lock(mutex_);
    code_ = code;
    reason_ = std::string(reason);
  }
  bool is_open() const override { return code() == 0; }
  std::uint64_t id() const override { return id_; }
  std::uint16_t code() const {
    std::lock_guard lock(mutex_);
    return code_;
  }
  std::string reason() const {
    std::lock_guard lock(mutex_);
    return reason_;
  }

 private:
  const std::uint64_t id_;
  mutable std::mutex mutex_;
  std::uint16_t code_ = 0;
  std::string reason_;
};

TEST(ExpiryWatchTest, ClosesWith4001AtTheDeadlineUnlessForgotten) {
  boost::asio::io_context io;
  auto watch = std::make_shared<ExpiryWatch>(io);
  auto due = std::make_shared<RecordingConnection>(1);
  auto forgotten = std::make_shared<RecordingConnection>(2);
  auto later = std::make_shared<RecordingConnection>(3);
  const auto now = std::chrono::system_clock::now();
  watch->watch(due, now + 100ms);
  watch->watch(forgotten, now + 100ms);
  watch->watch(later, now + 1h);
  watch->forget(*forgotten);
  EXPECT_EQ(watch->watched(), 2u);
  watch->start();
  std::thread runner([&] { io.run_for(1s); });
  runner.join();
  EXPECT_EQ(due->code(), kTokenExpiredCloseCode);
  EXPECT_EQ(due->reason(), "token expired");
  EXPECT_EQ(forgotten->code(), 0) << "forgotten (closed before its deadline)";
  EXPECT_EQ(later->code(), 0);
  EXPECT_EQ(watch->watched(), 1u) << "the closed one is no longer watched";
  watch->stop();
  io.restart();
  io.run_for(500ms);  // the stop cancels the timer: nothing left to run
  EXPECT_TRUE(io.stopped());
}

hub::Request request(std::string target, std::vector<std::pair<std::string, std::string>> headers = {},
                     bool upgrade = true) {
  hub::Request r;
  r.method = "GET";
  r.target = std::move(target);
  r.path = r.target.substr(0, r.target.find('?'));
  r.websocket_upgrade = upgrade;
  r.headers = std::move(headers);
  return r;
}

std::optional<unsigned> refusal_status(const std::variant<Admission, hub::HttpResponse>& admitted) {
  if (const auto* response = std::get_if<hub::HttpResponse>(&admitted)) return response->status;
  return std::nullopt;
}

TEST(AccessControlTest, OffAdmitsEveryoneToEverything) {
  const AccessControl open({}, nullptr, nullptr);
  const auto admitted = open.admit(request("/v1/competitions/a"), "a");
  ASSERT_TRUE(std::holds_alternative<Admission>(admitted));
  EXPECT_TRUE(std::get<Admission>(admitted).scope->covers("anything"));
  EXPECT_FALSE(std::get<Admission>(admitted).valid_until.has_value());
}

TEST(AccessControlTest, RequiredChecksTheTokenAndItsCompetitions) {
  auth::KeySet keys;
  keys.hmac_secret = std::string(testing::kTestHmacSecret);
  AccessOptions options;
  options.auth_required = true;
  options.verify.clock_skew_seconds = 10;
  const AccessControl control(options, std::make_shared<auth::KeyStore>(keys), nullptr);
  const std::string token =
      testing::mint_token("HS256", testing::kTestHmacSecret, testing::competition_claims(R"(["a"])", 60));
  const std::string bearer = "Bearer " + token;

  EXPECT_EQ(refusal_status(control.admit(request("/v1/competitions/a"), "a")), 401u);
  EXPECT_EQ(refusal_status(control.admit(request("/v1/competitions/b", {{"Authorization", bearer}}), "b")),
            403u);
  const auto admitted = control.admit(request("/v1/competitions/a", {{"Authorization", bearer}}), "a");
  ASSERT_TRUE(std::holds_alternative<Admission>(admitted));
  const Admission& admission = std::get<Admission>(admitted);
  EXPECT_TRUE(admission.scope->covers("A"));
  EXPECT_FALSE(admission.scope->covers("b"));
  ASSERT_TRUE(admission.valid_until.has_value());
  const auto left = *admission.valid_until - std::chrono::system_clock::now();
  EXPECT_GT(left, 60s) << "exp plus the skew";
  EXPECT_LT(left, 71s);
  // The list: admitted with the scope the registry filters by.
  EXPECT_TRUE(std::holds_alternative<Admission>(
      control.admit(request("/v1/competitions", {{"Authorization", bearer}}, false), "")));
  // A refusal never quotes the token.
  const auto refused = control.admit(request("/v1/competitions/a?token=" + token.substr(0, 20)), "a");
  ASSERT_TRUE(std::holds_alternative<hub::HttpResponse>(refused));
  EXPECT_EQ(std::get<hub::HttpResponse>(refused).body.find(token.substr(0, 20)), std::string::npos);
}

TEST(AccessControlTest, OriginsAreCheckedOnUpgradesOnly) {
  AccessOptions options;
  options.origins = std::get<auth::OriginPolicy>(auth::OriginPolicy::parse({"https://live.example.org"}));
  const AccessControl control(options, nullptr, nullptr);
  EXPECT_EQ(
      refusal_status(control.admit(request("/v1/competitions", {{"Origin", "https://evil.example"}}), "")),
      403u);
  EXPECT_FALSE(refusal_status(
      control.admit(request("/v1/competitions", {{"Origin", "https://live.example.org"}}), "")));
  EXPECT_FALSE(refusal_status(
      control.admit(request("/v1/competitions", {{"Origin", "https://evil.example"}}, false), "")));
}

}  // namespace
}  // namespace ovalstream::aggregator
