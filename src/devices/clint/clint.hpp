// SiFive CLINT (core-local interruptor) as on QEMU's virt board: per-hart msip and mtimecmp,
// and the shared mtime.
//
// The CLINT keeps no interrupt state of its own: msip is HartIrq's MSIP bit, mtimecmp lives in
// HartIrq (the hart derives MTIP from mtime >= mtimecmp), and mtime is the MachineClock.
#pragma once

#include <cstdint>
#include <vector>

#include "base/clock.hpp"
#include "bus/device.hpp"
#include "devices/irq.hpp"

namespace vessel {

class Clint final : public MmioDevice {
 public:
  // Offsets within the window.
  enum Reg : uint64_t {
    kMsipBase = 0x0,         // 4 bytes per hart, bit 0 only
    kMtimecmpBase = 0x4000,  // 8 bytes per hart
    kMtime = 0xbff8,         // 8 bytes
    kWindowSize = 0x10000,
  };
  static constexpr unsigned kMaxHarts = 4095;  // msip words that fit below mtimecmp

  Clint(MachineClock& clock, std::vector<HartIrq*> harts);

  std::string_view name() const override { return "clint"; }
  bool read(uint64_t offset, unsigned size, uint64_t& value) override;
  bool write(uint64_t offset, unsigned size, uint64_t value) override;
  void add_fdt_node(FdtWriter& fdt, const FdtContext& ctx) const override;
  void save(StateWriter& out) const override;
  Result<void> restore(StateReader& in) override;

 private:
  // The hart whose 8-byte mtimecmp contains `offset`, or nullptr.
  HartIrq* mtimecmp_hart(uint64_t offset) const;

  MachineClock& clock_;
  std::vector<HartIrq*> harts_;
};

}  // namespace vessel
