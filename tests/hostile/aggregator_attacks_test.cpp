// Attacks on the aggregator's websocket and HTTP listener, against the real executable on loopback: each
// asserts the status or close code, bounded memory or threads, and /healthz answering within 100 ms
// meanwhile. Label `hostile`.

#include <gtest/gtest.h>

#include <thread>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "aggregator/support/aggregator_process.hpp"
#include "hostile/support/attack_support.hpp"
#include "hub/support/raw_client.hpp"
#include "support/nats_server.hpp"
#include "support/skips.hpp"

namespace ovalstream::hostile {
namespace {

using aggregator::itest::AggregatorOptions;
using aggregator::itest::AggregatorProcess;
using aggregator::itest::TempDir;
using aggregator::itest::wait_until;
using hub::testing::client_frame;
using hub::testing::client_frame_header;
using hub::testing::RawClient;
using ovalstream::testing::NatsServerProcess;

class AggregatorAttack : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_WITHOUT_NATS();
    nats_ = std::make_unique<NatsServerProcess>();
  }

  void start(std::vector<std::string> extra_args = {}) {
    AggregatorOptions options;
    options.nats_url = nats_->url();
    options.create_stream = true;
    options.extra_args = std::move(extra_args);
    aggregator_ = std::make_unique<AggregatorProcess>(options);
    // The baseline is the steady state: ready (its consumer caught up), and the threads nats.c and the
    // service start after the listeners (reconnect, timers) all there, on a loaded machine too.
    aggregator::itest::wait_until(
        [&] { return aggregator::itest::http_get(aggregator_->metrics_port(), "/readyz").status == 200; },
        15s, 20ms);
    std::uint64_t threads = process_stats(aggregator_->pid()).threads;
    for (int stable = 0, round = 0; stable < 3 && round < 50; ++round) {
      std::this_thread::sleep_for(100ms);
      const std::uint64_t now = process_stats(aggregator_->pid()).threads;
      stable = now == threads ? stable + 1 : 0;
      threads = now;
    }
  }

  std::uint64_t counter(const std::string& series) const {
    return static_cast<std::uint64_t>(aggregator_->metric(series).value_or(0));
  }

  std::unique_ptr<NatsServerProcess> nats_;
  std::unique_ptr<AggregatorProcess> aggregator_;
};

// A masked empty ping: 0x89, mask bit and length 0, the 4-byte key.
const std::string kEmptyPing = client_frame(0x89, "");

// Issue 14 item 1: a client that never reads and sends pings as fast as it can. Before: a pong per ping with
// a fresh allocation, the bound counting 2 bytes each (436 MB in 10 s). Now: one pending pong, memory
// counted, reads paused.
TEST_F(AggregatorAttack, PingFloodKeepsMemoryBounded) {
  start();
  RawClient attacker(aggregator_->hub_port(), /*receive_buffer_bytes=*/4096);
  ASSERT_TRUE(attacker.handshake("/v1/competitions"));
  const ProcessStats before = process_stats(aggregator_->pid());
  HealthProbe health(aggregator_->metrics_port());
  // 8M pings (the issue's 436 MB) or 8 s: long enough to fill the kernel's buffers, past which pongs used to
  // pile up in the queue.
  const std::uint64_t sent = flood(attacker.fd(), kEmptyPing, 8'000'000 * kEmptyPing.size(), 8s);
  // Meanwhile another client is served.
  RawClient other(aggregator_->hub_port(), "127.0.0.2");
  EXPECT_TRUE(other.handshake("/v1/competitions", 1s)) << "a websocket during the flood";
  health.stop();
  const ProcessStats after = process_stats(aggregator_->pid());
  RecordProperty("pings_sent", std::to_string(sent / kEmptyPing.size()));
  std::cerr << "pings sent " << sent / kEmptyPing.size() << ", peak RSS growth "
            << (after.peak_rss_kib - before.rss_kib) << " KiB, coalesced "
            << counter("ovalstream_websocket_pongs_coalesced_total") << ", read pauses "
            << counter("ovalstream_websocket_reads_paused_total") << ", frames "
            << counter("ovalstream_websocket_frames_sent_total") << "\n";
  RecordProperty("peak_rss_growth_kib", std::to_string(after.peak_rss_kib - before.rss_kib));
  EXPECT_GT(sent / kEmptyPing.size(), 1'000'000u) << "the flood reached the server";
  EXPECT_LT(after.peak_rss_kib - before.rss_kib, 24u * 1024)
      << "peak RSS grew " << (after.peak_rss_kib - before.rss_kib) << " KiB";
  EXPECT_GT(counter("ovalstream_websocket_pongs_coalesced_total") +
                counter("ovalstream_websocket_reads_paused_total"),
            0u);
  EXPECT_EQ(health.failures(), 0);
  EXPECT_LT(health.slowest(), 100ms);
  EXPECT_TRUE(aggregator_->running());
}

