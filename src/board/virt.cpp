#include "board/virt.hpp"

#include <fmt/format.h>
#include <sys/random.h>

#include <array>
#include <cstring>
#include <utility>

#include "board/boot_rom.hpp"
#include "bus/fdt.hpp"
#include "devices/virtio/blk/blk.hpp"
#include "devices/virtio/console/console.hpp"
#include "devices/virtio/net/net.hpp"
#include "devices/virtio/rng/rng.hpp"
#include "host/block/block_backend.hpp"
#include "host/net/mmds.hpp"

namespace vessel {

namespace {
// Room kept for the device tree: generated trees are a few KiB; OpenSBI and Linux add to it.
constexpr uint64_t kFdtReserve = 64 * 1024;
// Room left inside the device tree's totalsize, as OpenSBI leaves after its own fixups. A loader
// started in S-mode may edit the tree where it lies: U-Boot's booti adds /chosen's bootargs and
// initrd properties to its own copy in place, and with no room (the builtin SBI handed over a
// packed tree) the growth overwrote U-Boot's global data just before it started the kernel.
constexpr size_t kFdtFreeSpace = 8 * 1024;
}  // namespace

std::vector<std::string> isa_extensions(rv::ExtSet extensions, bool sstc, bool sdtrig) {
  // Linux's order (arch/riscv/kernel/cpufeature.c, riscv_isa_ext: the Z extensions, then the
  // S ones), which is also the ISA string's canonical order; `optional` is the Ext that turns
  // the entry off, none for what every configuration has. Linux 6.12 does not know zicbop yet
  // and leaves it out of /proc/cpuinfo (later kernels list it between zicbom and zicboz).
  struct Entry {
    const char* name;
    std::optional<rv::Ext> optional;
  };
  static constexpr Entry kZ[] = {
      {"zicbom", rv::Ext::Zicbom},
      {"zicbop", rv::Ext::Zicbop},
      {"zicboz", rv::Ext::Zicboz},
      {"zicntr", {}},
      {"zicond", rv::Ext::Zicond},
      {"zicsr", {}},
      {"zifencei", {}},
      {"zihintntl", rv::Ext::Zihintntl},
      {"zihintpause", {}},
      {"zihpm", rv::Ext::Zihpm},
      {"zacas", rv::Ext::Zacas},
      {"zfhmin", rv::Ext::Zfhmin},
      {"zca", {}},
      {"zcb", rv::Ext::Zcb},
      {"zcd", {}},
      {"zba", rv::Ext::Zba},
      {"zbb", rv::Ext::Zbb},
      {"zbs", rv::Ext::Zbs},
      {"zkt", rv::Ext::Zkt},
  };
  // After sstc.
  static constexpr Entry kS[] = {
      {"svinval", rv::Ext::Svinval},
      {"svnapot", rv::Ext::Svnapot},
      {"svpbmt", rv::Ext::Svpbmt},
  };
  std::vector<std::string> out;
  for (const Entry& e : kZ) {
    if (!e.optional || (extensions & rv::ext_bit(*e.optional)) != 0) out.emplace_back(e.name);
  }
  if (sdtrig) out.emplace_back("sdtrig");
  if ((extensions & rv::ext_bit(rv::Ext::Sscofpmf)) != 0) out.emplace_back("sscofpmf");
  if (sstc) out.emplace_back("sstc");
  for (const Entry& e : kS) {
    if ((extensions & rv::ext_bit(*e.optional)) != 0) out.emplace_back(e.name);
  }
  return out;
}

std::string isa_string(rv::ExtSet extensions, bool sstc) {
  // Single-letter extensions in canonical order: H last, after C.
  std::string isa = (extensions & rv::ext_bit(rv::Ext::H)) != 0 ? "rv64imafdch" : "rv64imafdc";
  for (const std::string& e : isa_extensions(extensions, sstc, false)) isa += "_" + e;
  return isa;
}

Result<uint64_t> parse_size(const std::string& text) {
  if (text.empty()) return make_error("size is empty");
  size_t pos = 0;
  uint64_t value = 0;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
    const uint64_t digit = static_cast<uint64_t>(text[pos] - '0');
    if (value > (~0ULL - digit) / 10)
      return make_error(fmt::format("size '{}' is too large", text));
    value = value * 10 + digit;
    ++pos;
  }
  if (pos == 0) return make_error(fmt::format("size '{}' does not start with a number", text));
  unsigned shift = 0;
  if (pos < text.size()) {
    switch (text[pos]) {
      case 'k':
      case 'K': shift = 10; break;
      case 'm':
      case 'M': shift = 20; break;
      case 'g':
      case 'G': shift = 30; break;
      case 't':
      case 'T': shift = 40; break;
      default:
        return make_error(fmt::format("size '{}' has an unknown suffix (use K, M, G)", text));
    }
    ++pos;
    if (pos < text.size() && (text[pos] == 'i' || text[pos] == 'B')) ++pos;
    if (pos < text.size() && text[pos] == 'B') ++pos;
    if (pos != text.size())
      return make_error(fmt::format("size '{}' has trailing characters", text));
  }
  if (shift != 0 && value > (~0ULL >> shift))
    return make_error(fmt::format("size '{}' is too large", text));
  return value << shift;
}

