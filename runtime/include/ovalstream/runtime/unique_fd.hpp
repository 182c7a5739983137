#pragma once
// A file descriptor that closes itself: the one owner of an open descriptor, so no path (an early return, an
// exception) leaks it and none closes it twice. Move-only, like std::unique_ptr.
// Thread safety: none; one owner at a time.

namespace ovalstream::runtime {

class UniqueFd {
 public:
  UniqueFd() noexcept = default;
  // Takes ownership of `fd` (a negative value: none, as open(2) returns on failure).
  explicit UniqueFd(int fd) noexcept : fd_(fd < 0 ? -1 : fd) {}
  ~UniqueFd() { reset(); }

  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  // The descriptor, still owned (-1 when none).
  int get() const noexcept { return fd_; }
  bool valid() const noexcept { return fd_ >= 0; }
  explicit operator bool() const noexcept { return valid(); }

  // Gives up ownership without closing; the caller closes the result.
  [[nodiscard]] int release() noexcept {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

  // Closes the descriptor held (if any) and takes `fd` instead. close(2) is not retried on EINTR: Linux has
  // released the descriptor by then, and a retry could close one another thread just opened.
  void reset(int fd = -1) noexcept;

 private:
  int fd_ = -1;
};

}  // namespace ovalstream::runtime
