// What each thread of a VM process is for. A thread names its role as its first act; the VMM
// (vmm/seccomp.cpp) hangs a hook here that gives the thread the seccomp filter of its role, so
// that the lower layers (the event loop, the console, the block workers, the API server) stay
// free of any sandboxing code. Without a hook (the daemon, the tests) entering a role does
// nothing.
#pragma once

namespace vessel {

enum class ThreadRole {
  kSupervisor,   // the main thread of `vessel run`: builds machines (also on reboot), supervises
  kVcpu,         // runs one hart
  kIo,           // a machine's event loop: virtio queues, disks, user networking, tap
  kBlockWorker,  // a disk's thread pool where io_uring is refused
  kConsole,      // the serial console: terminal input, its socket's viewers, its log on disk
  kApi,          // the per-VM HTTP API (--api-sock)
  kGdb,          // the GDB stub (--gdb)
};
inline constexpr int kThreadRoleCount = 7;

const char* thread_role_name(ThreadRole role);

using ThreadRoleHook = void (*)(ThreadRole role);
// Set once, before the threads it concerns start (nullptr: none).
void set_thread_role_hook(ThreadRoleHook hook);
// Called by a thread before it does anything else.
void enter_thread_role(ThreadRole role);
// Whether the calling thread may open and rename files: false only on a thread that entered a
// role whose filter forbids it (a vCPU, the I/O thread, a block worker, the GDB stub) while a
// hook is set. What such a thread would do with a file (rotate --log-file) waits for another.
bool thread_may_open_files();

}  // namespace vessel
