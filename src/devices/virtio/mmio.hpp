// The virtio-mmio transport, version 2 ("modern"; virtio 1.2, "Virtio Over MMIO"), in one of
// the virt board's windows at 0x1000_1000 + n * 0x1000, IRQ 1 + n.
//
// Threads: registers may be accessed from any vCPU thread (serialised by a transport lock that
// is held while calling the device's read_config / write_config / activate / reset, but never
// while calling notify()); DeviceContext's callbacks may be called from any thread and take only
// a leaf lock, so a device may call them while holding its own locks, and its reset() may wait
// for its I/O thread. Details in mmio_impl.hpp.
#pragma once

#include <memory>
#include <mutex>

#include "bus/device.hpp"
#include "devices/irq.hpp"
#include "devices/virtio/device.hpp"

namespace vessel::virtio {

class VirtioMmio final : public MmioDevice {
 public:
  // Register offsets.
  // clang-format off
  enum Reg : uint64_t {
    kMagicValue = 0x000, kVersion = 0x004, kDeviceID = 0x008, kVendorID = 0x00c,
    kDeviceFeatures = 0x010, kDeviceFeaturesSel = 0x014,
    kDriverFeatures = 0x020, kDriverFeaturesSel = 0x024,
    kQueueSel = 0x030, kQueueNumMax = 0x034, kQueueNum = 0x038, kQueueReady = 0x044,
    kQueueNotify = 0x050, kInterruptStatus = 0x060, kInterruptACK = 0x064, kStatus = 0x070,
    kQueueDescLow = 0x080, kQueueDescHigh = 0x084, kQueueDriverLow = 0x090,
    kQueueDriverHigh = 0x094, kQueueDeviceLow = 0x0a0, kQueueDeviceHigh = 0x0a4,
    kConfigGeneration = 0x0fc, kConfig = 0x100,
  };
  // clang-format on
  // Device status bits.
  enum Status : uint32_t {
    kAcknowledge = 1,
    kDriver = 2,
    kDriverOk = 4,
    kFeaturesOk = 8,
    kDeviceNeedsReset = 64,
    kFailed = 128,
  };
  enum InterruptBits : uint32_t { kUsedBuffer = 1, kConfigChange = 2 };
  static constexpr uint32_t kMagic = 0x74726976;   // "virt"
  static constexpr uint32_t kVendor = 0x554d4551;  // "QEMU", as QEMU's devices report
  static constexpr uint64_t kWindowSize = 0x1000;

  VirtioMmio(std::unique_ptr<VirtioDevice> device, const Bus& bus, IrqLine irq);
  ~VirtioMmio() override;

  std::string_view name() const override;
  bool read(uint64_t offset, unsigned size, uint64_t& value) override;
  bool write(uint64_t offset, unsigned size, uint64_t value) override;
  // "virtio_mmio@10001000", compatible "virtio,mmio", reg, interrupts, interrupt-parent.
  void add_fdt_node(FdtWriter& fdt, const FdtContext& ctx) const override;
  void save(StateWriter& out) const override;
  Result<void> restore(StateReader& in) override;

  VirtioDevice& device() { return *device_; }
  uint32_t status() const;

 private:
  // (implementation's choice)
  struct State;
  std::unique_ptr<State> state_;
  std::unique_ptr<VirtioDevice> device_;
};

}  // namespace vessel::virtio
