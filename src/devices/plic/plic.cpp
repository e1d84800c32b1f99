#include "devices/plic/plic.hpp"

#include <utility>

#include "bus/fdt.hpp"

namespace vessel {

Plic::Plic(std::vector<HartIrq*> harts) : harts_(std::move(harts)) {
  if (harts_.size() * 2 > kMaxContexts) harts_.resize(kMaxContexts / 2);
  contexts_.resize(harts_.size() * 2);
}

unsigned Plic::best_source(const Context& c) const {
  unsigned best = 0;
  uint32_t best_priority = c.threshold;
  for (unsigned w = 0; w < kWords; ++w) {
    uint32_t candidates = pending_[w] & c.enable[w];
    while (candidates != 0) {
      const unsigned id = w * 32 + static_cast<unsigned>(__builtin_ctz(candidates));
      candidates &= candidates - 1;
      // Strictly greater: equal priority keeps the lower id found first, and the threshold
      // masks priorities equal to it.
      if (priority_[id] > best_priority) {
        best = id;
        best_priority = priority_[id];
      }
    }
  }
  return best;
}

uint32_t Plic::claim(Context& c) {
  const unsigned id = best_source(c);
  if (id != 0) {
    assign(pending_, id, false);
    assign(in_service_, id, true);
    update_outputs();
  }
  return id;
}

void Plic::complete(Context& c, uint32_t id) {
  // The spec ignores completions for sources not enabled for this context (Linux relies on
  // this: it briefly re-enables a masked source to complete it).
  if (id == 0 || id >= kNumSources || !test(c.enable, id)) return;
  assign(in_service_, id, false);
  if (test(level_, id)) assign(pending_, id, true);
  update_outputs();
}

void Plic::update_outputs(bool force) {
  for (size_t i = 0; i < contexts_.size(); ++i) {
    Context& c = contexts_[i];
    const bool level = best_source(c) != 0;
    if (level == c.output && !force) continue;
    c.output = level;
    HartIrq* hart = harts_[i / 2];
    if (hart != nullptr) hart->set(i % 2 == 0 ? InterruptBit::kMEIP : InterruptBit::kSEIP, level);
  }
}

void Plic::set_irq(unsigned source, bool level) {
  if (source == 0 || source >= kNumSources) return;
  std::lock_guard<std::mutex> lock(mu_);
  // An unchanged level changes nothing (a high line is already pending or in service).
  if (test(level_, source) == level) return;
  assign(level_, source, level);
  if (!level) {
    assign(pending_, source, false);
  } else if (!test(in_service_, source)) {
    assign(pending_, source, true);
  }
  update_outputs();
}

bool Plic::read(uint64_t offset, unsigned size, uint64_t& value) {
  value = 0;
  // The PLIC is a 32-bit device: only aligned word accesses.
  if (size != 4 || offset % 4 != 0 || offset >= kWindowSize) return false;
  std::lock_guard<std::mutex> lock(mu_);
  if (offset < kPendingBase) {
    const uint64_t id = offset / 4;
    if (id < kNumSources) value = priority_[id];
  } else if (offset < kEnableBase) {
    const uint64_t word = (offset - kPendingBase) / 4;
    if (word < kWords) value = pending_[word];
  } else if (offset < kContextBase) {
    const uint64_t ctx = (offset - kEnableBase) / kEnableStride;
    const uint64_t word = (offset - kEnableBase) % kEnableStride / 4;
    if (ctx < contexts_.size() && word < kWords) value = contexts_[ctx].enable[word];
  } else {
    const uint64_t ctx = (offset - kContextBase) / kContextStride;
    const uint64_t reg = (offset - kContextBase) % kContextStride;
    if (ctx < contexts_.size()) {
      if (reg == kThreshold) value = contexts_[ctx].threshold;
      if (reg == kClaimComplete) value = claim(contexts_[ctx]);
    }
  }
  return true;
}

bool Plic::write(uint64_t offset, unsigned size, uint64_t value) {
  if (size != 4 || offset % 4 != 0 || offset >= kWindowSize) return false;
  const auto v = static_cast<uint32_t>(value);
  std::lock_guard<std::mutex> lock(mu_);
  if (offset < kPendingBase) {
    const uint64_t id = offset / 4;
    if (id == 0 || id >= kNumSources) return true;  // source 0 does not exist
    priority_[id] = v & kPriorityMask;
    update_outputs();
  } else if (offset < kEnableBase) {
    return true;  // pending bits are read-only
  } else if (offset < kContextBase) {
    const uint64_t ctx = (offset - kEnableBase) / kEnableStride;
    const uint64_t word = (offset - kEnableBase) % kEnableStride / 4;
    if (ctx >= contexts_.size() || word >= kWords) return true;
    contexts_[ctx].enable[word] = word == 0 ? v & ~1U : v;
    update_outputs();
  } else {
    const uint64_t ctx = (offset - kContextBase) / kContextStride;
    const uint64_t reg = (offset - kContextBase) % kContextStride;
    if (ctx >= contexts_.size()) return true;
    if (reg == kThreshold) {
      contexts_[ctx].threshold = v & kPriorityMask;
      update_outputs();
    } else if (reg == kClaimComplete) {
      complete(contexts_[ctx], v);
    }
  }
  return true;
}

void Plic::add_fdt_node(FdtWriter& fdt, const FdtContext& ctx) const {
  std::vector<uint32_t> ext;
  for (unsigned h = 0; h < ctx.num_harts && ctx.cpu_intc_phandles != nullptr; ++h) {
    const uint32_t intc = ctx.cpu_intc_phandles[h];
    // Order matters: the i-th pair names context i.
    ext.insert(ext.end(), {intc, static_cast<uint32_t>(InterruptBit::kMEIP), intc,
                           static_cast<uint32_t>(InterruptBit::kSEIP)});
  }
  fdt.begin_node(node_name("plic", ctx.base));
  fdt.prop_strings("compatible", {"sifive,plic-1.0.0", "riscv,plic0"});
  fdt.prop_u32("#address-cells", 0);
  fdt.prop_u32("#interrupt-cells", 1);
  fdt.prop_empty("interrupt-controller");
  fdt.prop_u32("riscv,ndev", kNumDevices);
  fdt.prop_reg(ctx.base, ctx.size);
  fdt.prop_cells("interrupts-extended", ext);
  fdt.prop_u32("phandle", ctx.plic_phandle);
  fdt.end_node();
}

}  // namespace vessel