// Issue 14 item 2: 300 unfinished requests from one address. Before: every descriptor and the listener
// taken. Now: at most --max-http-connections-per-address (128) held, the rest refused with 503, and a
// client at another address and /healthz keep answering.
TEST_F(AggregatorAttack, SlowlorisFromOneAddressLeavesOthersServed) {
  start();
  const ProcessStats before = process_stats(aggregator_->pid());
  HealthProbe health(aggregator_->metrics_port());
  std::vector<RawClient> slow;
  for (int i = 0; i < 300; ++i) {
    RawClient client(aggregator_->hub_port());
    if (!client.connected()) continue;
    // Start of a request, never finished.
    client.write_all("GET /v1/competitions HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    slow.push_back(std::move(client));
  }
  // Trickle a byte per connection, twice, half a second apart (still under the 5 s header timeout).
  for (int round = 0; round < 2; ++round) {
    std::this_thread::sleep_for(500ms);
    for (RawClient& client : slow) client.write_all("a");
  }
  RawClient other(aggregator_->hub_port(), "127.0.0.2");
  EXPECT_TRUE(other.handshake("/v1/competitions", 1s))
      << "a websocket from another address during the attack";
  EXPECT_EQ(aggregator::itest::http_get(aggregator_->hub_port(), "/v1/competitions/none", 1s).status, 503)
      << "a new request from the attacking address is refused at once, with a status";
  health.stop();
  const ProcessStats during = process_stats(aggregator_->pid());
  EXPECT_GE(counter("ovalstream_http_connections_dropped_total{reason=\"http_connections_per_address\"}"),
            172u);
  EXPECT_LE(during.descriptors, before.descriptors + 128 + 8) << "at most the per-address bound held";
  EXPECT_LE(during.threads, before.threads + 2);
  EXPECT_EQ(health.failures(), 0);
  EXPECT_LT(health.slowest(), 100ms);
}

// Oversize, fragmented and too many frames: refused from their header with the close code, nothing buffered.
TEST_F(AggregatorAttack, OversizeAndFragmentedFramesAreClosedWithTheirCode) {
  start();
  const ProcessStats before = process_stats(aggregator_->pid());
  HealthProbe health(aggregator_->metrics_port());
  struct Case {
    std::string name;
    std::string bytes;
    int code;
  };
  std::string burst;  // past the default bucket of 100 data frames
  for (int i = 0; i < 200; ++i) burst += client_frame(0x81, R"({"type":"ping"})");
  const std::vector<Case> cases = {
      {"a 1 GiB binary frame", client_frame_header(0x82, 1ull << 30) + std::string(4096, 'x'), 1009},
      {"a text frame of 64 KiB + 1", client_frame(0x81, std::string(65537, 'x')), 1009},
      {"a fragmented text message of 64 KiB + 1",
       client_frame(0x01, std::string(40000, 'x')) + client_frame(0x80, std::string(25537, 'x')), 1009},
      {"200 heartbeats at once", burst, 1008},
      {"a text frame inside a fragmented message", client_frame(0x01, "part") + client_frame(0x81, "new"),
       1002},
      {"a lone continuation frame", client_frame(0x80, "rest"), 1002},
      {"a fragmented ping", client_frame(0x09, "ping"), 1002},
      {"a 200-byte ping", client_frame_header(0x89, 200) + std::string(204, 'x'), 1002},
      {"a close whose reason is not UTF-8", client_frame(0x88, std::string("\x03\xe8\xff\xfe", 4)), 1007},
  };
  for (const Case& item : cases) {
    RawClient client(aggregator_->hub_port());
    ASSERT_TRUE(client.handshake("/v1/competitions")) << item.name;
    client.write_all(item.bytes);
    const auto close = client.read_until_close(3s);
    ASSERT_TRUE(close) << item.name << ": no close frame";
    EXPECT_EQ(close->close_code(), item.code) << item.name;
  }
  health.stop();
  const ProcessStats after = process_stats(aggregator_->pid());
  EXPECT_LT(after.peak_rss_kib - before.rss_kib, 8u * 1024);
  EXPECT_EQ(health.failures(), 0);
  EXPECT_LT(health.slowest(), 100ms);
  EXPECT_EQ(counter("ovalstream_websocket_client_frame_limit_closes_total{reason=\"message_size\"}"), 3u);
  EXPECT_EQ(counter("ovalstream_websocket_client_frame_limit_closes_total{reason=\"frame_rate\"}"), 1u);
}

// Issue 13: data frames are read and discarded (browsers' heartbeats), never buffered. A client that sends
// its whole bucket of the largest frames (100 x 64 KiB) costs no memory and keeps its connection; past the
// bucket it is closed 1008.
TEST_F(AggregatorAttack, LargestDataFramesAreDiscardedWithoutBufferingThenClosedOverTheRate) {
  start();
  RawClient attacker(aggregator_->hub_port());
  ASSERT_TRUE(attacker.handshake("/v1/competitions"));
  const ProcessStats before = process_stats(aggregator_->pid());
  HealthProbe health(aggregator_->metrics_port());
  const std::string largest = client_frame(0x82, std::string(64 * 1024, 'x'));
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(attacker.write_all(largest)) << "frame " << i;
  ASSERT_TRUE(attacker.write_all(client_frame(0x89, "after 6.4 MB")));
  std::optional<hub::testing::ServerFrame> pong;
  while ((pong = attacker.read_frame(10s)) && pong->opcode() != 0xA) {
    ASSERT_NE(pong->opcode(), 0x8) << "closed " << pong->close_code();
  }
  ASSERT_TRUE(pong) << "no pong behind the frames";
  EXPECT_EQ(pong->payload, "after 6.4 MB");
  const ProcessStats after = process_stats(aggregator_->pid());
  EXPECT_LT(after.peak_rss_kib - before.rss_kib, 8u * 1024) << "peak RSS grew by the frames";
  EXPECT_GE(counter("ovalstream_websocket_client_frames_discarded_total"), 100u);

  // The bucket refills at 10 frames/s: 50 more at once are over it.
  flood(attacker.fd(), largest, 50 * largest.size(), 5s);
  const auto close = attacker.read_until_close(5s);
  ASSERT_TRUE(close);
  EXPECT_EQ(close->close_code(), 1008);
  health.stop();
  EXPECT_EQ(counter("ovalstream_websocket_client_frame_limit_closes_total{reason=\"frame_rate\"}"), 1u);
  EXPECT_EQ(health.failures(), 0);
  EXPECT_LT(health.slowest(), 100ms);
  EXPECT_TRUE(aggregator_->running());
}

// Header and body bombs: answered 431 and 413 from the first bytes past the bound.
TEST_F(AggregatorAttack, HeaderAndBodyBombsAreRefused) {
  start();
  const ProcessStats before = process_stats(aggregator_->pid());
  {
    RawClient client(aggregator_->hub_port());
    std::string request = "GET /v1/competitions HTTP/1.1\r\nHost: x\r\n";
    for (int i = 0; i < 2000; ++i)
      request += "X-Bomb-" + std::to_string(i) + ": " + std::string(100, 'b') + "\r\n";
    // 12 KiB: past the 8 KiB header bound, yet all read by the server (a close with unread bytes would
    // reset the connection before the answer arrives).
    client.write_all(request.substr(0, 12 * 1024));
    const auto reply = client.read_http(3s);
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 431);
  }
  {
    RawClient client(aggregator_->hub_port());
    // Refused from the announced length, before any of the body.
    client.write_all("POST /v1/competitions HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n");
    const auto reply = client.read_http(3s);
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 413);
  }
  {
    RawClient client(aggregator_->hub_port());
    client.write_all("POST /v1/competitions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    // Chunks past the 8 KiB body bound.
    for (int i = 0; i < 3; ++i) client.write_all("1000\r\n" + std::string(4096, 'c') + "\r\n");
    const auto reply = client.read_http(3s);
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 413);
  }
  EXPECT_LT(process_stats(aggregator_->pid()).peak_rss_kib - before.rss_kib, 8u * 1024);
  const auto health = healthz_latency(aggregator_->metrics_port());
  ASSERT_TRUE(health);
  EXPECT_LT(*health, 100ms);
}

