#include "ovalstream/runtime/result.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>

namespace ovalstream::runtime {
namespace {

// [[nodiscard]] is on Result and on Result<void, E>: dropping either one is a compiler warning
// (-Wunused-result), e.g. `make_number(true);` or `make_nothing(false);` as a statement. No compile-fail
// test; the attribute is visible in result.hpp.

Result<int> make_number(bool succeed) {
  if (succeed) return 42;
  return Error{"no number", std::make_error_code(std::errc::invalid_argument)};
}

Result<void> make_nothing(bool succeed) {
  if (succeed) return {};
  return Error{"nothing went wrong... except this", std::error_code{}};
}

enum class Reason { kShort, kLong };

TEST(Result, HoldsAValue) {
  const Result<int> number = make_number(true);
  ASSERT_TRUE(number.ok());
  EXPECT_TRUE(static_cast<bool>(number));
  EXPECT_EQ(number.value(), 42);
  EXPECT_EQ(*number, 42);
}

TEST(Result, HoldsAnError) {
  const Result<int> number = make_number(false);
  ASSERT_FALSE(number.ok());
  EXPECT_FALSE(static_cast<bool>(number));
  EXPECT_EQ(number.error().message, "no number");
  EXPECT_EQ(number.error().code, std::errc::invalid_argument);
}

TEST(Result, ValueOfAnErrorIsAProgrammingError) {
  Result<int> number = make_number(false);
  EXPECT_THROW((void)number.value(), std::logic_error);
  EXPECT_THROW((void)*number, std::logic_error);
  EXPECT_THROW((void)std::move(number).value(), std::logic_error);
  try {
    (void)number.value();
  } catch (const std::logic_error& error) {
    EXPECT_NE(std::string(error.what()).find("no number"), std::string::npos) << error.what();
  }
}

TEST(Result, ErrorOfAValueIsAProgrammingError) {
  const Result<int> number = make_number(true);
  EXPECT_THROW((void)number.error(), std::logic_error);
}

TEST(Result, MemberAccessThroughTheArrow) {
  const Result<std::string> text = std::string("abc");
  EXPECT_EQ(text->size(), 3u);
  const Result<std::string> none = Error{"none", {}};
  EXPECT_THROW((void)none->size(), std::logic_error);
}

TEST(Result, DomainErrorType) {
  const Result<std::string, Reason> failed = Reason::kLong;
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error(), Reason::kLong);
  const Result<std::string, Reason> passed = std::string("fine");
  EXPECT_EQ(passed.value(), "fine");
  EXPECT_THROW((void)failed.value(), std::logic_error);
}

TEST(Result, MoveOnlyValue) {
  Result<std::unique_ptr<int>> owned = std::make_unique<int>(7);
  ASSERT_TRUE(owned.ok());
  EXPECT_EQ(**owned, 7);
  std::unique_ptr<int> taken = std::move(owned).value();
  ASSERT_NE(taken, nullptr);
  EXPECT_EQ(*taken, 7);
  static_assert(!std::is_copy_constructible_v<Result<std::unique_ptr<int>>>);
  static_assert(std::is_move_constructible_v<Result<std::unique_ptr<int>>>);
}

TEST(Result, MoveTheErrorOut) {
  Result<std::unique_ptr<int>> failed = Error{"gone", {}};
  const Error error = std::move(failed).error();
  EXPECT_EQ(error.message, "gone");
  // The error passes on to a Result of another value type, as a layer returns its callee's failure.
  const Result<std::string> passed_on = make_number(false).error();
  EXPECT_EQ(passed_on.error().message, "no number");
}

TEST(ResultVoid, SuccessByDefault) {
  const Result<void> done = make_nothing(true);
  EXPECT_TRUE(done.ok());
  EXPECT_TRUE(static_cast<bool>(done));
  EXPECT_NO_THROW(done.value());
  EXPECT_THROW((void)done.error(), std::logic_error);
  const Result<void> defaulted;
  EXPECT_TRUE(defaulted.ok());
}

TEST(ResultVoid, HoldsAnError) {
  const Result<void> failed = make_nothing(false);
  ASSERT_FALSE(failed.ok());
  EXPECT_FALSE(static_cast<bool>(failed));
  EXPECT_EQ(failed.error().message, "nothing went wrong... except this");
  EXPECT_THROW(failed.value(), std::logic_error);
}

TEST(ResultVoid, DomainErrorType) {
  Result<void, std::error_code> failed = std::make_error_code(std::errc::file_exists);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error(), std::errc::file_exists);
  Result<void, std::error_code> assigned;
  assigned = std::make_error_code(std::errc::io_error);
  EXPECT_FALSE(assigned.ok());
}

static_assert(std::is_same_v<Result<int>::error_type, Error>);
static_assert(!std::is_convertible_v<Result<int>, bool>, "explicit bool only");

}  // namespace
}  // namespace ovalstream::runtime
