#pragma once
// `/v1/competitions`: the latest CompetitionActivatedEvent of each competition in the history window,
// oldest first, then activations of competitions the connection has not been sent yet. Each competition goes
// to a connection once, as the original sent it: competition pickers written for it add an entry per
// activation, and a re-activation would show as a duplicate.
// Thread safety: all public members may be called from any thread; they post to the feed's strand.

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "ovalstream/auth/competition_scope.hpp"
#include "ovalstream/core/competition_id.hpp"
#include "ovalstream/core/competition_state.hpp"
#include "ovalstream/hub/connection.hpp"

namespace ovalstream::aggregator {

class ActivationFeed : public std::enable_shared_from_this<ActivationFeed> {
 public:
  explicit ActivationFeed(boost::asio::io_context& io);

  // A CompetitionActivatedEvent at `position`, stored at `published_ns`.
  void activated(core::Event event, core::Position position, std::int64_t published_ns);
  // `scope`: the competitions the connection may see (its token's); null = every competition.
  void join(std::shared_ptr<hub::Connection> connection,
            std::shared_ptr<const auth::CompetitionScope> scope = nullptr);
  void leave(std::shared_ptr<hub::Connection> connection);
  // Forgets activations stored before `oldest_ns` (the history window moved on).
  void expire(std::int64_t oldest_ns);
  // JSON array of {competitionId, name, activatedAt (ns), position} for a plain GET, oldest first; only the
  // competitions `scope` covers (null = every one).
  void list(std::function<void(std::string)> done,
            std::shared_ptr<const auth::CompetitionScope> scope = nullptr);

 private:
  struct Latest {
    core::Position position = 0;
    core::Event event;
    std::int64_t published_ns = 0;
  };
  struct Subscriber {
    std::shared_ptr<hub::Connection> connection;
    std::shared_ptr<const auth::CompetitionScope> scope;  // null = every competition
    // The competitions this connection was sent; bounded by the competitions in the history window.
    std::set<std::string, core::CompetitionIdLess> sent;
  };
  // The latest activations `scope` covers (null = all), oldest first.
  std::vector<const Latest*> oldest_first(const auth::CompetitionScope* scope = nullptr) const;

  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  std::map<std::string, Latest, core::CompetitionIdLess> latest_by_competition_;
  std::vector<Subscriber> subscribers_;
};

}  // namespace ovalstream::aggregator