// Traversal and dotfiles under --static-dir: nothing outside the directory, no dotfile (before: /.secret
// 200).
TEST_F(AggregatorAttack, TraversalAndDotfilesAreNotServed) {
  TempDir site;
  std::ofstream(site.path() + "/index.html") << "<h1>board</h1>";
  std::ofstream(site.path() + "/.secret") << "token=hunter2";
  std::filesystem::create_directories(site.path() + "/.git");
  std::ofstream(site.path() + "/.git/config") << "[remote] token=hunter2";
  start({"--static-dir", site.path()});
  EXPECT_EQ(aggregator::itest::http_get(aggregator_->hub_port(), "/").status, 200);
  for (const std::string target :
       {"/.secret", "/%2esecret", "/.git/config", "/%2Egit/config", "/../../../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2f..%2fetc%2fpasswd", "//etc/passwd", "/index.html%00.js"}) {
    const auto reply = aggregator::itest::http_get(aggregator_->hub_port(), target);
    EXPECT_TRUE(reply.status == 404 || reply.status == 400) << target << ": " << reply.status;
    EXPECT_EQ(reply.body.find("hunter2"), std::string::npos) << target;
    EXPECT_EQ(reply.body.find("root:"), std::string::npos) << target;
  }
  const auto health = healthz_latency(aggregator_->metrics_port());
  ASSERT_TRUE(health);
  EXPECT_LT(*health, 100ms);
}

}  // namespace
}  // namespace ovalstream::hostile
