// RV64I base integer instructions.
#pragma once

#include "cpu/riscv/semantics/macros.hpp"

// The semantics read as a table, one instruction per line where it fits: keep it so.
// clang-format off
namespace vessel::rv {

VESSEL_INSN(lui) { WRITE_RD(IMM); NEXT; }
VESSEL_INSN(auipc) { WRITE_RD(PC + UIMM); NEXT; }
VESSEL_INSN(jal) {
  const uint64_t link = PC + d.len;
  WRITE_RD(link);
  JUMP_TO(PC + UIMM);
}
VESSEL_INSN(jalr) {
  const uint64_t target = (RS1 + UIMM) & ~1ULL;  // computed before rd is written (rd may be rs1)
  WRITE_RD(PC + d.len);
  JUMP_TO(target);
}

#define VESSEL_BRANCH(id, cond) \
  VESSEL_INSN(id) {             \
    if (cond) JUMP_TO(PC + UIMM); \
    NEXT;                       \
  }
VESSEL_BRANCH(beq, RS1 == RS2)
VESSEL_BRANCH(bne, RS1 != RS2)
VESSEL_BRANCH(blt, static_cast<int64_t>(RS1) < static_cast<int64_t>(RS2))
VESSEL_BRANCH(bge, static_cast<int64_t>(RS1) >= static_cast<int64_t>(RS2))
VESSEL_BRANCH(bltu, RS1 < RS2)
VESSEL_BRANCH(bgeu, RS1 >= RS2)
#undef VESSEL_BRANCH

#define VESSEL_LOAD(id, type)                 \
  VESSEL_INSN(id) {                           \
    type value;                               \
    MEM_OR_TRAP(h.load<type>(RS1 + UIMM, value)); \
    WRITE_RD(static_cast<int64_t>(value));    \
    NEXT;                                     \
  }
VESSEL_LOAD(lb, int8_t)
VESSEL_LOAD(lh, int16_t)
VESSEL_LOAD(lw, int32_t)
VESSEL_LOAD(ld, int64_t)
VESSEL_LOAD(lbu, uint8_t)
VESSEL_LOAD(lhu, uint16_t)
VESSEL_LOAD(lwu, uint32_t)
#undef VESSEL_LOAD

#define VESSEL_STORE(id, type)                                  \
  VESSEL_INSN(id) {                                             \
    MEM_OR_TRAP(h.store<type>(RS1 + UIMM, static_cast<type>(RS2))); \
    return after_store(h, d);                                   \
  }
VESSEL_STORE(sb, uint8_t)
VESSEL_STORE(sh, uint16_t)
VESSEL_STORE(sw, uint32_t)
VESSEL_STORE(sd, uint64_t)
#undef VESSEL_STORE

VESSEL_INSN(addi) { WRITE_RD(RS1 + UIMM); NEXT; }
VESSEL_INSN(slti) { WRITE_RD(static_cast<int64_t>(RS1) < IMM); NEXT; }
VESSEL_INSN(sltiu) { WRITE_RD(RS1 < UIMM); NEXT; }
VESSEL_INSN(xori) { WRITE_RD(RS1 ^ UIMM); NEXT; }
VESSEL_INSN(ori) { WRITE_RD(RS1 | UIMM); NEXT; }
VESSEL_INSN(andi) { WRITE_RD(RS1 & UIMM); NEXT; }
VESSEL_INSN(slli) { WRITE_RD(RS1 << IMM); NEXT; }
VESSEL_INSN(srli) { WRITE_RD(RS1 >> IMM); NEXT; }
VESSEL_INSN(srai) { WRITE_RD(static_cast<int64_t>(RS1) >> IMM); NEXT; }
VESSEL_INSN(add) { WRITE_RD(RS1 + RS2); NEXT; }
VESSEL_INSN(sub) { WRITE_RD(RS1 - RS2); NEXT; }
VESSEL_INSN(sll) { WRITE_RD(RS1 << (RS2 & 63)); NEXT; }
VESSEL_INSN(slt) { WRITE_RD(static_cast<int64_t>(RS1) < static_cast<int64_t>(RS2)); NEXT; }
VESSEL_INSN(sltu) { WRITE_RD(RS1 < RS2); NEXT; }
VESSEL_INSN(xor_) { WRITE_RD(RS1 ^ RS2); NEXT; }
VESSEL_INSN(srl) { WRITE_RD(RS1 >> (RS2 & 63)); NEXT; }
VESSEL_INSN(sra) { WRITE_RD(static_cast<int64_t>(RS1) >> (RS2 & 63)); NEXT; }
VESSEL_INSN(or_) { WRITE_RD(RS1 | RS2); NEXT; }
VESSEL_INSN(and_) { WRITE_RD(RS1 & RS2); NEXT; }
VESSEL_INSN(addiw) { WRITE_RD(sext32(RS1 + UIMM)); NEXT; }
VESSEL_INSN(slliw) { WRITE_RD(sext32(RS1 << IMM)); NEXT; }
VESSEL_INSN(srliw) { WRITE_RD(sext32(static_cast<uint32_t>(RS1) >> IMM)); NEXT; }
VESSEL_INSN(sraiw) { WRITE_RD(static_cast<int64_t>(static_cast<int32_t>(RS1) >> IMM)); NEXT; }
VESSEL_INSN(addw) { WRITE_RD(sext32(RS1 + RS2)); NEXT; }
VESSEL_INSN(subw) { WRITE_RD(sext32(RS1 - RS2)); NEXT; }
VESSEL_INSN(sllw) { WRITE_RD(sext32(RS1 << (RS2 & 31))); NEXT; }
VESSEL_INSN(srlw) { WRITE_RD(sext32(static_cast<uint32_t>(RS1) >> (RS2 & 31))); NEXT; }
VESSEL_INSN(sraw) { WRITE_RD(static_cast<int64_t>(static_cast<int32_t>(RS1) >> (RS2 & 31))); NEXT; }

// Harts are host threads. The host's TSO (x86) already keeps every ordering but store->load,
// so only a fence whose predecessor set has W (or O) and successor set has R (or I) needs a
// full host fence; the rest need only keep the host compiler from moving accesses across.
// fence bits: 31:28 fm, 27:24 pred = PI PO PR PW, 23:20 succ = SI SO SR SW. FENCE.TSO
// (fm = 1000) leaves store->load unordered, exactly as the host does.
VESSEL_INSN(fence) {
  const bool pred_w = (d.raw >> 24) & 0b0101;
  const bool succ_r = (d.raw >> 20) & 0b1010;
  const bool tso = (d.raw >> 28) == 0b1000;
  if (pred_w && succ_r && !tso) std::atomic_thread_fence(std::memory_order_seq_cst);
  else std::atomic_signal_fence(std::memory_order_seq_cst);
  NEXT;
}
VESSEL_INSN(fence_i) { return h.do_fence_i(d); }

VESSEL_INSN(ecall) {
  switch (h.priv) {
    case Priv::kU: return h.raise(Exception::kEcallFromU, 0);
    case Priv::kS:
      // A guest kernel's (VS-mode) ecall goes to its hypervisor, never to the builtin SBI.
      if (h.virt) return h.raise(Exception::kEcallFromVS, 0);
      if (h.ecall_handler() != nullptr) return h.ecall_handler()->ecall(h, d);
      return h.raise(Exception::kEcallFromS, 0);
    case Priv::kM: break;
  }
  return h.raise(Exception::kEcallFromM, 0);
}
VESSEL_INSN(ebreak) { return h.raise(Exception::kBreakpoint, PC); }

VESSEL_INSN(kIllegal) { return h.illegal(d); }

}  // namespace vessel::rv
// clang-format on
