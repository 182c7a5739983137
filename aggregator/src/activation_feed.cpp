#include "activation_feed.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <algorithm>
#include <boost/asio/post.hpp>

#include "ovalstream/hub/frame.hpp"

namespace ovalstream::aggregator {

ActivationFeed::ActivationFeed(boost::asio::io_context& io) : strand_(boost::asio::make_strand(io)) {}

void ActivationFeed::activated(core::Event event, core::Position position, std::int64_t published_ns) {
  boost::asio::post(strand_, [self = shared_from_this(), event = std::move(event), position, published_ns] {
    Latest& latest = self->latest_by_competition_[event.header.competition_id];
    if (position <= latest.position) return;  // already seen (a consumer reset redelivered it)
    latest = Latest{position, event, published_ns};
    const hub::Frame frame = hub::make_text_frame(event.bytes, published_ns);
    const std::string& id = event.header.competition_id;
    std::erase_if(self->subscribers_, [&](Subscriber& subscriber) {
      if (subscriber.scope && !subscriber.scope->covers(id)) return false;  // not the token's to see
      if (!subscriber.sent.insert(id).second) return false;                 // sent this connection already
      return !subscriber.connection->send(frame);
    });
  });
}

std::vector<const ActivationFeed::Latest*> ActivationFeed::oldest_first(
    const auth::CompetitionScope* scope) const {
  std::vector<const Latest*> result;
  for (const auto& [id, latest] : latest_by_competition_) {
    if (!scope || scope->covers(id)) result.push_back(&latest);
  }
  std::sort(result.begin(), result.end(),
            [](const Latest* a, const Latest* b) { return a->position < b->position; });
  return result;
}

void ActivationFeed::join(std::shared_ptr<hub::Connection> connection,
                          std::shared_ptr<const auth::CompetitionScope> scope) {
  boost::asio::post(strand_, [self = shared_from_this(), connection = std::move(connection),
                              scope = std::move(scope)]() mutable {
    std::vector<hub::Frame> frames;
    Subscriber subscriber{connection, std::move(scope), {}};
    for (const Latest* latest : self->oldest_first(subscriber.scope.get())) {
      frames.push_back(hub::make_text_frame(latest->event.bytes));
      subscriber.sent.insert(latest->event.header.competition_id);
    }
    if (!frames.empty()) connection->send(frames);
    self->subscribers_.push_back(std::move(subscriber));
  });
}

void ActivationFeed::leave(std::shared_ptr<hub::Connection> connection) {
  boost::asio::post(strand_, [self = shared_from_this(), connection = std::move(connection)] {
    std::erase_if(self->subscribers_,
                  [&](const Subscriber& subscriber) { return subscriber.connection == connection; });
  });
}

void ActivationFeed::expire(std::int64_t oldest_ns) {
  boost::asio::post(strand_, [self = shared_from_this(), oldest_ns] {
    std::erase_if(self->latest_by_competition_,
                  [&](const auto& entry) { return entry.second.published_ns < oldest_ns; });
  });
}

void ActivationFeed::list(std::function<void(std::string)> done,
                          std::shared_ptr<const auth::CompetitionScope> scope) {
  boost::asio::post(strand_, [self = shared_from_this(), done = std::move(done), scope = std::move(scope)] {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> out(buffer);
    out.StartArray();
    for (const Latest* latest : self->oldest_first(scope.get())) {
      out.StartObject();
      out.Key("competitionId");
      out.String(latest->event.header.competition_id.c_str());
      rapidjson::Document document;
      document.Parse(latest->event.raw().data(), latest->event.raw().size());
      out.Key("name");
      if (document.IsObject() && document.HasMember("competition") && document["competition"].IsObject() &&
          document["competition"].HasMember("name")) {
        document["competition"]["name"].Accept(out);
      } else {
        out.Null();
      }
      out.Key("activatedAt");
      out.Int64(latest->published_ns);
      out.Key("position");
      out.Uint64(latest->position);
      out.EndObject();
    }
    out.EndArray();
    done(std::string(buffer.GetString(), buffer.GetSize()));
  });
}

}  // namespace ovalstream::aggregator
