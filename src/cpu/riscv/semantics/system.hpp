// Zicsr and the privileged instructions.
#pragma once

#include "cpu/riscv/semantics/macros.hpp"

// The semantics read as a table, one instruction per line where it fits: keep it so.
// clang-format off
namespace vessel::rv {

namespace csrop {
enum class Kind { kWrite, kSet, kClear };

// rs1 = x0 (or uimm = 0) makes csrrs/csrrc read-only: no write side effects and no trap on a
// read-only CSR; csrrw with rd = x0 does not read.
template <Kind kind, bool immediate>
ExecStatus run(Hart& h, const DecodedInsn& d) {
  const auto csr = static_cast<uint16_t>(d.imm);
  const uint64_t src = immediate ? d.rs1 : h.x[d.rs1];
  const bool writes = kind == Kind::kWrite || d.rs1 != 0;
  const bool reads = !(kind == Kind::kWrite && d.rd == kZeroSink);
  if (writes && !h.csr_accessible(csr, true)) return h.csr_denied(d);
  uint64_t old = 0;
  if (reads && !h.csr_read(csr, old)) return h.csr_denied(d);
  const uint64_t value_read = old;
  const uint64_t status_before = h.mstatus();
  if (writes) {
    // Read-modify-write of mip works on the software-writable bits as they are, not on the
    // value read (which ORs in the PLIC's SEIP line): otherwise OpenSBI's "csrs mip, STIP"
    // would latch a momentary external interrupt into mip.SEIP for good.
    if (kind != Kind::kWrite && csr == kMip) old = h.mip_software_view(old);
    uint64_t next = src;
    if (kind == Kind::kSet) next = old | src;
    if (kind == Kind::kClear) next = old & ~src;
    if (!h.csr_write(csr, next)) return h.csr_denied(d);
  }
  WRITE_RD(value_read);
  if (!writes || !h.csr_write_ends_block(csr, status_before)) return ExecStatus::kNext;
  h.pc += d.len;
  return ExecStatus::kBreak;
}
}  // namespace csrop

VESSEL_INSN(csrrw) { return csrop::run<csrop::Kind::kWrite, false>(h, d); }
VESSEL_INSN(csrrs) { return csrop::run<csrop::Kind::kSet, false>(h, d); }
VESSEL_INSN(csrrc) { return csrop::run<csrop::Kind::kClear, false>(h, d); }
VESSEL_INSN(csrrwi) { return csrop::run<csrop::Kind::kWrite, true>(h, d); }
VESSEL_INSN(csrrsi) { return csrop::run<csrop::Kind::kSet, true>(h, d); }
VESSEL_INSN(csrrci) { return csrop::run<csrop::Kind::kClear, true>(h, d); }

VESSEL_INSN(mret) { return h.do_mret(d); }
VESSEL_INSN(sret) { return h.do_sret(d); }
VESSEL_INSN(wfi) { return h.do_wfi(d); }
VESSEL_INSN(sfence_vma) { return h.do_sfence_vma(d); }
// Svinval: sinval.vma invalidates as sfence.vma does (this hart's TLB cannot still hold what it
// drops), and the two fences order nothing more than that.
VESSEL_INSN(sinval_vma) { return h.do_sfence_vma(d); }
VESSEL_INSN(sfence_w_inval) { return h.do_sfence_inval(d); }
VESSEL_INSN(sfence_inval_ir) { return h.do_sfence_inval(d); }

// H
VESSEL_INSN(hfence_vvma) { return h.do_hfence(d, false); }
VESSEL_INSN(hfence_gvma) { return h.do_hfence(d, true); }
// Svinval with H: invalidations as the fences do them (see sinval.vma above).
VESSEL_INSN(hinval_vvma) {
  return (h.extensions() & ext_bit(Ext::Svinval)) ? h.do_hfence(d, false) : h.illegal(d);
}
VESSEL_INSN(hinval_gvma) {
  return (h.extensions() & ext_bit(Ext::Svinval)) ? h.do_hfence(d, true) : h.illegal(d);
}
VESSEL_INSN(hlv_b) { return h.do_hlv(d, 1, true, false); }
VESSEL_INSN(hlv_bu) { return h.do_hlv(d, 1, false, false); }
VESSEL_INSN(hlv_h) { return h.do_hlv(d, 2, true, false); }
VESSEL_INSN(hlv_hu) { return h.do_hlv(d, 2, false, false); }
VESSEL_INSN(hlvx_hu) { return h.do_hlv(d, 2, false, true); }
VESSEL_INSN(hlv_w) { return h.do_hlv(d, 4, true, false); }
VESSEL_INSN(hlv_wu) { return h.do_hlv(d, 4, false, false); }
VESSEL_INSN(hlvx_wu) { return h.do_hlv(d, 4, false, true); }
VESSEL_INSN(hlv_d) { return h.do_hlv(d, 8, false, false); }
VESSEL_INSN(hsv_b) { return h.do_hsv(d, 1); }
VESSEL_INSN(hsv_h) { return h.do_hsv(d, 2); }
VESSEL_INSN(hsv_w) { return h.do_hsv(d, 4); }
VESSEL_INSN(hsv_d) { return h.do_hsv(d, 8); }

}  // namespace vessel::rv
// clang-format on
