// Server-to-client delivery: byte-identical frames in order to two independent client implementations,
// corked gather writes, the slow-consumer bound, close after queued frames, and the write observer.

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/post.hpp>
#include <future>
#include <memory>
#include <thread>
#include <utility>

#include "hub/support/beast_client.hpp"
#include "hub/support/cpprest_client.hpp"
#include "hub/support/hub_harness.hpp"
#include "hub/support/raw_client.hpp"

namespace ovalstream::hub::testing {
namespace {

std::string ws_uri(std::uint16_t port) {
  return "ws://127.0.0.1:" + std::to_string(port) + "/ws";
}

// Occupies `threads` io threads of a hub (each in a handler that waits) until release() or destruction, so
// that nothing runs on any strand meanwhile: what still happens is done by the calling thread.
class HeldIoThreads {
 public:
  HeldIoThreads(boost::asio::io_context& io, int threads)
      : threads_(threads), released_(release_.get_future().share()) {
    for (int i = 0; i < threads; ++i) {
      boost::asio::post(io, [busy = busy_, released = released_] {
        ++*busy;
        released.wait_for(30s);
      });
    }
  }
  ~HeldIoThreads() { release(); }

  bool all_held(std::chrono::milliseconds timeout) const {
    return wait_until([&] { return busy_->load() == threads_; }, timeout);
  }
  void release() {
    if (!std::exchange(released_once_, true)) release_.set_value();
  }

