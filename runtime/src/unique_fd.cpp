#include "ovalstream/runtime/unique_fd.hpp"

#include <unistd.h>

namespace ovalstream::runtime {

void UniqueFd::reset(int fd) noexcept {
  const int previous = fd_;
  fd_ = fd < 0 ? -1 : fd;
  if (previous >= 0 && previous != fd_) ::close(previous);
}

}  // namespace ovalstream::runtime
