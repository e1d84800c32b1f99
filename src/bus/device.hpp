// The contract every memory-mapped device keeps.
//
// A device sees only offsets inside its own window; the Bus (bus/bus.hpp) routes guest
// physical addresses to it. It declares its own device-tree node, so adding a device to the
// board touches one place. It can save and restore its state.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/result.hpp"
#include "base/state.hpp"

namespace vessel {

class FdtWriter;

// What a device needs to describe itself in the device tree.
struct FdtContext {
  uint64_t base = 0;                            // guest physical address of the window
  uint64_t size = 0;                            // window length
  unsigned irq = 0;                             // PLIC source number, 0 if none
  uint32_t plic_phandle = 0;                    // interrupt-parent for `interrupts`
  const uint32_t* cpu_intc_phandles = nullptr;  // one per hart (for CLINT/PLIC)
  unsigned num_harts = 0;
  uint32_t phandle = 0;  // this device's own phandle, for nodes that refer to it
};

class MmioDevice {
 public:
  virtual ~MmioDevice() = default;

  virtual std::string_view name() const = 0;

  // size is 1, 2, 4 or 8 and offset + size <= window size (the bus checks). Returning false
  // makes the access fault in the guest (load/store access fault), as real buses do.
  virtual bool read(uint64_t offset, unsigned size, uint64_t& value) = 0;
  virtual bool write(uint64_t offset, unsigned size, uint64_t value) = 0;

  // Emit this device's node(s) (under /soc); FdtContext says where it was mapped.
  virtual void add_fdt_node(FdtWriter& fdt, const FdtContext& ctx) const = 0;
  // Nodes that belong at the root rather than on the bus (e.g. syscon-poweroff, which has no
  // registers of its own). Called after /soc is closed, with the same context.
  virtual void add_root_fdt_nodes(FdtWriter& /*fdt*/, const FdtContext& /*ctx*/) const {}

  virtual void save(StateWriter& out) const = 0;
  virtual Result<void> restore(StateReader& in) = 0;
};

}  // namespace vessel