 private:
  const int threads_;
  std::shared_ptr<std::atomic<int>> busy_ = std::make_shared<std::atomic<int>>(0);
  std::promise<void> release_;
  std::shared_future<void> released_;
  bool released_once_ = false;
};

TEST(Delivery, TextFramesArriveByteIdenticalAndInOrderAtCppRestClient) {
  ConnectionLog log;
  TestServer server(test_options(), websocket_router(log));
  CppRestClient client(ws_uri(server.port()));
  ASSERT_TRUE(client.connect());
  auto connections = log.wait_for(1, 5s);
  ASSERT_EQ(connections.size(), 1u);

  // Every length class, and multi-byte UTF-8 (websocketpp validates text frames).
  std::vector<Payload> payloads;
  std::uint64_t sequence = 0;
  for (std::size_t size : {0, 1, 125, 126, 127, 65535, 65536, 300000})
    payloads.push_back(text_payload(size, ++sequence));
  payloads.push_back(std::make_shared<const std::string>(
      "{\"name\":\"Sjinkie Knegt\",\"city\":\"Heerenveen\",\"ø\":\"ĳ€😀\"}"));
  for (const Payload& payload : payloads) ASSERT_TRUE(connections[0]->send(make_text_frame(payload)));

  const auto received = client.wait_for_messages(payloads.size(), 10s);
  ASSERT_EQ(received.size(), payloads.size());
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    EXPECT_EQ(received[i].size(), payloads[i]->size()) << i;
    EXPECT_TRUE(received[i] == *payloads[i]) << "message " << i << " differs";
  }
}

TEST(Delivery, ManyFramesInOneSendAreOneGatherWriteAndArriveInOrder) {
  ConnectionLog log;
  TestServer server(test_options(), websocket_router(log));
  BeastClient client(server.port());
  ASSERT_TRUE(client.connected()) << client.error().message();
  auto connections = log.wait_for(1, 5s);
  ASSERT_EQ(connections.size(), 1u);

  constexpr std::size_t kFrames = 3000;
  std::vector<Frame> frames;
  std::size_t total_bytes = 0;
  for (std::size_t i = 0; i < kFrames; ++i) {
    frames.push_back(make_text_frame(text_payload(20 + (i * 37) % 700, i)));
    total_bytes += frames.back().size();
  }
  const auto writes_before = server.observer().writes.load();
  ASSERT_TRUE(connections[0]->send(frames));

  for (std::size_t i = 0; i < kFrames; ++i) {
    auto message = client.next_message(5s);
    ASSERT_TRUE(message) << "frame " << i << ": " << client.error().message();
    ASSERT_EQ(*message, *frames[i].payload) << "frame " << i;
  }
  ASSERT_TRUE(wait_until([&] { return server.observer().frames.load() >= kFrames; }, 5s));
  // Everything queued at once went out in one gather write (one completed write reported).
  EXPECT_EQ(server.observer().writes.load() - writes_before, 1u);
  EXPECT_EQ(server.observer().frames.load(), kFrames);
  EXPECT_EQ(server.observer().bytes.load(), total_bytes);
}

// A snapshot is sent as one pre-encoded block: the client sees the same frames, the observer counts them.
TEST(Delivery, ABlockOfFramesArrivesAsItsFramesAndIsCountedAsThem) {
  ConnectionLog log;
  TestServer server(test_options(), websocket_router(log));
  BeastClient client(server.port());
  ASSERT_TRUE(client.connected()) << client.error().message();
  auto connections = log.wait_for(1, 5s);
  ASSERT_EQ(connections.size(), 1u);

  constexpr std::size_t kFrames = 133;
  std::vector<Frame> frames;
  std::size_t total_bytes = 0;
  for (std::size_t i = 0; i < kFrames; ++i) {
    frames.push_back(make_text_frame(text_payload(20 + (i * 997) % 70000, i)));  // every header length
    total_bytes += frames.back().size();
  }
  const Frame block = make_frame_block(frames);
  ASSERT_EQ(block.size(), total_bytes);
  ASSERT_TRUE(connections[0]->send_block(frames, block));
  ASSERT_TRUE(connections[0]->send(make_text_frame(text_payload(30, kFrames))));  // then a live frame

  for (std::size_t i = 0; i <= kFrames; ++i) {
    auto message = client.next_message(5s);
    ASSERT_TRUE(message) << "frame " << i << ": " << client.error().message();
    if (i < kFrames) ASSERT_EQ(*message, *frames[i].payload) << "frame " << i;
  }
  ASSERT_TRUE(wait_until([&] { return server.observer().frames.load() >= kFrames + 1; }, 5s));
  EXPECT_EQ(server.observer().frames.load(), kFrames + 1);
}

// A connection with nothing queued writes at once from the sending thread; once the kernel takes no more
// (the client does not read), later sends queue behind the strand's write and share its next write.
TEST(Delivery, SendsWhileTheSocketIsFullAreCorkedIntoFewerWrites) {
  ServerOptions options = test_options();
  options.client_queue_bytes = 64u << 20;
  ConnectionLog log;
  TestServer server(options, websocket_router(log));
  BeastClient client(server.port());
  ASSERT_TRUE(client.connected());
  auto connections = log.wait_for(1, 5s);
  ASSERT_EQ(connections.size(), 1u);

  // 24 MB: more than loopback's socket buffers hold for a client that is not reading (at most the 4 MB
  // tcp_wmem and the receive window).
  constexpr std::size_t kFrames = 6000;
  std::vector<Payload> payloads;
  for (std::size_t i = 0; i < kFrames; ++i) payloads.push_back(text_payload(4000, i));
  for (const Payload& payload : payloads) ASSERT_TRUE(connections[0]->send(make_text_frame(payload)));
  std::size_t in_order = 0;
  for (std::size_t i = 0; i < kFrames; ++i) {
    auto message = client.next_message(10s);
    if (!message || *message != *payloads[i]) break;
    ++in_order;
  }
  EXPECT_EQ(in_order, kFrames);
  ASSERT_TRUE(wait_until([&] { return server.observer().frames.load() >= kFrames; }, 5s));
  const auto writes = server.observer().writes.load();
  EXPECT_LT(writes, kFrames / 2) << "frames queued while a write was in flight should share the next write";
  std::printf("[hub] %zu single-frame sends went out in %llu writes\n", kFrames,
              static_cast<unsigned long long>(writes));
}

// The write of a live frame does not wait for an io thread: with every io thread of the hub busy, a frame
// sent to an idle connection still reaches the client.
// A client that has its 101 is subscribed: on_open (where the aggregator joins the client to its competition)
// runs before the 101 is written, and what it sends follows the 101. Otherwise an event published right
// after a client connected could be applied before the join and reach neither its snapshot nor its stream.
TEST(Delivery, OnOpenRunsBeforeTheClientSeesItsUpgradeResponse) {
  std::atomic<bool> opened{false};
  const Payload greeting = text_payload(100, 7);
  Router router = [&](const Request& request) -> Route {
    if (request.path != "/ws") return HttpResponse{404, "text/plain; charset=utf-8", "not found\n", {}};
    WebSocketHandlers handlers;
    handlers.endpoint = "test";
    handlers.on_open = [&](const std::shared_ptr<Connection>& connection) {
      // Slow, as a join under load can be: the client must not see its 101 meanwhile.
      std::this_thread::sleep_for(300ms);
      opened.store(true);
      connection->send(make_text_frame(greeting));
    };
    return handlers;
  };
  TestServer server(test_options(), router);
  for (int attempt = 0; attempt < 3; ++attempt) {
    opened.store(false);
    RawClient client(server.port());
    ASSERT_TRUE(client.handshake());
    EXPECT_TRUE(opened.load()) << "the 101 was written before on_open ran";
    auto frame = client.read_frame(5s);
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->payload, *greeting);
    client.close();
  }
}