Result<std::unique_ptr<VirtMachine>> VirtMachine::create(const VirtConfig& config, VirtHost host,
                                                         const VirtRestore* restore) {
  std::unique_ptr<VirtMachine> m(new VirtMachine());
  TRY_VOID(m->build(config, std::move(host), restore));
  return m;
}

void VirtMachine::warm_up(const VirtConfig& config) {
  for (unsigned i = 0; i < config.num_harts && i < kMaxHarts; ++i)
    rv::Hart::warm_memory(config.engine);
}

Result<void> check_machine_size(const VirtConfig& config, const MachineSizeNames& names) {
  if (config.ram_size < kMinRam) {
    return make_error(fmt::format("{} {} is too small (at least {})", names.memory,
                                  format_size(config.ram_size), format_size(kMinRam)));
  }
  if (config.ram_size > kMaxRam || (config.ram_size & 0xfff) != 0) {
    return make_error(fmt::format("{} {}: must be a multiple of 4K and at most {}", names.memory,
                                  format_size(config.ram_size), format_size(kMaxRam)));
  }
  if (config.num_harts == 0 || config.num_harts > kMaxHarts) {
    return make_error(
        fmt::format("{} {}: must be between 1 and {}", names.cpus, config.num_harts, kMaxHarts));
  }
  if (const uint64_t need = kMinRam + (config.num_harts - 1) * kRamPerHart;
      config.ram_size < need) {
    return make_error(fmt::format("{} {} needs at least {} of {}, not {}", names.cpus,
                                  config.num_harts, format_size(need), names.memory,
                                  format_size(config.ram_size)));
  }
  return {};
}

