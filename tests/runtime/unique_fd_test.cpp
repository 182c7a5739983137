#include "ovalstream/runtime/unique_fd.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <type_traits>
#include <utility>

namespace ovalstream::runtime {
namespace {

bool is_open(int fd) {
  return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

// The two ends of a new pipe, each owned.
std::pair<UniqueFd, UniqueFd> make_pipe() {
  int ends[2] = {-1, -1};
  if (::pipe2(ends, O_CLOEXEC) != 0) ADD_FAILURE() << "pipe2 failed";
  return {UniqueFd(ends[0]), UniqueFd(ends[1])};
}

static_assert(!std::is_copy_constructible_v<UniqueFd> && !std::is_copy_assignable_v<UniqueFd>);
static_assert(std::is_nothrow_move_constructible_v<UniqueFd> && std::is_nothrow_move_assignable_v<UniqueFd>);

TEST(UniqueFd, EmptyByDefault) {
  const UniqueFd none;
  EXPECT_FALSE(none.valid());
  EXPECT_FALSE(static_cast<bool>(none));
  EXPECT_EQ(none.get(), -1);
  // A failed open(2) is none too.
  const UniqueFd failed(::open("/nonexistent/dir/file", O_RDONLY | O_CLOEXEC));
  EXPECT_FALSE(failed.valid());
}

TEST(UniqueFd, ClosesOnDestruction) {
  int raw = -1;
  {
    auto [read_end, write_end] = make_pipe();
    raw = read_end.get();
    ASSERT_TRUE(read_end.valid());
    EXPECT_TRUE(is_open(raw));
  }
  EXPECT_FALSE(is_open(raw));
}

TEST(UniqueFd, MoveTransfersOwnership) {
  auto [read_end, write_end] = make_pipe();
  const int raw = read_end.get();
  UniqueFd moved(std::move(read_end));
  EXPECT_FALSE(read_end.valid());  // NOLINT(bugprone-use-after-move): the moved-from state is the point
  EXPECT_EQ(moved.get(), raw);
  EXPECT_TRUE(is_open(raw));

  // Move assignment closes what the target held.
  const int other = write_end.get();
  moved = std::move(write_end);
  EXPECT_FALSE(is_open(raw));
  EXPECT_EQ(moved.get(), other);
  EXPECT_TRUE(is_open(other));

  // Self-move keeps the descriptor.
  UniqueFd& alias = moved;
  moved = std::move(alias);
  EXPECT_EQ(moved.get(), other);
  EXPECT_TRUE(is_open(other));
}

TEST(UniqueFd, ReleaseGivesUpOwnershipWithoutClosing) {
  int raw = -1;
  {
    auto [read_end, write_end] = make_pipe();
    raw = read_end.release();
    EXPECT_FALSE(read_end.valid());
  }
  EXPECT_TRUE(is_open(raw));
  ::close(raw);
}

TEST(UniqueFd, ResetClosesAndTakesTheNewOne) {
  auto [read_end, write_end] = make_pipe();
  const int first = read_end.get();
  const int second = write_end.release();
  read_end.reset(second);
  EXPECT_FALSE(is_open(first));
  EXPECT_EQ(read_end.get(), second);
  // Resetting to the descriptor held keeps it open.
  read_end.reset(second);
  EXPECT_TRUE(is_open(second));
  read_end.reset();
  EXPECT_FALSE(read_end.valid());
  EXPECT_FALSE(is_open(second));
}

}  // namespace
}  // namespace ovalstream::runtime
