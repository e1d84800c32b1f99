#include "cpu/riscv/dispatch.hpp"

#include "cpu/riscv/semantics/fp.hpp"
#include "cpu/riscv/semantics/rv64a.hpp"
#include "cpu/riscv/semantics/rv64i.hpp"
#include "cpu/riscv/semantics/rv64m.hpp"
#include "cpu/riscv/semantics/system.hpp"

namespace vessel::rv {

namespace {
constexpr Handler kHandlers[] = {
#define VESSEL_X(id, mn, match, mask, imm, ops, ext) &exec_##id,
    VESSEL_RV_BASE_INSNS(VESSEL_X)
#undef VESSEL_X
        & exec_kIllegal,
};
static_assert(sizeof(kHandlers) / sizeof(kHandlers[0]) == kNumOps);
}  // namespace

Handler handler_for(Op op) { return kHandlers[static_cast<unsigned>(op)]; }

bool ends_block(Op op) {
  switch (op) {
    case Op::jal:
    case Op::jalr:
    case Op::beq:
    case Op::bne:
    case Op::blt:
    case Op::bge:
    case Op::bltu:
    case Op::bgeu:
    case Op::ecall:
    case Op::ebreak:
    case Op::fence_i:
    case Op::csrrw:
    case Op::csrrs:
    case Op::csrrc:
    case Op::csrrwi:
    case Op::csrrsi:
    case Op::csrrci:
    case Op::sret:
    case Op::mret:
    case Op::wfi:
    case Op::sfence_vma:
    case Op::kIllegal: return true;
    default: return false;
  }
}

}  // namespace vessel::rv
