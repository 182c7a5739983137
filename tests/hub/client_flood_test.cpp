// A client that sends faster than it reads: the queue bound counts what frames cost in memory, pings are
// answered by one pending pong, and a connection whose queue is over half the bound is not read from until
// a write drains it.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "hub/support/hub_harness.hpp"
#include "hub/support/raw_client.hpp"
#include "websocket_session.hpp"

namespace ovalstream::hub::testing {
namespace {

TEST(ClientFlood, AQueuedFrameCostsItsMemoryNotItsWireBytes) {
  const Frame empty_pong = make_frame(Opcode::kPong, std::make_shared<const std::string>());
  EXPECT_EQ(empty_pong.size(), 2u);
  EXPECT_GE(queued_memory_bytes(empty_pong), 64u) << "the Frame, its buffers and its payload's allocation";
  const Frame event = make_text_frame(std::make_shared<const std::string>(1000, 'x'));
  EXPECT_GE(queued_memory_bytes(event), 1000u + 64u);
}

TEST(ClientFlood, ReadsPauseOverHalfTheBoundAndResumeOnceDrained) {
  ServerOptions options = test_options();
  options.client_queue_bytes = 256 * 1024;
  ConnectionLog log;
  TestServer server(options, websocket_router(log));
  RawClient client(server.port(), 4096);
  ASSERT_TRUE(client.handshake());
  const auto connections = log.wait_for(1, 5s);
  ASSERT_EQ(connections.size(), 1u);

  // Frames the client does not read, each followed by a ping of the client's, until the server stops
  // reading it (bounded: the queue bound would close it first, and the loop ends on its own).
  const Payload payload = text_payload(8 * 1024, 1);
  int frames = 0;
  for (; frames < 400 && server.observer().read_pauses.load() == 0; ++frames) {
    ASSERT_TRUE(connections[0]->send(make_text_frame(payload))) << "closed after " << frames << " frames";
    client.write_all(client_frame(0x89, "p"));
    wait_until([&] { return server.observer().read_pauses.load() > 0; }, 5ms);
  }
  ASSERT_EQ(server.observer().read_pauses.load(), 1u) << frames << " frames";
  EXPECT_EQ(server.observer().slow_consumers.load(), 0u) << "paused before the bound";
  EXPECT_TRUE(connections[0]->is_open());

  // Reading everything drains the queue; the server reads again and answers the pings with a pong.
  bool pong = false;
  for (int i = 0; i < frames + 50 && !pong; ++i) {
    const auto frame = client.read_frame(5s);
    ASSERT_TRUE(frame) << "after " << i << " frames";
    pong = frame->opcode() == 0xA;
  }
  // The last ping may have been answered before the pause: one more, which needs reading resumed.
  client.write_all(client_frame(0x89, "again"));
  std::optional<ServerFrame> answer;
  // Behind it: the rest of the data frames and a pong for each ping read since.
  for (int i = 0; i < 2 * frames + 50; ++i) {
    answer = client.read_frame(5s);
    ASSERT_TRUE(answer);
    if (answer->opcode() == 0xA && answer->payload == "again") break;
  }
  EXPECT_EQ(answer->payload, "again") << "reading resumed once the queue drained";
}

}  // namespace
}  // namespace ovalstream::hub::testing