Result<void> VirtMachine::build(const VirtConfig& config, VirtHost host,
                                const VirtRestore* restore) {
  TRY_VOID(check_machine_size(config));
  if (restore != nullptr) {
    // The guest's RAM is the snapshot's memory file, mapped privately: nothing is read now,
    // and nothing is loaded into it. The boot ROM and the device tree come with the state.
    if (restore->ram != nullptr) {
      if (restore->ram->size() != config.ram_size) return make_error("the received RAM's size");
      ram_ = std::move(*restore->ram);
    } else {
      ram_ =
          TRY(restore->memory_fd >= 0
                  ? MappedMemory::map_fd(restore->memory_fd, restore->memory_file, config.ram_size)
                  : MappedMemory::map_file(restore->memory_file, config.ram_size));
    }
  } else {
    // Plan first: nothing is allocated or loaded for a configuration that cannot boot.
    BootConfig boot;
    boot.ram_base = virt_map::kDram;
    boot.ram_size = config.ram_size;
    boot.firmware = config.firmware;
    boot.kernel = config.kernel;
    boot.initrd = config.initrd;
    boot.fdt_size = kFdtReserve;
    boot.supervisor_payload = config.builtin_sbi;
    plan_ = TRY(plan_boot(boot));
    ram_ = TRY(MappedMemory::allocate(config.ram_size));
  }
  rom_ = TRY(MappedMemory::allocate(kBootRomSize + kBootRomBase));
  TRY_VOID(bus_.add_memory({virt_map::kDram, config.ram_size, ram_.data(), true, "ram"}));
  dirty_ = std::make_unique<DirtyPages>(config.ram_size);
  bus_.track_writes(virt_map::kDram, dirty_.get());
  // The memory file is the base of the first Diff (a migrated guest's RAM is no file).
  dirty_base_ = restore != nullptr && restore->ram == nullptr;

  for (unsigned i = 0; i < config.num_harts; ++i) hart_irqs_.push_back(std::make_unique<HartIrq>());
  std::vector<HartIrq*> irq_ptrs;
  for (auto& p : hart_irqs_) irq_ptrs.push_back(p.get());

  plic_ = std::make_unique<Plic>(irq_ptrs);
  clint_ = std::make_unique<Clint>(clock_, irq_ptrs);
  uart_ = std::make_unique<Uart16550>(IrqLine(plic_.get(), virt_map::kUart0Irq), host.console_out);
  rtc_ = std::make_unique<GoldfishRtc>(IrqLine(plic_.get(), virt_map::kRtcIrq));
  test_ = std::make_unique<SifiveTest>(host.power);

  TRY_VOID(bus_.add_mmio(virt_map::kTest, virt_map::kTestSize, test_.get()));
  TRY_VOID(bus_.add_mmio(virt_map::kRtc, virt_map::kRtcSize, rtc_.get(), virt_map::kRtcIrq));
  TRY_VOID(bus_.add_mmio(virt_map::kClint, virt_map::kClintSize, clint_.get()));
  TRY_VOID(bus_.add_mmio(virt_map::kPlic, virt_map::kPlicSize, plic_.get()));
  TRY_VOID(bus_.add_mmio(virt_map::kUart0, virt_map::kUart0Size, uart_.get(), virt_map::kUart0Irq));

  io_ = std::make_unique<EventLoop>();
  TRY_VOID(io_->start());
  TRY_VOID(add_virtio_devices(config));

  if (restore == nullptr) TRY_VOID(load_images(config, host));
  TRY_VOID(bus_.add_memory({kBootRomBase, kBootRomSize, rom_.data() + kBootRomBase, false, "rom"}));
  TRY_VOID(add_harts(config));
  if (config.builtin_sbi) add_sbi(host, /*boot=*/restore == nullptr);
  return {};
}

Result<void> VirtMachine::load_images(const VirtConfig& config, const VirtHost& host) {
  const LoadedBoot loaded = TRY(load_boot(plan_, bus_));

  uint64_t initrd_start = 0, initrd_end = 0;
  if (loaded.initrd) {
    initrd_start = loaded.initrd->addr;
    initrd_end = loaded.initrd->addr + loaded.initrd->size;
  }
  dtb_ = TRY(make_fdt(config, initrd_start, initrd_end));
  if (dtb_.size() > plan_.fdt_size) {
    return make_error(fmt::format("device tree is {} bytes, more than the {} reserved", dtb_.size(),
                                  plan_.fdt_size));
  }
  if (!bus_.write_phys(plan_.fdt_addr, dtb_.data(), dtb_.size())) {
    return make_error(fmt::format("device tree does not fit in RAM at {:#x}", plan_.fdt_addr));
  }

  // The boot ROM: QEMU's reset vector and the fw_dynamic info block, read-only to the guest.
  FwDynamicInfo info;
  info.next_addr = plan_.next_addr;
  info.next_mode = FwDynamicInfo::kNextModeS;
  info.boot_hart = 0;
  const std::vector<uint8_t> reset = make_reset_vector(plan_.start_addr, plan_.fdt_addr, info);
  if (reset.size() > kBootRomSize) return make_error("reset vector does not fit in the boot ROM");
  std::memcpy(rom_.data() + kBootRomBase, reset.data(), reset.size());

  // Spike's riscv-tests define both symbols; programs with only tohost work too (fromhost 0
  // means no replies).
  if (loaded.tohost) {
    htif_ =
        std::make_unique<Htif>(bus_, *loaded.tohost, loaded.fromhost.value_or(0), host.console_out);
  }
  return {};
}

