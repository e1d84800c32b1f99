// The interpreter's dispatch table: Op -> the function holding its semantics.
#pragma once

#include "cpu/riscv/decoded.hpp"

namespace vessel::rv {
Handler handler_for(Op op);
// True for instructions after which a block must end (control transfer, system state).
bool ends_block(Op op);
}  // namespace vessel::rv
