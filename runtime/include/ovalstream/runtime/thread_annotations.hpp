#pragma once
// Clang's thread-safety annotations (https://clang.llvm.org/docs/ThreadSafetyAnalysis.html), in the style of
// Abseil's thread_annotations.h. The clang build checks them (-Wthread-safety -Werror=thread-safety, see the
// top-level CMakeLists.txt); other compilers see no-ops. The rule: every member a mutex guards is declared
// GUARDED_BY it, and a private function called with the lock held is declared REQUIRES it. Lock with the
// annotated ovalstream::runtime::Mutex and MutexLock (mutex.hpp): std::mutex carries no annotations.

#if defined(__clang__)
#define OVALSTREAM_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define OVALSTREAM_THREAD_ANNOTATION(x)
#endif

// A type that is a lock (a mutex).
#define CAPABILITY(x) OVALSTREAM_THREAD_ANNOTATION(capability(x))
// An RAII type that holds a lock from its construction to its destruction.
#define SCOPED_CAPABILITY OVALSTREAM_THREAD_ANNOTATION(scoped_lockable)

// A member read or written only with the lock held.
#define GUARDED_BY(x) OVALSTREAM_THREAD_ANNOTATION(guarded_by(x))
// A pointer whose pointee is read or written only with the lock held.
#define PT_GUARDED_BY(x) OVALSTREAM_THREAD_ANNOTATION(pt_guarded_by(x))

// The caller must hold the lock(s) / must not hold them (the function takes them itself).
#define REQUIRES(...) OVALSTREAM_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define EXCLUDES(...) OVALSTREAM_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))

// The function takes / gives back the lock(s) and returns with it held / released; TRY_ACQUIRE: holds it
// when it returns the given value.
#define ACQUIRE(...) OVALSTREAM_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) OVALSTREAM_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) OVALSTREAM_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
// Tells the analysis the lock is held where it cannot see it taken (a condition variable's predicate).
#define ASSERT_CAPABILITY(x) OVALSTREAM_THREAD_ANNOTATION(assert_capability(x))
// The function returns a reference to the lock.
#define RETURN_CAPABILITY(x) OVALSTREAM_THREAD_ANNOTATION(lock_returned(x))

// Turns the analysis off for one function whose locking it cannot follow (say why at the use).
#define NO_THREAD_SAFETY_ANALYSIS OVALSTREAM_THREAD_ANNOTATION(no_thread_safety_analysis)
