// A command's refusal: its one-line error on stderr, and the exit status it returns.
#pragma once

#include <fmt/format.h>

#include <cstdio>
#include <string_view>

#include "vmm/vm.hpp"

namespace vessel::cli {

// "vessel: MESSAGE" on stderr; gives back `status` for the command to return.
inline int fail(int status, std::string_view message) {
  fmt::print(stderr, "vessel: {}\n", message);
  return status;
}
// Bad input from the person at the command line: exit status 2.
inline int fail(std::string_view message) { return fail(kExitBadInput, message); }

}  // namespace vessel::cli