Result<void> VirtMachine::add_harts(const VirtConfig& config) {
  code_sharing_ = TRY(rv::CodeSharing::create(ram_.data(), config.ram_size));
  for (unsigned i = 0; i < config.num_harts; ++i) {
    code_.push_back(std::make_unique<rv::CodeCache>());
    code_sharing_->add(*code_.back());
    code_.back()->set_pending_listener([irq = hart_irqs_[i].get()] { irq->kick(); });
    harts_.push_back(std::make_unique<rv::Hart>(i, bus_, *hart_irqs_[i], clock_, *code_.back()));
    harts_.back()->reset(kBootRomBase);
    harts_.back()->set_sstc(config.sstc);
    harts_.back()->set_sdtrig(config.sdtrig);
    harts_.back()->set_extensions(config.extensions);
    TRY_VOID(harts_.back()->set_engine(config.engine, config.jit_cache_bytes));
    harts_.back()->set_jit_threshold(config.jit_threshold);
  }
  // Writes from outside the harts (device DMA on the I/O thread, HTIF) reach the code caches
  // through their pending lists: each hart applies them between blocks, on its own thread.
  bus_.set_write_observer(
      [this](uint64_t addr, uint64_t len) { code_sharing_->invalidate_later(addr, len); });
  // A page that becomes code anywhere loses its write mappings everywhere, so that every store
  // into it takes the path that invalidates blocks. The hart that decoded it is on its own
  // thread and drops them at once; the others are asked to.
  for (size_t i = 0; i < harts_.size(); ++i) {
    code_[i]->set_new_code_page_listener([this, i](uint64_t) {
      for (size_t j = 0; j < harts_.size(); ++j) {
        if (j == i) {
          harts_[j]->drop_write_mappings();
        } else {
          harts_[j]->post_request(rv::Hart::kRequestDropWrites);
        }
      }
    });
  }
  return {};
}

void VirtMachine::add_sbi(const VirtHost& host, bool boot) {
  // Paravirtual boot: no firmware; the kernel starts in S-mode and its SBI calls come here.
  sbi::Platform platform;
  for (auto& h : harts_) platform.harts.push_back(h.get());
  platform.console_write = [out = host.console_out](const uint8_t* data, size_t len) {
    for (size_t i = 0; i < len; ++i) out(data[i]);
  };
  platform.system_reset = [power = host.power](bool reboot) {
    power(PowerRequest{reboot ? PowerRequest::kReset : PowerRequest::kPoweroff, 0});
  };
  platform.bus = &bus_;
  sbi_ = std::make_unique<sbi::Sbi>(std::move(platform));
  for (auto& h : harts_) h->set_ecall_handler(sbi_.get());
  if (!boot) return;  // a restore gives the harts and the SBI their saved state
  harts_[0]->boot_supervisor(plan_.start_addr, plan_.fdt_addr);
  // The other harts wait for the kernel to start them through HSM.
  for (size_t i = 1; i < harts_.size(); ++i) harts_[i]->set_stopped();
  sbi_->set_started_harts(1);
}

Result<void> VirtMachine::add_virtio(std::unique_ptr<virtio::VirtioDevice> device) {
  const unsigned slot = static_cast<unsigned>(virtio_.size());
  if (slot >= virt_map::kVirtioCount) {
    return make_error(fmt::format("too many virtio devices: the virt board has {} slots",
                                  virt_map::kVirtioCount));
  }
  const unsigned irq = virt_map::kVirtioIrqBase + slot;
  auto mmio =
      std::make_unique<virtio::VirtioMmio>(std::move(device), bus_, IrqLine(plic_.get(), irq));
  TRY_VOID(bus_.add_mmio(virt_map::kVirtio + slot * virt_map::kVirtioSize, virt_map::kVirtioSize,
                         mmio.get(), irq));
  virtio_.push_back(std::move(mmio));
  return {};
}

namespace {

// "disk 1 (/images/a.img): not writable ...": which device, then the problem (its text without
// the path, when it begins with it, so that the path is said once).
Error device_error(std::string_view kind, size_t index, const std::string& name,
                   const Error& error) {
  std::string_view why = error.message;
  if (!name.empty() && why.starts_with(name + ": ")) why.remove_prefix(name.size() + 2);
  return Error{fmt::format("{} {} ({}): {}", kind, index, name, why)};
}

std::string net_name(const NetSpec& spec) {
  return spec.kind == NetSpec::Kind::kTap ? "tap " + spec.ifname : "user";
}

}  // namespace

