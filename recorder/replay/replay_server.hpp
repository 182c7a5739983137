#pragma once
// `recorder replay --address :3000`: serves the replay over websocket like the original eventreplay. Every
// client that connects (any path; `wscat -c ws://localhost:3000` works) gets its own replay from the start
// (or from --from, snapshot first) at the replay's speed; when the recording ends (without --loop) the
// client is closed with 1000 "end of recording". A plain GET is answered 426 with a short text that says to
// use a websocket. A client that goes away cancels its replay.
// Thread safety: start(), shut_down() and active_replays() may be called from any thread. Replays run on
// the io_context given (each on its own strand).

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "ovalstream/hub/server.hpp"
#include "ovalstream/runtime/address.hpp"
#include "ovalstream/runtime/log.hpp"
#include "replay/replayer.hpp"

namespace ovalstream::recorder {

struct ReplayServerOptions {
  runtime::ListenAddress address;  // port 0: any free port (tests)
  ReplayPlan plan;                 // what every client gets
  // A client's queue bound: --speed max queues the recording at once, so it is larger than the
  // aggregator's default. Over it the client is closed with 1008.
  std::size_t client_queue_bytes = 64u << 20;
};

class ReplayServer {
 public:
  // Binds; throws std::system_error when the address cannot be bound.
  ReplayServer(boost::asio::io_context& io, ReplayServerOptions options, runtime::Logger logger);
  ~ReplayServer();
  ReplayServer(const ReplayServer&) = delete;
  ReplayServer& operator=(const ReplayServer&) = delete;

  std::uint16_t port() const;
  void start();
  // Stops accepting, cancels every replay and closes every client with 1001; `done` when all are closed.
  void shut_down(std::function<void()> done);
  std::size_t active_replays() const;

  struct Clients;  // shared with the connections' handlers; defined in the .cpp

 private:
  std::shared_ptr<Clients> clients_;
  std::unique_ptr<hub::Server> server_;
};

}  // namespace ovalstream::recorder
