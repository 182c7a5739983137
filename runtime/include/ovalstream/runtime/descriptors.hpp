#pragma once
// The process's descriptor limit (RLIMIT_NOFILE). Containers often start with a soft limit of 1024 and a
// much higher hard limit; a server that keeps the soft one stops accepting at about a thousand clients with
// nothing saying why, so both executables raise it to the hard limit at start and log both values.
// Thread safety: raise_descriptor_limit() may be called from any thread; the first call does the work.

#include <cstdint>
#include <string>

#include "ovalstream/runtime/log.hpp"

namespace ovalstream::runtime {

struct DescriptorLimit {
  std::uint64_t soft_before = 0;  // the soft limit the process started with
  std::uint64_t soft = 0;         // the soft limit now
  std::uint64_t hard = 0;
  std::string error;  // set when the limit could not be read or raised (then soft == soft_before)
};

// Raises the soft RLIMIT_NOFILE to the hard limit, once per process; later calls return the first result.
// RLIM_INFINITY is reported as UINT64_MAX.
const DescriptorLimit& raise_descriptor_limit() noexcept;

// Logs `limit` as one line ("descriptor limit", with softBefore, soft, hard), a warning when raising failed.
void log_descriptor_limit(const Logger& logger, const DescriptorLimit& limit);

}  // namespace ovalstream::runtime
