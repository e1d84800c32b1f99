// `vessel run --api-sock PATH`: the per-VM API (src/api/firecracker) in front of run_vm. The
// API configures and starts the VM from its server thread; the VM itself runs on the thread
// that called serve_vm (the process's main thread), as `vessel run` without the API does.
#pragma once

#include <string>

#include "api/firecracker/host_files.hpp"
#include "vmm/vm.hpp"

namespace vessel {

struct ApiVmOptions {
  std::string socket_path;
  // The command line's own options: the machine the API starts from, and, when a kernel is
  // given there, a VM that starts at once (the API then pauses, resumes and stops it).
  VmOptions vm;
  bool start_now = false;
  // The host files a request may name (--api-allow-dir); the command line's are its own.
  api::HostFilePolicy host_files;
};

// Serves the API until the VM ends (or, never started, until SIGTERM/SIGINT); returns the
// process exit status as run_vm does (0 when stopped before a start).
int serve_vm(const ApiVmOptions& options);

}  // namespace vessel