Result<void> VirtMachine::add_virtio_devices(const VirtConfig& config) {
  // Everything is checked before anything is opened, and disks (which may create an overlay
  // file) are opened last: a bad setting anywhere leaves no file created or modified.
  for (size_t i = 0; i < config.disks.size(); ++i) {
    if (auto ok = block::check_disk_spec(config.disks[i]); !ok) {
      return device_error("disk", i, config.disks[i].path, ok.error());
    }
  }
  for (size_t i = 0; i < config.nets.size(); ++i) {
    if (auto ok = check_net_spec(config.nets[i]); !ok) {
      return device_error("net", i, net_name(config.nets[i]), ok.error());
    }
  }
  if (config.virtio_console_socket && config.virtio_console_socket->empty()) {
    return make_error("virtio-console: the socket path is empty");
  }
  if (config.disks.size() + config.nets.size() + (config.virtio_console_socket ? 1 : 0) +
          (config.rng ? 1 : 0) + (config.balloon ? 1 : 0) + (config.vsock ? 1 : 0) >
      virt_map::kVirtioCount) {
    return make_error(fmt::format("too many virtio devices: the virt board has {} slots",
                                  virt_map::kVirtioCount));
  }

  std::vector<std::unique_ptr<NetBackend>> net_backends;
  std::shared_ptr<net::MmdsStore> mmds = config.mmds;
  for (size_t i = 0; i < config.nets.size(); ++i) {
    const NetSpec& spec = config.nets[i];
    if (spec.mmds && !mmds) mmds = std::make_shared<net::MmdsStore>();
    auto backend = open_net_backend(spec, *io_, mmds);
    if (!backend) return device_error("net", i, net_name(spec), backend.error());
    net_backends.push_back(std::move(*backend));
  }
  if (config.virtio_console_socket) {
    auto chardev = SocketChardev::listen(*config.virtio_console_socket, *io_);
    if (!chardev) {
      return make_error(fmt::format("virtio-console ({}): {}", *config.virtio_console_socket,
                                    chardev.error().message));
    }
    hvc_chardev_ = std::move(*chardev);
  }
  std::vector<std::unique_ptr<block::BlockBackend>> disk_backends;
  for (size_t i = 0; i < config.disks.size(); ++i) {
    auto backend = block::open_disk(config.disks[i]);
    if (!backend) return device_error("disk", i, config.disks[i].path, backend.error());
    disk_backends.push_back(std::move(*backend));
  }

  for (size_t i = 0; i < config.disks.size(); ++i) {
    TRY_VOID(add_virtio(std::make_unique<virtio::VirtioBlk>(std::move(disk_backends[i]), *io_,
                                                            config.disks[i].read_only)));
  }
  for (size_t i = 0; i < config.nets.size(); ++i) {
    const MacAddress mac = config.nets[i].mac.value_or(default_mac(static_cast<unsigned>(i)));
    TRY_VOID(
        add_virtio(std::make_unique<virtio::VirtioNet>(std::move(net_backends[i]), *io_, mac)));
  }
  if (hvc_chardev_) {
    SocketChardev* chardev = hvc_chardev_.get();
    auto console = std::make_unique<virtio::VirtioConsole>(
        *io_, [chardev](const uint8_t* data, size_t len) { chardev->write(data, len); });
    virtio::VirtioConsole* raw = console.get();
    chardev->set_input([raw](const uint8_t* data, size_t len) { raw->push_input(data, len); });
    TRY_VOID(add_virtio(std::move(console)));
  }
  if (config.rng) {
    TRY_VOID(add_virtio(std::make_unique<virtio::VirtioRng>(*io_, config.rng_rate_limiter)));
  }
  if (config.balloon) {
    const virtio::BalloonConfig& b = *config.balloon;
    auto balloon = std::make_unique<virtio::VirtioBalloon>(
        *io_,
        virtio::VirtioBalloon::Options{b.deflate_on_oom, std::chrono::seconds(b.stats_interval_s)});
    balloon->set_target_pages(static_cast<uint32_t>(
        std::min<uint64_t>(uint64_t{b.amount_mib} << 8, config.ram_size >> 12)));
    balloon_ = balloon.get();
    TRY_VOID(add_virtio(std::move(balloon)));
  }
  if (config.vsock) {
    auto vsock = TRY(virtio::VirtioVsock::create(*io_, *config.vsock));
    TRY_VOID(add_virtio(std::move(vsock)));
  }
  return {};
}

