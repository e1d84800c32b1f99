// VirtioMmio's state, shared by mmio.cpp (registers) and mmio_state.cpp (save/restore).
//
// Locking rule. Two mutexes, always taken in the order reg_mu -> (device's own locks) -> irq_mu:
// - reg_mu serialises register accesses from vCPU threads and guards the registers and the
//   queue configuration. It is held while calling the device's read_config, write_config,
//   activate and reset (so a reset cannot race a config access or another reset), but never
//   while calling notify(): notify runs on the vCPU's hot path and devices may take their own
//   locks there in any order.
// - irq_mu guards what the device's I/O thread touches through DeviceContext (interrupt status,
//   config generation, DEVICE_NEEDS_RESET, and the queues while deciding on an interrupt). It is
//   a leaf: nothing is called with it held except the IrqLine (the PLIC's own leaf lock).
// The I/O thread never takes reg_mu, so a device's reset() may wait for its I/O thread while
// the vCPU holds reg_mu.
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "devices/virtio/mmio.hpp"

namespace vessel::virtio {

struct VirtioMmio::State {
  State(VirtioDevice& dev, const Bus& bus, IrqLine line);

  // The features the transport offers: the device's plus the transport's own.
  uint64_t offered_features() const;
  uint64_t negotiated() const { return driver_features & offered_features(); }
  DeviceContext context();
  // Status 0: device reset, queues and registers cleared (reg_mu held).
  void reset_locked();
  // A Status register write other than 0: feature check, DRIVER_OK activation (reg_mu held).
  void write_status(uint32_t value);
  // DEVICE_NEEDS_RESET plus a configuration-change interrupt. Any thread; takes irq_mu.
  void set_needs_reset(std::string_view why);
  void raise(uint32_t bits);  // irq_mu held

  VirtioDevice& device;
  GuestMemory mem;
  IrqLine irq;
  std::string name;
  unsigned num_queues;

  mutable std::mutex reg_mu;
  uint32_t status = 0;  // without DEVICE_NEEDS_RESET, which lives under irq_mu
  uint32_t device_features_sel = 0;
  uint32_t driver_features_sel = 0;
  uint32_t queue_sel = 0;
  uint64_t driver_features = 0;
  bool activated = false;                  // device->activate() succeeded since the last reset
  std::vector<Virtqueue::Config> pending;  // what the driver wrote, per queue
  std::vector<Virtqueue> queues;

  mutable std::mutex irq_mu;
  uint32_t interrupt_status = 0;
  uint32_t config_generation = 0;
  bool needs_reset = false;
  bool live = false;  // the device may signal: between activate and reset
};

}  // namespace vessel::virtio
