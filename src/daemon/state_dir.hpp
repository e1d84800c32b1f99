// The daemon's state directory (docs/daemon.md): where it is, the lock that keeps a second
// daemon out, the API token, and files written so that a reader finds the old version or the
// new one, never half of one.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "base/files.hpp"
#include "base/result.hpp"

namespace vessel::daemon {

// $VESSEL_STATE_DIR, else $XDG_STATE_HOME/vessel, else ~/.local/state/vessel; `option` (the
// --state-dir a person gave) wins over all of them. The result is absolute.
Result<std::string> resolve_state_dir(const std::string& option);

// flock(LOCK_EX) on DIR/daemon.lock, held while the object lives. The lock file says which
// pid holds it, for the message a second daemon prints.
class StateLock {
 public:
  static Result<StateLock> acquire(const std::string& dir);
  StateLock(StateLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  StateLock& operator=(StateLock&&) = delete;
  StateLock(const StateLock&) = delete;
  ~StateLock();

 private:
  explicit StateLock(int fd) : fd_(fd) {}
  int fd_;
};

// DIR/token (mode 0600): 32 random hex digits, created on the first start.
Result<std::string> load_or_create_token(const std::string& dir);

}  // namespace vessel::daemon
