// A running VM: the machine, its console on the host terminal, the vCPU loop, and the ways
// it ends (guest poweroff/reset/fail, HTIF exit, Ctrl-A x, timeout, a guest stuck in a trap
// loop).
#pragma once

#include <optional>
#include <string>

#include "board/virt.hpp"

namespace vessel {

struct VmOptions {
  VirtConfig machine;
  std::optional<std::string> dump_dtb;  // write the device tree there and exit
  double timeout_seconds = 0;           // 0: no limit
  bool stats = false;                   // one JSON line on stderr at exit
};

// Exit statuses, stable for scripts.
inline constexpr int kExitOk = 0;
inline constexpr int kExitGuestError = 1;  // trap loop, or a failure code of 0 reported as fail
inline constexpr int kExitBadInput = 2;
inline constexpr int kExitTimeout = 124;  // as timeout(1)

// Runs the VM to its end and returns the process exit status. Errors are printed as one line.
int run_vm(const VmOptions& options);

}  // namespace vessel
