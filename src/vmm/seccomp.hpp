// seccomp-bpf filters around the threads of a VM process (`vessel run --seccomp`), one
// allow-list per thread role (base/thread_role.hpp; the lists are in seccomp_rules.cpp).
//
// A forbidden system call raises SIGSYS (SECCOMP_RET_TRAP) instead of killing the process
// silently: the handler writes one line naming the thread's role and the call, then ends the
// process with kExitSeccomp (enforce) or makes the call fail with EPERM (log, for development).
#pragma once

#include <string_view>

#include "base/result.hpp"
#include "base/thread_role.hpp"

namespace vessel::seccomp {

enum class Mode { kOff, kLog, kEnforce };

// "off", "log" or "enforce" (--seccomp); the error names the option.
Result<Mode> parse_mode(std::string_view text);
const char* mode_name(Mode mode);
// enforce, but off in a sanitizer build: ASan's and LSan's own threads and their ptrace at exit
// would trip every filter.
Mode default_mode();

// The exit status of a process ended by a forbidden call: 128 + SIGSYS, as a shell reports a
// process that signal killed.
inline constexpr int kExitSeccomp = 159;

// Call once, on the main thread, before any thread of the VM starts: sets no_new_privs, the
// SIGSYS handler and the thread-role hook, so that every thread that enters a role from then on
// gets its filter. kOff does nothing.
Result<void> enable(Mode mode);

// The test hook (env VESSEL_TEST_FORBIDDEN_CALL=ROLE): the first thread of that role makes a
// system call no filter allows, right after its filter is in place.
inline constexpr const char* kTestHookEnv = "VESSEL_TEST_FORBIDDEN_CALL";

}  // namespace vessel::seccomp
