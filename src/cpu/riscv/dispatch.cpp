#include "cpu/riscv/dispatch.hpp"

#include "cpu/riscv/semantics/bitmanip.hpp"
#include "cpu/riscv/semantics/fp.hpp"
#include "cpu/riscv/semantics/rv64a.hpp"
#include "cpu/riscv/semantics/rv64i.hpp"
#include "cpu/riscv/semantics/rv64m.hpp"
#include "cpu/riscv/semantics/system.hpp"
#include "cpu/riscv/semantics/zacas.hpp"
#include "cpu/riscv/semantics/zicbo.hpp"
#include "cpu/riscv/semantics/zicond.hpp"

namespace vessel::rv {

namespace {
constexpr Handler kHandlers[] = {
#define VESSEL_X(id, mn, match, mask, imm, ops, ext, flags) &exec_##id,
    VESSEL_RV_BASE_INSNS(VESSEL_X)
#undef VESSEL_X
        & exec_kIllegal,
};
static_assert(sizeof(kHandlers) / sizeof(kHandlers[0]) == kNumOps);
}  // namespace

Handler handler_for(Op op) { return kHandlers[static_cast<unsigned>(op)]; }

}  // namespace vessel::rv
