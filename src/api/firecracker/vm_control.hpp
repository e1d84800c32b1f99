// What the per-VM API needs of the VM it controls. The VMM implements it (an adapter over its
// Vm); unit tests implement it with a fake. The API calls it from the server's thread and never
// two calls at once, but the VM runs on threads of its own: state() and stats() in particular
// must be safe to call while it runs, and state() must see the VM's own endings (a guest that
// powered off) if the process outlives them.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "base/result.hpp"
#include "board/virt.hpp"

namespace vessel::api {

// Firecracker's three instance states, as GET / reports them.
enum class VmState { kNotStarted, kRunning, kPaused };

// A snapshot's two files (vmm/snapshot), resolved and checked by the API.
struct SnapshotFiles {
  std::string state;   // snapshot_path
  std::string memory;  // mem_file_path, mem_backend.backend_path
  bool diff = false;   // snapshot_type Diff: only the pages written since the last snapshot
};

// PUT /vessel/migrate: a live migration to a destination waiting for it.
struct MigrateRequest {
  std::string destination;  // tcp:HOST:PORT, HOST:PORT or unix:PATH
  std::string ticket;       // sent to the destination (a daemon's), or empty
  unsigned max_rounds = 30;
  unsigned downtime_ms = 30;
};

class VmControl {
 public:
  virtual ~VmControl() = default;

  // Builds the machine from `config` and starts its harts. A failure (an image that does not
  // load, a tap that cannot be opened) is one line for a person; the VM is then still not
  // started and start() may be tried again.
  virtual Result<void> start(const VirtConfig& config) = 0;
  // Harts stop between instructions; devices and timers keep their state. Only when running.
  virtual Result<void> pause() = 0;
  virtual Result<void> resume() = 0;
  virtual VmState state() const = 0;
  // The VM's statistics as `vessel run --stats` prints them.
  virtual nlohmann::json stats() = 0;
  // As if the guest had powered off / reset the machine (the SiFive test device's requests).
  virtual Result<void> shutdown() = 0;
  virtual Result<void> reboot() = 0;
  // Writes a Full snapshot of the paused VM.
  virtual Result<void> create_snapshot(const SnapshotFiles& files) = 0;
  // Instead of start(): builds the machine a snapshot describes and runs it from there (or
  // leaves it paused). A refused snapshot is one line; the VM is then still not started.
  virtual Result<void> load_snapshot(const SnapshotFiles& files, bool resume) = 0;

  // Migrates the started VM live (vmm/migration); on success its figures (rounds, bytes_sent,
  // downtime_ms, ...) and the VM ends here; on failure it runs on and the error says why.
  virtual Result<nlohmann::json> migrate(const MigrateRequest& request) = 0;

  // The memory balloon of a started VM (VirtConfig::balloon). Each is an error for a person
  // when the VM has no balloon (or is not running). The target is the balloon's size: memory
  // taken from the guest, in MiB.
  virtual Result<void> set_balloon_target(uint32_t amount_mib) = 0;
  // A new statistics interval (nonzero), when statistics were enabled at boot.
  virtual Result<void> set_balloon_stats_interval(unsigned seconds) = 0;
  // GET /balloon/statistics' body: target_pages, actual_pages, target_mib, actual_mib and the
  // driver's last report under Firecracker's names; stats_polling_interval_s as it now is.
  virtual Result<nlohmann::json> balloon_statistics() = 0;
};

}  // namespace vessel::api
