#pragma once
// Error results of the NATS adapter. Failures that depend on the network or the server (timeouts, a missing
// stream, a refused connection) come back as a Status; exceptions are only for programming errors, such as
// reading the value of a failed Result.
// Thread safety: Status and Result are plain values.

#include <nats/nats.h>

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace ovalstream::nats {

struct Status {
  natsStatus code = NATS_OK;
  // The JetStream API error code when the server gave one (e.g. JSStreamNotFoundErr), else 0.
  int jetstream_error = 0;
  std::string message;

  bool ok() const noexcept { return code == NATS_OK; }

  // "<context>: <nats.c status text> (<nats.c's last error detail>)". Call right after the failing nats.c
  // call, on the same thread: the detail is nats.c's thread-local last error.
  static Status from_nats(natsStatus code, std::string_view context, int jetstream_error = 0);
  static Status error(natsStatus code, std::string message) { return Status{code, 0, std::move(message)}; }
};

// A value or the Status of why there is none.
template <typename T>
class Result {
 public:
  Result(T value) : storage_(std::in_place_index<0>, std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : storage_(std::in_place_index<1>, std::move(status)) {  // NOLINT
    if (std::get<1>(storage_).ok()) throw std::logic_error("Result built from an OK Status without a value");
  }

  bool ok() const noexcept { return storage_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  // The value; throws std::logic_error when !ok() (checking first is the caller's job).
  T& value() & { return checked(); }
  const T& value() const& { return const_cast<Result*>(this)->checked(); }
  T&& value() && { return std::move(checked()); }
  T* operator->() { return &checked(); }
  const T* operator->() const { return &const_cast<Result*>(this)->checked(); }

  // NATS_OK when ok(), else the error.
  Status status() const { return ok() ? Status{} : std::get<1>(storage_); }

 private:
  T& checked() {
    if (!ok()) throw std::logic_error("Result::value() on an error: " + std::get<1>(storage_).message);
    return std::get<0>(storage_);
  }

  std::variant<T, Status> storage_;
};

}  // namespace ovalstream::nats
