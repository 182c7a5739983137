#include "ovalstream/runtime/descriptors.hpp"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <limits>

namespace ovalstream::runtime {

namespace {

std::uint64_t as_count(rlim_t value) {
  return value == RLIM_INFINITY ? std::numeric_limits<std::uint64_t>::max()
                                : static_cast<std::uint64_t>(value);
}

std::int64_t as_log_value(std::uint64_t value) {
  return value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
             ? -1  // unlimited
             : static_cast<std::int64_t>(value);
}

DescriptorLimit raise_once() noexcept {
  DescriptorLimit result;
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    result.error = std::strerror(errno);
    return result;
  }
  result.soft_before = as_count(limit.rlim_cur);
  result.soft = result.soft_before;
  result.hard = as_count(limit.rlim_max);
  if (limit.rlim_cur == limit.rlim_max) return result;
  rlimit raised = limit;
  raised.rlim_cur = limit.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &raised) != 0) {
    result.error = std::strerror(errno);
    return result;
  }
  result.soft = result.hard;
  return result;
}

}  // namespace

const DescriptorLimit& raise_descriptor_limit() noexcept {
  static const DescriptorLimit limit = raise_once();
  return limit;
}

void log_descriptor_limit(const Logger& logger, const DescriptorLimit& limit) {
  if (!limit.error.empty()) {
    logger.warn("cannot raise the descriptor limit (RLIMIT_NOFILE) to its hard limit",
                {{"softBefore", as_log_value(limit.soft_before)},
                 {"soft", as_log_value(limit.soft)},
                 {"hard", as_log_value(limit.hard)},
                 {"error", limit.error}});
    return;
  }
  logger.info("descriptor limit (RLIMIT_NOFILE; -1 = unlimited)",
              {{"softBefore", as_log_value(limit.soft_before)},
               {"soft", as_log_value(limit.soft)},
               {"hard", as_log_value(limit.hard)}});
}

}  // namespace ovalstream::runtime
