#include "base/thread_role.hpp"

#include <atomic>

namespace vessel {

namespace {
std::atomic<ThreadRoleHook> g_hook{nullptr};
thread_local bool t_may_open_files = true;
}  // namespace

const char* thread_role_name(ThreadRole role) {
  switch (role) {
    case ThreadRole::kSupervisor: return "supervisor";
    case ThreadRole::kVcpu: return "vcpu";
    case ThreadRole::kIo: return "io";
    case ThreadRole::kBlockWorker: return "block-worker";
    case ThreadRole::kConsole: return "console";
    case ThreadRole::kApi: return "api";
    case ThreadRole::kGdb: return "gdb";
  }
  return "?";
}

void set_thread_role_hook(ThreadRoleHook hook) { g_hook.store(hook, std::memory_order_release); }

void enter_thread_role(ThreadRole role) {
  ThreadRoleHook hook = g_hook.load(std::memory_order_acquire);
  if (hook == nullptr) return;
  t_may_open_files =
      role == ThreadRole::kSupervisor || role == ThreadRole::kConsole || role == ThreadRole::kApi;
  hook(role);
}

bool thread_may_open_files() { return t_may_open_files; }

}  // namespace vessel
