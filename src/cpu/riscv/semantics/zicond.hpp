// Zicond: integer conditional operations. Each is rs1 or zero by rs2, so that compilers
// make a branch-free select from two of them and an or.
#pragma once

#include "cpu/riscv/semantics/macros.hpp"

// clang-format off
namespace vessel::rv {

VESSEL_INSN(czero_eqz) { WRITE_RD(RS2 == 0 ? 0 : RS1); NEXT; }
VESSEL_INSN(czero_nez) { WRITE_RD(RS2 != 0 ? 0 : RS1); NEXT; }

}  // namespace vessel::rv
// clang-format on