TEST(Delivery, AFrameToAnIdleConnectionIsWrittenByTheSendingThread) {
  ConnectionLog log;
  constexpr int kIoThreads = 2;
  TestServer server(test_options(), websocket_router(log), kIoThreads);
  BeastClient client(server.port());
  ASSERT_TRUE(client.connected());
  auto connections = log.wait_for(1, 5s);
  ASSERT_EQ(connections.size(), 1u);

  HeldIoThreads held(server.io(), kIoThreads);
  ASSERT_TRUE(held.all_held(5s));

  const Payload payload = text_payload(300, 1);
  ASSERT_TRUE(connections[0]->send(make_text_frame(payload)));
  const auto message = client.next_message(3s);
  held.release();
  ASSERT_TRUE(message) << "the frame waited for an io thread";
  EXPECT_EQ(*message, *payload);
  EXPECT_TRUE(wait_until([&] { return server.observer().frames.load() == 1; }, 5s));
}

// A frame the kernel took only in part (written at once by the sender) must be finished before a slow
// consumer's close frame, or the client would read the close frame as payload.
TEST(Delivery, ASlowConsumersCloseFrameFollowsThePartlyWrittenFrameWhole) {
  ServerOptions options = test_options();
  options.client_queue_bytes = 8u << 20;
  ConnectionLog log;
  constexpr int kIoThreads = 2;
  TestServer server(options, websocket_router(log), kIoThreads);
  RawClient slow(server.port(), 4096);  // never reads until the end; small buffers fill at once
  ASSERT_TRUE(slow.handshake());
  auto connections = log.wait_for(1, 5s);
  ASSERT_EQ(connections.size(), 1u);

  // The io threads are held, so the unwritten rest of the first frame is still queued (not yet handed to
  // the strand's write) when the second send goes over the bound and drops the queue.
  HeldIoThreads held(server.io(), kIoThreads);
  ASSERT_TRUE(held.all_held(5s));
  // 6 MiB: more than the kernel takes at once (the send buffer grows to tcp_wmem's 4 MiB at most, and the
  // client's receive buffer is 4 KiB), so at least 2 MiB of it stay queued; 6 MiB more go over the bound.
  const Payload first = text_payload(6u << 20, 1);
  EXPECT_TRUE(connections[0]->send(make_text_frame(first)));
  EXPECT_FALSE(connections[0]->send(make_text_frame(text_payload(6u << 20, 2))));  // over the bound
  held.release();

  auto frame = slow.read_frame(10s);
  ASSERT_TRUE(frame) << "the first frame did not arrive whole";
  EXPECT_EQ(frame->opcode(), 0x1);
  EXPECT_TRUE(frame->payload == *first) << "the first frame arrived cut short";
  auto close = slow.read_until_close(10s);
  ASSERT_TRUE(close) << "no close frame after the first frame";
  EXPECT_EQ(close->close_code(), close_code::kPolicyViolation);
  slow.close();
}

TEST(Delivery, PublishToWriteLatencyIsReported) {
  ConnectionLog log;
  TestServer server(test_options(), websocket_router(log));
  RawClient client(server.port());
  ASSERT_TRUE(client.handshake());
  auto connections = log.wait_for(1, 5s);
  ASSERT_EQ(connections.size(), 1u);
  const auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  ASSERT_TRUE(connections[0]->send(make_text_frame(text_payload(10, 1), now_ns)));
  ASSERT_TRUE(client.read_frame(5s));
  EXPECT_TRUE(wait_until([&] { return server.observer().latencies.load() == 1; }, 5s));
  ASSERT_TRUE(connections[0]->send(make_text_frame(text_payload(10, 2))));  // no publish time: no latency
  ASSERT_TRUE(client.read_frame(5s));
  ASSERT_TRUE(wait_until([&] { return server.observer().writes.load() == 2; }, 5s));
  EXPECT_EQ(server.observer().latencies.load(), 1u);
}

