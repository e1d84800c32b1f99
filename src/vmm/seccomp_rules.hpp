// The allow-list of each thread role (vmm/seccomp.cpp installs them).
#pragma once

#include <seccomp.h>

#include "base/result.hpp"
#include "base/thread_role.hpp"

namespace vessel::seccomp {

// Adds to ctx the system calls (and, where they matter, the arguments) a thread of `role` makes.
Result<void> add_rules(scmp_filter_ctx ctx, ThreadRole role);

}  // namespace vessel::seccomp
