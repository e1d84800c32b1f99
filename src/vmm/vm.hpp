// A running VM: the machine, its console (the host terminal or a socket), the vCPU loop, and the
// ways it ends (guest poweroff/reset/fail, HTIF exit, Ctrl-A x, timeout, a guest stuck in a trap
// loop).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "board/virt.hpp"
#include "vmm/config.hpp"
#include "vmm/console.hpp"
#include "vmm/migration/sender.hpp"
#include "vmm/snapshot/snapshot.hpp"

namespace vessel {

struct VmOptions;
int run_vm(const VmOptions& options);

// A running VM as other threads see it (the API server): its state, pause and resume, its
// statistics, and requests to end it. Every method is safe from any thread, before, during and
// after the run.
class VmHandle {
 public:
  enum class State { kNotStarted, kRunning, kPaused, kEnded };
  static const char* state_name(State s);

  State state() const;
  // Stops every hart and the guest's clock; returns once no hart executes. Pausing a paused VM
  // is not an error.
  Result<void> pause();
  // Lets the harts and the clock go on from where they stopped.
  Result<void> resume();
  // Writes a snapshot of the paused VM (vmm/snapshot); an error when it is not paused.
  Result<snapshot::Created> snapshot(const snapshot::CreateOptions& options);
  // Live migration (vmm/migration) to a destination waiting for it (`vessel run --incoming`):
  // pre-copy while the guest runs, then a stop-and-copy. On success the guest runs there and
  // this VM ends (status 0); on failure it runs on here and the error says what happened.
  Result<migration::SendStats> migrate(const migration::SendOptions& options);
  // The statistics --stats prints (instructions, MIPS, RSS, ...), with "state" added; empty
  // before the VM starts.
  std::string stats_json() const;
  // Ends the VM as a guest poweroff does (status 0), or restarts it as a guest reboot does.
  void request_poweroff();
  void request_reboot();
  // Runs fn with the memory balloon and the guest's RAM size under the handle's lock (the API,
  // the monitor); an error when the VM has no --balloon or is not running.
  Result<void> with_balloon(const std::function<void(virtio::VirtioBalloon&, uint64_t)>& fn);
  // Writes the --snapshot disks back into their images (Ctrl-A s, the monitor's `commit all`);
  // what happened, one line per disk.
  std::string commit_disks();
  // Why the last run could not start (its machine could not be built), or empty.
  std::string start_error() const;

 private:
  friend int run_vm(const VmOptions& options);
  struct Run;

  mutable std::mutex mu_;
  State state_ = State::kNotStarted;
  Run* run_ = nullptr;  // under mu_, while run_vm runs
  std::string start_error_;
};

// The VM's configuration (vmm/config.hpp: `machine` and `accel`) and how this run hosts it.
struct VmOptions : VmConfig {
  // A snapshot to restore instead of booting (`vessel run --restore`, PUT /snapshot/load):
  // its configuration is the machine's, but for `machine`'s engine settings. With
  // restore_paused the VM starts paused, as Firecracker's resume_vm=false leaves it.
  std::shared_ptr<const snapshot::Loaded> restore;
  bool restore_paused = false;
  // When the restore began (before the state file was read): --stats then reports restore_ms,
  // from there to the harts' threads starting.
  std::chrono::steady_clock::time_point restore_started{};
  std::string kvm_device = "/dev/kvm";
  // Another thread's view of the VM (e.g. the API server's), or none.
  std::shared_ptr<VmHandle> handle;
  // Called once from the run's thread: with an error when the machine could not be built,
  // else once its harts' threads have started (an incoming migration answers its source).
  std::function<void(const Result<void>&)> on_start;
  ConsoleOptions console;               // the serial console: terminal or socket, and a log
  std::optional<std::string> dump_dtb;  // write the device tree there and exit
  double timeout_seconds = 0;           // 0: no limit
  bool stats = false;                   // one JSON line on stderr at exit
  // A GDB stub: tcp:PORT or unix:PATH (--gdb); with gdb_wait no instruction runs before a
  // client resumes the harts (--gdb-wait).
  std::optional<std::string> gdb;
  bool gdb_wait = false;
  // Set (from a signal handler) to the number of a signal that asks the VM to end: the run
  // ends within a supervisor tick with status 128 + that number, as if the signal had killed
  // the process, but with the console log flushed and the API socket removed. 0: none.
  const std::atomic<int>* terminate_signal = nullptr;
};

// The balloon's figures under Firecracker's names (GET /balloon/statistics: target_pages,
// actual_pages, target_mib, actual_mib and the driver's last report), and Vessel's counters
// (released_pages, inflate_chains, deflate_chains, stats_reports) that --stats shows too.
nlohmann::json balloon_json(const virtio::VirtioBalloon& b);

// Exit statuses, stable for scripts.
inline constexpr int kExitOk = 0;
inline constexpr int kExitGuestError = 1;  // trap loop, or a failure code of 0 reported as fail
inline constexpr int kExitBadInput = 2;
inline constexpr int kExitTimeout = 124;  // as timeout(1)

// Runs the VM to its end and returns the process exit status. Errors are printed as one line.
int run_vm(const VmOptions& options);

}  // namespace vessel
