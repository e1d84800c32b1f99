// SiFive test finisher ("sifive,test0"): the guest writes a status word to power off, reset
// or fail with an exit code. Linux reaches it through syscon-poweroff/syscon-reboot, OpenSBI
// through its own sifive_test driver (16-bit writes).
#pragma once

#include <cstdint>
#include <functional>

#include "bus/device.hpp"

namespace vessel {

struct PowerRequest {
  enum Kind { kPoweroff, kReset, kFail } kind;
  uint32_t code;  // exit code for kFail, 0 otherwise
};

class SifiveTest final : public MmioDevice {
 public:
  using Handler = std::function<void(PowerRequest)>;

  enum Reg : uint64_t { kFinisher = 0x0, kWindowSize = 0x1000 };
  // Low 16 bits of the finisher word; a fail also carries the exit code in bits 31:16.
  enum Status : uint32_t { kFail = 0x3333, kPass = 0x5555, kReset = 0x7777 };

  explicit SifiveTest(Handler handler);

  std::string_view name() const override { return "sifive_test"; }
  bool read(uint64_t offset, unsigned size, uint64_t& value) override;
  bool write(uint64_t offset, unsigned size, uint64_t value) override;
  void add_fdt_node(FdtWriter& fdt, const FdtContext& ctx) const override;
  void add_root_fdt_nodes(FdtWriter& fdt, const FdtContext& ctx) const override;
  void save(StateWriter& out) const override;
  Result<void> restore(StateReader& in) override;

 private:
  Handler handler_;
};

}  // namespace vessel
