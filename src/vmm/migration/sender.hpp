// The source's side of a live migration (docs/migration.md): pre-copy rounds of guest RAM
// while the guest runs (the whole RAM, then the pages its harts and devices dirtied during the
// round before), then a short stop-and-copy of the last dirty pages and the machine's state
// (the snapshot's state file, vmm/snapshot's capture_state), until the destination says the
// guest runs there. A failure at any point leaves the source's guest running as it was.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "base/result.hpp"
#include "board/virt.hpp"
#include "vmm/migration/channel.hpp"

namespace vessel::migration {

struct SendOptions {
  Address to;
  std::string ticket;  // sent in the HELLO, for a destination that expects one
  // Rounds of dirty pages after the first pass over the whole RAM, at most: a guest that
  // dirties memory faster than the link carries it is stopped and copied after these.
  unsigned max_rounds = 30;
  // The stop-and-copy begins when what is left can be sent in about this long.
  std::chrono::milliseconds downtime_target{30};
};

struct SendStats {
  unsigned rounds = 0;  // passes over RAM while the guest ran (the first is the whole RAM)
  uint64_t bytes_sent = 0;
  uint64_t pages_sent = 0;   // as data (zero pages are sent as a run, or not at all first)
  uint64_t final_pages = 0;  // sent during the stop-and-copy
  double total_ms = 0;       // from the connection to the destination's RUNNING
  double downtime_ms = 0;    // from the guest's stop here to the destination's RUNNING
};

// What the migration needs of the VM: its machine and configuration, and pause and resume as
// the API's (harts held at a block boundary, guest time frozen).
struct SourceVm {
  VirtMachine& machine;
  const VirtConfig& config;
  std::function<Result<void>()> pause, resume;
  std::function<bool()> ended;  // the guest powered off or rebooted meanwhile
  bool running = true;          // false: the VM is paused, and stays so throughout
};

// Migrates the VM; on success the guest runs at the destination and the caller ends this one
// (it is left paused). On failure the guest runs here as before (its dirty log no longer
// covers the time since its last snapshot: the next Diff needs a Full first), and the error
// says what happened.
Result<SendStats> send(SourceVm& vm, const SendOptions& options);

}  // namespace vessel::migration
