#pragma once
// The one result type of the project: a value, or the error of why there is none. Failures that depend on
// input, the disk, the network or a server come back as a Result; exceptions are for startup mistakes and
// programming errors (reading the value of a failed Result, or the error of a successful one).
//
// E is the error: the generic Error below (a message and the system error behind it), or a domain's own
// when callers branch on more (core::ParseError, nats::Error with nats.c's status and JetStream's code).
// Result<void, E> is the result of an operation without a value.
//
// Header-only and pure (no I/O): the core uses it through the INTERFACE target ovalstream::result without
// linking the runtime library.
// Thread safety: a Result is a plain value.

#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

namespace ovalstream::runtime {

// What went wrong, in words for a log line or a response, and the system error behind it when there is one.
struct Error {
  std::string message;
  std::error_code code;
};

template <typename T, typename E = Error>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::remove_cv_t<T>, std::remove_cv_t<E>>,
                "a value and an error of one type");
  static_assert(!std::is_reference_v<T> && !std::is_reference_v<E>, "Result holds values");

 public:
  using value_type = T;
  using error_type = E;

  // Implicit both ways by design: `return value;` and `return error;` read as what they are.
  Result(const T& value) : storage_(std::in_place_index<0>, value) {}        // NOLINT
  Result(T&& value) : storage_(std::in_place_index<0>, std::move(value)) {}  // NOLINT
  Result(const E& error) : storage_(std::in_place_index<1>, error) {}        // NOLINT
  Result(E&& error) : storage_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const noexcept { return storage_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  // The value; throws std::logic_error when !ok() (checking first is the caller's job).
  T& value() & { return checked_value(); }
  const T& value() const& { return const_cast<Result*>(this)->checked_value(); }
  T&& value() && { return std::move(checked_value()); }
  T* operator->() { return &checked_value(); }
  const T* operator->() const { return &const_cast<Result*>(this)->checked_value(); }
  T& operator*() & { return checked_value(); }
  const T& operator*() const& { return const_cast<Result*>(this)->checked_value(); }

  // The error; throws std::logic_error when ok().
  const E& error() const& {
    if (ok()) throw std::logic_error("Result::error() on a value");
    return std::get<1>(storage_);
  }
  E&& error() && {
    if (ok()) throw std::logic_error("Result::error() on a value");
    return std::get<1>(std::move(storage_));
  }

 private:
  T& checked_value() {
    if (!ok()) throw std::logic_error(describe_failed_access(std::get<1>(storage_)));
    return std::get<0>(storage_);
  }

  static std::string describe_failed_access(const E& error) {
    if constexpr (requires { std::string(error.message); }) {
      return "Result::value() on an error: " + std::string(error.message);
    } else if constexpr (requires { error.message(); }) {
      return "Result::value() on an error: " + error.message();
    } else {
      return "Result::value() on an error";
    }
  }

  std::variant<T, E> storage_;
};

// An operation without a value: success, or its error. Default-constructed it is success (`return {};`).
template <typename E>
class [[nodiscard]] Result<void, E> {
  static_assert(!std::is_reference_v<E>, "Result holds values");

 public:
  using value_type = void;
  using error_type = E;

  Result() noexcept = default;
  Result(const E& error) : error_(error) {}        // NOLINT: implicit by design
  Result(E&& error) : error_(std::move(error)) {}  // NOLINT

  bool ok() const noexcept { return !error_.has_value(); }
  explicit operator bool() const noexcept { return ok(); }

  // Throws std::logic_error when !ok(): for callers that checked, or whose failure is a programming error.
  void value() const {
    if (!ok()) throw std::logic_error("Result<void>::value() on an error");
  }

  // The error; throws std::logic_error when ok().
  const E& error() const& {
    if (ok()) throw std::logic_error("Result::error() on success");
    return *error_;
  }
  E&& error() && {
    if (ok()) throw std::logic_error("Result::error() on success");
    return std::move(*error_);
  }

 private:
  std::optional<E> error_;
};

}  // namespace ovalstream::runtime