VirtMachine::IoCounters& VirtMachine::IoCounters::operator+=(const IoCounters& o) {
  disk_read_bytes += o.disk_read_bytes;
  disk_written_bytes += o.disk_written_bytes;
  net_rx_bytes += o.net_rx_bytes;
  disk_reads += o.disk_reads;
  disk_writes += o.disk_writes;
  disk_flushes += o.disk_flushes;
  net_rx_frames += o.net_rx_frames;
  net_tx_frames += o.net_tx_frames;
  uart_bytes_out += o.uart_bytes_out;
  uart_bytes_in += o.uart_bytes_in;
  net_tx_bytes += o.net_tx_bytes;
  return *this;
}

VirtMachine::IoCounters VirtMachine::io_counters() {
  IoCounters c;
  for (auto& slot : virtio_) {
    if (auto* blk = dynamic_cast<virtio::VirtioBlk*>(&slot->device())) {
      const virtio::BlkStats s = blk->stats();
      c.disk_read_bytes += s.read_bytes;
      c.disk_reads += s.reads;
      c.disk_writes += s.writes;
      c.disk_flushes += s.flushes;
      c.disk_written_bytes += s.write_bytes;
    } else if (auto* net = dynamic_cast<virtio::VirtioNet*>(&slot->device())) {
      const virtio::VirtioNet::Stats s = net->stats();
      c.net_rx_bytes += s.rx_bytes;
      c.net_rx_frames += s.rx_frames;
      c.net_tx_frames += s.tx_frames;
      c.net_tx_bytes += s.tx_bytes;
    }
  }
  c.uart_bytes_out = uart_->bytes_written();
  c.uart_bytes_in = uart_->bytes_read();
  return c;
}

std::string VirtMachine::commit_disks() {
  std::string out;
  for (auto& slot : virtio_) {
    auto* blk = dynamic_cast<virtio::VirtioBlk*>(&slot->device());
    if (blk == nullptr || !blk->snapshot()) continue;
    const Result<uint64_t> done = blk->commit();
    out += done ? fmt::format("{}: {} written back\n", blk->describe(), format_size(*done))
                : fmt::format("{}\n", done.error().message);
  }
  if (out.empty()) return "no snapshot=on disk to write back";
  out.pop_back();
  return out;
}

std::optional<int> VirtMachine::poll() {
  std::unique_lock<std::mutex> lock(poll_mu_, std::try_to_lock);
  if (!lock.owns_lock()) return std::nullopt;  // another thread is polling right now
  rtc_->poll();
  if (htif_) return htif_->poll();
  return std::nullopt;
}

void VirtMachine::kick_all() {
  for (auto& irq : hart_irqs_) irq->kick();
}

uint64_t VirtMachine::instructions_retired() const {
  uint64_t n = 0;
  for (const auto& h : harts_) n += h->instret;
  return n;
}

