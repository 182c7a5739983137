#pragma once
// The keys in force, reloadable while the service runs: keys rotate without dropping clients (open
// connections keep what they were admitted with; new tokens are checked against the new keys).
// reload() reads the files again (SIGHUP); reload_if_changed() only when a file's identity, size or
// modification time changed (a Kubernetes Secret update swaps the file behind its symlink). A failed reload
// keeps the keys in force: a half-written file never leaves the service without keys.
// Thread safety: every member may be called from any thread.

#include <memory>
#include <string>
#include <variant>

#include "ovalstream/auth/key_set.hpp"
#include "ovalstream/runtime/mutex.hpp"

namespace ovalstream::auth {

class KeyStore {
 public:
  // Loads the keys once; the error (load_key_set's) when they do not load.
  static std::variant<std::shared_ptr<KeyStore>, std::string> open(KeyFiles files);
  // A store of fixed keys (tests, and a service that reads its keys some other way).
  explicit KeyStore(KeySet keys);

  [[nodiscard]] std::shared_ptr<const KeySet> current() const;

  struct ReloadOutcome {
    bool reloaded = false;  // new keys are in force
    std::string error;      // not empty: the files did not load; the previous keys stay
  };
  ReloadOutcome reload();
  ReloadOutcome reload_if_changed();

 private:
  // What identifies a file's version: device, inode, size and modification time (ns).
  struct FileStamp {
    unsigned long long device = 0, inode = 0, size = 0;
    long long modified_ns = 0;
    bool exists = false;
    friend bool operator==(const FileStamp&, const FileStamp&) = default;
  };
  struct Stamps {
    FileStamp hmac_secret, public_keys;
    friend bool operator==(const Stamps&, const Stamps&) = default;
  };
  Stamps stamps() const;

  KeyFiles files_;
  mutable runtime::Mutex mutex_;
  std::shared_ptr<const KeySet> keys_ GUARDED_BY(mutex_);
  Stamps loaded_stamps_ GUARDED_BY(mutex_);
  runtime::Mutex reload_mutex_;  // one reload at a time
};

}  // namespace ovalstream::auth
