#pragma once
// Skipping a test whose outside needs are missing, with the message that says which and how to provide it:
// nats-server on the PATH, the real recording under OVALSTREAM_DATA_DIR (../shared/data/vantage).
// Statements; use them first in a test body or SetUp().

#include <gtest/gtest.h>

#include "support/nats_server.hpp"
#include "support/recording.hpp"

#define SKIP_WITHOUT_NATS()                                   \
  if (!::ovalstream::testing::NatsServerProcess::available()) \
  GTEST_SKIP() << ::ovalstream::testing::NatsServerProcess::unavailable_message()

// `events`: what loading the real recording returned (empty when it is missing).
#define SKIP_WITHOUT_RECORDING(events) \
  if (!(events))                       \
  GTEST_SKIP() << ::ovalstream::testing::missing_recording_message(::ovalstream::testing::kRealRecordingName)

#define SKIP_WITHOUT_NATS_AND_RECORDING(events) \
  SKIP_WITHOUT_NATS();                          \
  SKIP_WITHOUT_RECORDING(events)