TEST(Delivery, CloseSendsQueuedFramesThenCloseFrame) {
  ConnectionLog log;
  TestServer server(test_options(), websocket_router(log));
  BeastClient client(server.port());
  ASSERT_TRUE(client.connected());
  auto connections = log.wait_for(1, 5s);
  ASSERT_EQ(connections.size(), 1u);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(connections[0]->send(make_text_frame(text_payload(100, i))));
  connections[0]->close(close_code::kNormal, "bye");
  EXPECT_FALSE(connections[0]->is_open());
  EXPECT_FALSE(connections[0]->send(make_text_frame(text_payload(10, 99))));

  for (int i = 0; i < 10; ++i) {
    auto message = client.next_message(5s);
    ASSERT_TRUE(message) << i;
    EXPECT_EQ(*message, *text_payload(100, i));
  }
  ASSERT_TRUE(client.wait_closed(5s));
  EXPECT_EQ(client.close_reason().code, close_code::kNormal);
  EXPECT_EQ(client.close_reason().reason, "bye");
  EXPECT_TRUE(wait_until([&] { return log.closed_count() == 1; }, 5s));
  EXPECT_EQ(server.observer().closed_on("test"), 1u);
  EXPECT_EQ(server.server().open_connections(), 0u);
}

TEST(Delivery, SlowConsumerIsClosed1008WhileFastClientReceivesEverything) {
  ServerOptions options = test_options();
  options.client_queue_bytes = 256 * 1024;
  ConnectionLog log;
  TestServer server(options, websocket_router(log));

  // The slow consumer never reads; a small receive buffer makes the kernel buffers fill sooner.
  RawClient slow(server.port(), 4096);
  ASSERT_TRUE(slow.handshake());
  auto connections = log.wait_for(1, 5s);
  ASSERT_EQ(connections.size(), 1u);
  BeastClient fast(server.port());
  ASSERT_TRUE(fast.connected());
  connections = log.wait_for(2, 5s);
  ASSERT_EQ(connections.size(), 2u);
  const auto slow_connection = connections[0];
  const auto fast_connection = connections[1];

  // Frames of 16 KiB, in batches of 4 (64 KiB); the fast client keeps up between batches, so only the
  // slow one ever has a queue to speak of (the fast one at most two batches: the last one may still be
  // counted in flight until its write handler runs). Each payload is shared by both connections.
  constexpr std::size_t kFrameBytes = 16 * 1024;
  std::uint64_t sent = 0;
  std::uint64_t received = 0;
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (server.observer().slow_consumers.load() == 0 && std::chrono::steady_clock::now() < deadline &&
         sent < 4000) {
    std::vector<Frame> batch;
    for (int i = 0; i < 4; ++i) batch.push_back(make_text_frame(text_payload(kFrameBytes, sent + i)));
    slow_connection->send(batch);
    ASSERT_TRUE(fast_connection->send(batch));
    sent += batch.size();
    while (received < sent) {
      auto message = fast.next_message(5s);
      ASSERT_TRUE(message) << "fast client stalled at " << received;
      ASSERT_EQ(*message, *batch[received - (sent - batch.size())].payload);
      ++received;
    }
  }
  ASSERT_EQ(server.observer().slow_consumers.load(), 1u) << "sent " << sent << " frames";
  EXPECT_FALSE(slow_connection->is_open());
  EXPECT_TRUE(fast_connection->is_open());
  std::printf("[hub] slow consumer closed after %llu frames of 16 KiB\n",
              static_cast<unsigned long long>(sent));

  // The fast client goes on receiving.
  for (int i = 0; i < 20; ++i)
    ASSERT_TRUE(fast_connection->send(make_text_frame(text_payload(100, 10000 + i))));
  for (int i = 0; i < 20; ++i) {
    auto message = fast.next_message(5s);
    ASSERT_TRUE(message);
    EXPECT_EQ(*message, *text_payload(100, 10000 + i));
  }

  // The slow consumer, reading at last, finds the data frames that were in flight, then 1008.
  auto close = slow.read_until_close(10s);
  ASSERT_TRUE(close);
  EXPECT_EQ(close->close_code(), close_code::kPolicyViolation);
  EXPECT_EQ(close->close_reason(), "slow consumer");
  EXPECT_TRUE(slow.wait_for_eof(10s));
  slow.close();
  EXPECT_TRUE(wait_until([&] { return server.server().open_connections() == 1; }, 10s));
}

}  // namespace
}  // namespace ovalstream::hub::testing
