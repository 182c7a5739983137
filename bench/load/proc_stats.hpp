#pragma once
// Readings of another process and of the kernel from /proc, for the server side of the measures.
// Thread safety: free functions without shared state.

#include <sys/types.h>

#include <cstdint>
#include <optional>

namespace ovalstream::bench {

// utime + stime of `pid` in seconds (/proc/<pid>/stat); nullopt when unreadable.
std::optional<double> cpu_seconds(pid_t pid);
// VmRSS of `pid` in bytes (/proc/<pid>/status); nullopt when unreadable.
std::optional<std::int64_t> rss_bytes(pid_t pid);
// The kernel's TCP socket memory in bytes (/proc/net/sockstat "TCP: ... mem <pages>"); nullopt when
// unreadable.
std::optional<std::int64_t> tcp_socket_memory_bytes();
// The kernel's slab memory in bytes (/proc/meminfo "Slab:"): socket, inode and dentry objects of every
// connection live there; nullopt when unreadable. Machine-wide, so other processes' churn shows up too.
std::optional<std::int64_t> kernel_slab_bytes();

}  // namespace ovalstream::bench
