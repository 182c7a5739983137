#include "ovalstream/auth/key_store.hpp"

#include <sys/stat.h>

namespace ovalstream::auth {

std::variant<std::shared_ptr<KeyStore>, std::string> KeyStore::open(KeyFiles files) {
  auto loaded = load_key_set(files);
  if (auto* error = std::get_if<std::string>(&loaded)) return std::move(*error);
  auto store = std::make_shared<KeyStore>(std::move(std::get<KeySet>(loaded)));
  store->files_ = std::move(files);
  runtime::MutexLock lock(store->mutex_);  // not shared yet: for the analysis
  store->loaded_stamps_ = store->stamps();
  return store;
}

KeyStore::KeyStore(KeySet keys) : keys_(std::make_shared<const KeySet>(std::move(keys))) {}

std::shared_ptr<const KeySet> KeyStore::current() const {
  runtime::MutexLock lock(mutex_);
  return keys_;
}

KeyStore::Stamps KeyStore::stamps() const {
  auto stamp = [](const std::string& path) {
    FileStamp result;
    struct stat info {};
    if (path.empty() || ::stat(path.c_str(), &info) != 0) return result;
    result.exists = true;
    result.device = info.st_dev;
    result.inode = info.st_ino;
    result.size = static_cast<unsigned long long>(info.st_size);
    result.modified_ns = static_cast<long long>(info.st_mtim.tv_sec) * 1'000'000'000 + info.st_mtim.tv_nsec;
    return result;
  };
  return {stamp(files_.hmac_secret_file), stamp(files_.public_keys_file)};
}

KeyStore::ReloadOutcome KeyStore::reload() {
  runtime::MutexLock reloading(reload_mutex_);
  if (files_.hmac_secret_file.empty() && files_.public_keys_file.empty()) return {};
  // Stamped before reading: a change while reading is seen by the next check.
  const Stamps before = stamps();
  auto loaded = load_key_set(files_);
  runtime::MutexLock lock(mutex_);
  loaded_stamps_ = before;
  if (auto* error = std::get_if<std::string>(&loaded)) return {false, std::move(*error)};
  keys_ = std::make_shared<const KeySet>(std::move(std::get<KeySet>(loaded)));
  return {true, {}};
}

KeyStore::ReloadOutcome KeyStore::reload_if_changed() {
  {
    runtime::MutexLock lock(mutex_);
    if (stamps() == loaded_stamps_) return {};
  }
  return reload();
}

}  // namespace ovalstream::auth
