#pragma once
// Errors of the NATS adapter. Failures that depend on the network or the server (timeouts, a missing stream,
// a refused connection) come back as a Result with an Error; exceptions are only for programming errors,
// such as reading the value of a failed Result.
// Thread safety: Error, Result and Status are plain values.

#include <nats/nats.h>

#include <string>
#include <string_view>

#include "ovalstream/runtime/result.hpp"

namespace ovalstream::nats {

struct Error {
  natsStatus code = NATS_ERR;
  // The JetStream API error code when the server gave one (e.g. JSStreamNotFoundErr), else 0.
  int jetstream_error = 0;
  std::string message;

  // "<context>: <nats.c status text> (<nats.c's last error detail>)". Call right after the failing nats.c
  // call, on the same thread: the detail is nats.c's thread-local last error.
  static Error from_nats(natsStatus code, std::string_view context, int jetstream_error = 0);
};

// A value or the Error of why there is none.
template <typename T>
using Result = runtime::Result<T, Error>;
// Success or the Error of an operation without a value.
using Status = runtime::Result<void, Error>;

}  // namespace ovalstream::nats
