// The first run of `aggregator start` against a new nats-server that has no stream: it keeps running (not
// ready) and its log says exactly what to do, the `nats stream add` command with the server, the stream and
// the subjects it needs, or --create-stream for development.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "aggregator/support/aggregator_process.hpp"
#include "support/nats_server.hpp"
#include "support/skips.hpp"

namespace ovalstream::aggregator::itest {
namespace {

using ovalstream::testing::NatsServerProcess;

TEST(AggregatorFirstRun, MissingStreamLogLineSaysHowToCreateIt) {
  SKIP_WITHOUT_NATS();
  NatsServerProcess nats;
  AggregatorOptions options;
  options.nats_url = nats.url();
  options.stream = "LIVE_EVENTS";
  AggregatorProcess aggregator(options);

  ASSERT_TRUE(aggregator.wait_for_log("stream does not exist", 10s)) << aggregator.log_tail();
  const std::vector<std::string> lines = aggregator.log_lines_with("stream does not exist");
  ASSERT_FALSE(lines.empty());
  const std::string& line = lines.front();
  EXPECT_NE(line.find("\"level\":\"warn\""), std::string::npos) << line;
  const std::string command =
      "nats --server " + nats.url() +
      " stream add LIVE_EVENTS --subjects 'competition.>' --storage file --replicas 3 "
      "--retention limits --max-age 72h --max-bytes 20GiB --discard old --dupe-window 2m --defaults";
  EXPECT_NE(line.find(command), std::string::npos) << "expected `" << command << "` in\n" << line;
  EXPECT_NE(line.find("--create-stream"), std::string::npos) << line;
  EXPECT_NE(line.find("\"stream\":\"LIVE_EVENTS\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"subjects\":\"competition.>\""), std::string::npos) << line;
  EXPECT_EQ(http_get(aggregator.metrics_port(), "/readyz").status, 503);
  EXPECT_TRUE(aggregator.running()) << "a missing stream is waited for, not a reason to exit";
}

}  // namespace
}  // namespace ovalstream::aggregator::itest
