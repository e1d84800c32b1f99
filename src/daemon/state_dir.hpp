// The daemon's state directory (docs/daemon.md): where it is, the lock that keeps a second
// daemon out, the API token, and files written so that a reader finds the old version or the
// new one, never half of one.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

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

// A VM's directory under VMS (VMS/NAME) appears whole or not at all: it is made as
// VMS/.creating-NAME, its config.json written and synced, then renamed into place. Errors name
// the directory; on one, nothing is left behind. EEXIST when NAME exists.
Result<void> create_vm_dir(const std::string& vms, const std::string& name,
                           std::string_view config_json);
// Removes VMS/NAME by renaming it to VMS/.removing-NAME first, so that a daemon killed midway
// leaves either the whole VM or a leftover that the next one finishes removing.
Result<void> remove_vm_dir(const std::string& vms, const std::string& name);
// What a daemon killed during a create or a remove left under VMS: each leftover is removed,
// and each gets a line saying what was found, for the next daemon's log.
std::vector<std::string> clean_interrupted(const std::string& vms);

// A test hook: with VESSEL_DAEMON_CRASH_AT=STEP the daemon kills itself (SIGKILL, as kill -9
// would) at that step ("create", "start", "remove"), `after` it gets there.
void crash_point(std::string_view step, std::chrono::milliseconds after = {});

// DIR/token (mode 0600): 32 random hex digits, created on the first start.
Result<std::string> load_or_create_token(const std::string& dir);

}  // namespace vessel::daemon
