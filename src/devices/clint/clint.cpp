#include "devices/clint/clint.hpp"

#include "base/bits.hpp"
#include "bus/fdt.hpp"

namespace vessel {

namespace {

// Replace the 4- or 8-byte part of `reg` that an access at byte `offset` within it covers.
uint64_t merge(uint64_t reg, uint64_t offset, unsigned size, uint64_t value) {
  if (size == 8) return value;
  const unsigned shift = (offset & 4) != 0 ? 32 : 0;
  return (reg & ~(kLow32 << shift)) | ((value & kLow32) << shift);
}
uint64_t extract(uint64_t reg, uint64_t offset, unsigned size) {
  if (size == 8) return reg;
  return (offset & 4) != 0 ? reg >> 32 : reg & kLow32;
}
}  // namespace

Clint::Clint(MachineClock& clock, std::vector<HartIrq*> harts)
    : clock_(clock), harts_(std::move(harts)) {
  if (harts_.size() > kMaxHarts) harts_.resize(kMaxHarts);
}

HartIrq* Clint::mtimecmp_hart(uint64_t offset) const {
  if (offset < kMtimecmpBase || offset >= kMtime) return nullptr;
  const uint64_t hart = (offset - kMtimecmpBase) / 8;
  return hart < harts_.size() ? harts_[hart] : nullptr;
}

bool Clint::read(uint64_t offset, unsigned size, uint64_t& value) {
  value = 0;
  // As in QEMU's ACLINT: 4-byte accesses to msip, 4 or 8 to the timer registers, aligned.
  if (offset >= kWindowSize || (size != 4 && size != 8) || offset % size != 0) return false;
  if (offset < kMtimecmpBase) {
    if (size != 4) return false;
    const uint64_t hart = offset / 4;
    if (hart < harts_.size() && harts_[hart] != nullptr) {
      value = (harts_[hart]->pending() >> static_cast<unsigned>(InterruptBit::kMSIP)) & 1;
    }
    return true;
  }
  if (offset >= kMtime) {
    value = extract(clock_.mtime(), offset - kMtime, size);
    return true;
  }
  if (HartIrq* h = mtimecmp_hart(offset)) value = extract(h->mtimecmp(), offset, size);
  return true;
}

bool Clint::write(uint64_t offset, unsigned size, uint64_t value) {
  if (offset >= kWindowSize || (size != 4 && size != 8) || offset % size != 0) return false;
  if (offset < kMtimecmpBase) {
    if (size != 4) return false;
    const uint64_t hart = offset / 4;
    if (hart < harts_.size() && harts_[hart] != nullptr) {
      harts_[hart]->set(InterruptBit::kMSIP, (value & 1) != 0);
    }
    return true;
  }
  if (offset >= kMtime) {
    clock_.set_mtime(merge(clock_.mtime(), offset - kMtime, size, value));
    return true;
  }
  if (HartIrq* h = mtimecmp_hart(offset))
    h->set_mtimecmp(merge(h->mtimecmp(), offset, size, value));
  return true;
}

void Clint::add_fdt_node(FdtWriter& fdt, const FdtContext& ctx) const {
  std::vector<uint32_t> ext;
  for (unsigned h = 0; h < ctx.num_harts && ctx.cpu_intc_phandles != nullptr; ++h) {
    const uint32_t intc = ctx.cpu_intc_phandles[h];
    ext.insert(ext.end(), {intc, static_cast<uint32_t>(InterruptBit::kMSIP), intc,
                           static_cast<uint32_t>(InterruptBit::kMTIP)});
  }
  fdt.begin_node(node_name("clint", ctx.base));
  fdt.prop_strings("compatible", {"sifive,clint0", "riscv,clint0"});
  fdt.prop_reg(ctx.base, ctx.size);
  fdt.prop_cells("interrupts-extended", ext);
  fdt.end_node();
}

}  // namespace vessel