Result<std::vector<uint8_t>> VirtMachine::make_fdt(const VirtConfig& config, uint64_t initrd_start,
                                                   uint64_t initrd_end) const {
  FdtWriter fdt;
  fdt.begin_node("");
  fdt.prop_u32("#address-cells", 2);
  fdt.prop_u32("#size-cells", 2);
  fdt.prop_string("compatible", "riscv-virtio");
  fdt.prop_string("model", "riscv-virtio,qemu");

  fdt.begin_node("chosen");
  if (!config.bootargs.empty()) fdt.prop_string("bootargs", config.bootargs);
  fdt.prop_string("stdout-path", node_name("/soc/serial", virt_map::kUart0));
  if (initrd_end > initrd_start) {
    fdt.prop_u64("linux,initrd-start", initrd_start);
    fdt.prop_u64("linux,initrd-end", initrd_end);
  }
  std::array<uint8_t, 32> seed{};
  if (getrandom(seed.data(), seed.size(), 0) == static_cast<ssize_t>(seed.size())) {
    fdt.prop_bytes("rng-seed", seed.data(), seed.size());
  }
  fdt.end_node();

  fdt.begin_node(node_name("memory", virt_map::kDram));
  fdt.prop_string("device_type", "memory");
  fdt.prop_reg(virt_map::kDram, config.ram_size);
  fdt.end_node();

  std::vector<uint32_t> intc(config.num_harts);
  for (auto& p : intc) p = fdt.alloc_phandle();
  const uint32_t plic_phandle = fdt.alloc_phandle();

  fdt.begin_node("cpus");
  fdt.prop_u32("#address-cells", 1);
  fdt.prop_u32("#size-cells", 0);
  fdt.prop_u32("timebase-frequency", static_cast<uint32_t>(MachineClock::kFrequencyHz));
  for (unsigned i = 0; i < config.num_harts; ++i) {
    fdt.begin_node(node_name("cpu", i));
    fdt.prop_string("device_type", "cpu");
    fdt.prop_u32("reg", i);
    fdt.prop_string("status", "okay");
    fdt.prop_string("compatible", "riscv");
    fdt.prop_string("riscv,isa", isa_string(config.extensions, config.sstc));
    fdt.prop_string("riscv,isa-base", "rv64i");
    std::string extensions;
    for (const char* e : {"i", "m", "a", "f", "d", "c"}) extensions.append(e).push_back('\0');
    if (config.extensions & rv::ext_bit(rv::Ext::H)) extensions.append("h").push_back('\0');
    for (const std::string& e : isa_extensions(config.extensions, config.sstc, config.sdtrig)) {
      extensions.append(e).push_back('\0');
    }
    fdt.prop_bytes("riscv,isa-extensions", extensions.data(), extensions.size());
    fdt.prop_string("mmu-type", "riscv,sv48");
    // Linux turns Zicbom and Zicboz off without their block sizes.
    for (const auto& [ext, prop] : {std::pair{rv::Ext::Zicbom, "riscv,cbom-block-size"},
                                    std::pair{rv::Ext::Zicbop, "riscv,cbop-block-size"},
                                    std::pair{rv::Ext::Zicboz, "riscv,cboz-block-size"}}) {
      if (config.extensions & rv::ext_bit(ext)) {
        fdt.prop_u32(prop, static_cast<uint32_t>(rv::kCacheBlockSize));
      }
    }
    fdt.begin_node("interrupt-controller");
    fdt.prop_u32("#address-cells", 0);
    fdt.prop_u32("#interrupt-cells", 1);
    fdt.prop_empty("interrupt-controller");
    fdt.prop_string("compatible", "riscv,cpu-intc");
    fdt.prop_u32("phandle", intc[i]);
    fdt.end_node();
    fdt.end_node();
  }
  fdt.end_node();

  // Which counters count which SBI PMU event (as QEMU's virt says it): OpenSBI hands out the
  // programmable ones only for the events named here. Cycles on mcycle or mhpmcounter3..,
  // instructions on minstret or mhpmcounter3..; the selectors are the event numbers.
  if (config.extensions & rv::ext_bit(rv::Ext::Zihpm)) {
    const uint32_t hpm = ((1U << rv::Hpm::kCount) - 1) << rv::Hpm::kFirst;
    fdt.begin_node("pmu");
    fdt.prop_string("compatible", "riscv,pmu");
    fdt.prop_cells("riscv,event-to-mhpmcounters", {1, 1, hpm | 1U, 2, 2, hpm | 4U});
    fdt.end_node();
  }

  std::vector<FdtContext> contexts;
  for (const MmioMapping& m : bus_.mmio()) {
    FdtContext ctx;
    ctx.base = m.base;
    ctx.size = m.size;
    ctx.irq = m.irq;
    ctx.plic_phandle = plic_phandle;
    ctx.cpu_intc_phandles = intc.data();
    ctx.num_harts = config.num_harts;
    ctx.phandle = m.device == plic_.get() ? plic_phandle : fdt.alloc_phandle();
    contexts.push_back(ctx);
  }
  fdt.begin_node("soc");
  fdt.prop_u32("#address-cells", 2);
  fdt.prop_u32("#size-cells", 2);
  fdt.prop_string("compatible", "simple-bus");
  fdt.prop_empty("ranges");
  for (size_t i = 0; i < contexts.size(); ++i)
    bus_.mmio()[i].device->add_fdt_node(fdt, contexts[i]);
  fdt.end_node();
  for (size_t i = 0; i < contexts.size(); ++i) {
    bus_.mmio()[i].device->add_root_fdt_nodes(fdt, contexts[i]);
  }

  fdt.end_node();
  return fdt.finish(kFdtFreeSpace);
}

}  // namespace vessel
