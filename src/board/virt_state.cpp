// The machine's state for snapshots: the boot ROM, the device tree, the harts, every device on
// the bus in order, and the builtin SBI. Guest RAM is not here: vmm/snapshot writes it to the
// memory file, and a restored machine maps that file (VirtRestore).
#include <fmt/format.h>

#include <future>

#include "board/boot_rom.hpp"
#include "board/virt.hpp"
#include "devices/virtio/net/net.hpp"

namespace vessel {

namespace {
constexpr std::string_view kVirtTag = "virt/1";
// A generated device tree is a few KiB; OpenSBI and Linux add to it in RAM, not here.
constexpr size_t kMaxDtb = 1 << 20;
}  // namespace

void VirtMachine::quiesced(const std::function<void()>& fn) {
  // The I/O thread completes what the devices took, then waits, parked, while `fn` runs on
  // the calling thread: no device touches guest memory meanwhile, and `fn` opens and writes
  // files with the caller's rights (the I/O thread opens nothing by name).
  std::promise<void> parked, release;
  std::shared_future<void> released = release.get_future().share();
  io_->post([this, &parked, released] {
    for (auto& slot : virtio_) slot->device().quiesce();
    parked.set_value();
    released.wait();
  });
  parked.get_future().wait();
  fn();
  release.set_value();
}

void VirtMachine::reset_dirty_pages() {
  dirty_->clear();
  // The harts are held (a paused VM): their TLBs are theirs again once they resume.
  for (auto& h : harts_) h->drop_write_mappings();
  dirty_base_ = true;
}

void VirtMachine::save_state(StateWriter& out) {
  out.begin(kVirtTag);
  // The boot ROM is a few dozen bytes of code and data and zeros to its end: the zeros stay out.
  const uint8_t* rom = rom_.data() + kBootRomBase;
  size_t rom_used = kBootRomSize;
  while (rom_used > 0 && rom[rom_used - 1] == 0) --rom_used;
  out.put_bytes(rom, rom_used);
  out.put_bytes(dtb_.data(), dtb_.size());
  out.put<uint32_t>(static_cast<uint32_t>(harts_.size()));
  for (auto& h : harts_) h->save(out);
  out.put<uint32_t>(static_cast<uint32_t>(bus_.mmio().size()));
  for (const MmioMapping& m : bus_.mmio()) {
    out.put(m.base);
    m.device->save(out);
  }
  out.put<uint8_t>(sbi_ ? 1 : 0);
  if (sbi_) sbi_->save(out);
}

Result<void> VirtMachine::restore_state(StateReader& in) {
  TRY_VOID(in.expect(kVirtTag));
  const auto rom = TRY(in.get_bytes(kBootRomSize));
  dtb_ = TRY(in.get_bytes(kMaxDtb));
  std::memset(rom_.data() + kBootRomBase, 0, kBootRomSize);
  if (!rom.empty()) std::memcpy(rom_.data() + kBootRomBase, rom.data(), rom.size());
  const auto harts = TRY(in.get<uint32_t>());
  if (harts != harts_.size()) {
    return make_error(
        fmt::format("machine state: {} harts saved, the machine has {}", harts, harts_.size()));
  }
  for (auto& h : harts_) TRY_VOID(h->restore(in));
  const auto devices = TRY(in.get<uint32_t>());
  if (devices != bus_.mmio().size()) {
    return make_error(fmt::format("machine state: {} devices saved, the machine has {}", devices,
                                  bus_.mmio().size()));
  }
  // The clock first comes back with the CLINT, in bus order; every device after it sees the
  // guest's time as it was.
  for (const MmioMapping& m : bus_.mmio()) {
    const auto base = TRY(in.get<uint64_t>());
    if (base != m.base) {
      return make_error(
          fmt::format("machine state: a device at {:#x} where the machine has {} "
                      "at {:#x}",
                      base, m.device->name(), m.base));
    }
    TRY_VOID(m.device->restore(in));
  }
  const auto has_sbi = TRY(in.get<uint8_t>());
  if (has_sbi != (sbi_ ? 1 : 0)) {
    return make_error("machine state: saved with another firmware (builtin SBI or not)");
  }
  if (sbi_) TRY_VOID(sbi_->restore(in));
  if (!in.at_end()) return make_error("machine state: trailing bytes");
  return {};
}

namespace {
// The network cards in the order they were added: the configuration's.
std::vector<virtio::VirtioNet*> net_devices(
    std::vector<std::unique_ptr<virtio::VirtioMmio>>& slots) {
  std::vector<virtio::VirtioNet*> out;
  for (auto& slot : slots) {
    if (auto* net = dynamic_cast<virtio::VirtioNet*>(&slot->device())) out.push_back(net);
  }
  return out;
}
}  // namespace

std::vector<std::vector<uint8_t>> VirtMachine::save_net_state() {
  std::vector<std::vector<uint8_t>> out;
  for (virtio::VirtioNet* net : net_devices(virtio_)) out.push_back(net->save_backend_state());
  return out;
}

Result<void> VirtMachine::restore_net_state(const std::vector<std::vector<uint8_t>>& states) {
  const std::vector<virtio::VirtioNet*> nets = net_devices(virtio_);
  if (states.size() != nets.size()) {
    return make_error(fmt::format("network state: {} networks saved, the machine has {}",
                                  states.size(), nets.size()));
  }
  for (size_t i = 0; i < nets.size(); ++i) {
    if (auto ok = nets[i]->load_backend_state(states[i]); !ok) {
      return make_error(fmt::format("network {}: {}", i, ok.error().message));
    }
  }
  return {};
}

}  // namespace vessel
