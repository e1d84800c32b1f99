// The interpreter's dispatch table: Op -> the function holding its semantics.
#pragma once

#include "cpu/riscv/decoded.hpp"
#include "cpu/riscv/decoder.hpp"  // ends_block() and the other readers of the table's flags

namespace vessel::rv {
Handler handler_for(Op op);
}  // namespace vessel::rv
