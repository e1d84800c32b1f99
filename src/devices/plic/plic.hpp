// SiFive PLIC (platform-level interrupt controller) with QEMU virt's layout: 95 sources,
// two contexts per hart (2h: hart h M-mode -> MEIP, 2h+1: S-mode -> SEIP), 3 priority bits.
//
// Sources are level-triggered: the gateway latches a request while the line is high and
// the source is not being serviced; a line that drops before the claim withdraws it.
// Device threads call set_irq while harts read and write registers, so everything is under mu_.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <vector>

#include "bus/device.hpp"
#include "devices/irq.hpp"

namespace vessel {

class Plic final : public MmioDevice, public InterruptController {
 public:
  static constexpr unsigned kNumSources = 96;               // ids 1..95; id 0 means "no interrupt"
  static constexpr unsigned kNumDevices = kNumSources - 1;  // riscv,ndev
  static constexpr unsigned kWords = kNumSources / 32;
  static constexpr uint32_t kPriorityMask = 0x7;

  enum Reg : uint64_t {
    kPriorityBase = 0x0,    // 4 bytes per source
    kPendingBase = 0x1000,  // 1 bit per source, read-only
    kEnableBase = 0x2000,   // kEnableStride bytes per context
    kEnableStride = 0x80,
    kContextBase = 0x200000,  // kContextStride bytes per context:
    kContextStride = 0x1000,
    kThreshold = 0x0,      //   priority threshold
    kClaimComplete = 0x4,  //   read claims, write completes
    kWindowSize = 0x600000,
  };
  static constexpr unsigned kMaxContexts = (kWindowSize - kContextBase) / kContextStride;

  explicit Plic(std::vector<HartIrq*> harts);

  std::string_view name() const override { return "plic"; }
  bool read(uint64_t offset, unsigned size, uint64_t& value) override;
  bool write(uint64_t offset, unsigned size, uint64_t value) override;
  void add_fdt_node(FdtWriter& fdt, const FdtContext& ctx) const override;
  void save(StateWriter& out) const override;
  Result<void> restore(StateReader& in) override;

  // InterruptController: a device's level-triggered line. Thread-safe.
  void set_irq(unsigned source, bool level) override;

  unsigned num_contexts() const { return static_cast<unsigned>(contexts_.size()); }

 private:
  struct Context {
    std::array<uint32_t, kWords> enable{};
    uint32_t threshold = 0;
    bool output = false;  // last level driven into the hart
  };

  static bool test(const std::array<uint32_t, kWords>& w, unsigned id) {
    return ((w[id / 32] >> (id % 32)) & 1) != 0;
  }
  static void assign(std::array<uint32_t, kWords>& w, unsigned id, bool v) {
    const uint32_t m = 1U << (id % 32);
    w[id / 32] = v ? (w[id / 32] | m) : (w[id / 32] & ~m);
  }

  // Highest-priority pending, enabled source above the context's threshold (ties: lowest id).
  unsigned best_source(const Context& c) const;
  uint32_t claim(Context& c);
  void complete(Context& c, uint32_t id);
  void update_outputs(bool force = false);

  std::vector<HartIrq*> harts_;
  mutable std::mutex mu_;
  std::array<uint32_t, kNumSources> priority_{};
  std::array<uint32_t, kWords> pending_{};
  std::array<uint32_t, kWords> level_{};       // current line levels
  std::array<uint32_t, kWords> in_service_{};  // claimed, not yet completed
  std::vector<Context> contexts_;
};

}  // namespace vessel
