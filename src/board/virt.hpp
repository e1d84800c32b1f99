// QEMU's riscv64 `virt` machine, rebuilt from its parts: RAM, boot ROM, CLINT, PLIC, UART,
// RTC, test device and harts on one bus, a device tree generated from the configuration, and
// the images placed the way QEMU places them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.hpp"
#include "base/event_loop.hpp"
#include "base/mapped_memory.hpp"
#include "base/rate_limiter.hpp"
#include "base/result.hpp"
#include "board/htif.hpp"
#include "board/loader.hpp"
#include "bus/bus.hpp"
#include "cpu/riscv/code_cache.hpp"
#include "cpu/riscv/hart.hpp"
#include "devices/clint/clint.hpp"
#include "devices/goldfish_rtc/goldfish_rtc.hpp"
#include "devices/irq.hpp"
#include "devices/plic/plic.hpp"
#include "devices/sifive_test/sifive_test.hpp"
#include "devices/uart16550/uart16550.hpp"
#include "devices/virtio/balloon/balloon.hpp"
#include "devices/virtio/mmio.hpp"
#include "devices/virtio/vsock/vsock.hpp"
#include "host/block/block_backend.hpp"
#include "host/net/net_option.hpp"
#include "host/socket_chardev.hpp"
#include "sbi/sbi.hpp"

namespace vessel::net {
class MmdsStore;
}  // namespace vessel::net

namespace vessel {

// The memory map (hw/riscv/virt.c).
namespace virt_map {
inline constexpr uint64_t kTest = 0x0010'0000, kTestSize = 0x1000;
inline constexpr uint64_t kRtc = 0x0010'1000, kRtcSize = 0x1000;
inline constexpr uint64_t kClint = 0x0200'0000, kClintSize = 0x1'0000;
inline constexpr uint64_t kPlic = 0x0c00'0000, kPlicSize = 0x60'0000;
inline constexpr uint64_t kUart0 = 0x1000'0000, kUart0Size = 0x100;
inline constexpr uint64_t kVirtio = 0x1000'1000, kVirtioSize = 0x1000, kVirtioCount = 8;
inline constexpr uint64_t kDram = 0x8000'0000;
inline constexpr unsigned kUart0Irq = 10, kRtcIrq = 11, kVirtioIrqBase = 1;
}  // namespace virt_map

// The ISA a hart implements and the device tree advertises: nothing more. The multi-letter
// extensions of a configuration (the optional ones only when on), in the order Linux prints
// them, so that /proc/cpuinfo shows the riscv,isa string (less the names the kernel does not
// know). Zca and Zcd are the parts of C that RV64 with D has (all of it).
std::vector<std::string> isa_extensions(rv::ExtSet extensions, bool sstc, bool sdtrig);
// The riscv,isa string: "rv64imafdc" and those, each after an underscore, but Sdtrig: Linux
// (6.12) does not know it and prints /proc/cpuinfo from what it knows, and the deprecated
// string stays what cpuinfo shows. riscv,isa-extensions lists it.
std::string isa_string(rv::ExtSet extensions, bool sstc);

// Harts a machine may have: the CLINT and PLIC of the virt board, and the code-sharing masks,
// allow this many.
inline constexpr unsigned kMaxHarts = 32;
// Guest RAM each hart after the first needs beyond the minimum (per-CPU areas, stacks, run
// queues).
inline constexpr uint64_t kRamPerHart = 2ULL << 20;
// Guest RAM a machine may have.
inline constexpr uint64_t kMinRam = 16ULL << 20;
inline constexpr uint64_t kMaxRam = 64ULL << 30;

struct VirtConfig {
  uint64_t ram_size = 512ULL << 20;
  unsigned num_harts = 1;
  std::optional<std::string> firmware;  // nullopt: --firmware none or builtin
  bool builtin_sbi = false;             // --firmware builtin: Vessel answers the SBI itself
  std::optional<std::string> kernel;
  std::optional<std::string> initrd;
  std::string bootargs;
  bool sstc = true;    // Sstc (stimecmp), advertised in the device tree
  bool sdtrig = true;  // Sdtrig (debug triggers: tselect, tdata1-3, tinfo), advertised too
  // Instruction extensions the harts decode and the device tree advertises: --cpu-features
  // may leave out the optional ones (kOptionalExtensions).
  rv::ExtSet extensions = rv::kAllExtensions;
  rv::Engine engine = rv::default_engine();              // --engine
  uint64_t jit_cache_bytes = rv::kDefaultJitCacheBytes;  // --jit-cache, per hart
  unsigned jit_threshold = rv::kDefaultJitThreshold;     // --jit-threshold
  // Paravirtual devices, each in the next virtio-mmio window (disks first, so the first disk
  // is /dev/vda). Typed: whatever face they came from (the command line's --disk and --net,
  // the API's JSON, a snapshot) parsed and checked them; the board opens them.
  std::vector<block::DiskSpec> disks;
  std::vector<NetSpec> nets;
  std::optional<std::string> virtio_console_socket;  // hvc0 served on this Unix socket
  bool rng = true;                                   // virtio-rng fed from getrandom
  RateLimiterConfig rng_rate_limiter;                // the API's PUT /entropy rate_limiter
  std::optional<virtio::BalloonConfig> balloon;      // --balloon
  // The metadata service's store (--metadata, the API's /mmds), which a --net user,mmds=on
  // serves; an empty one is made when a net asks for it and none was given.
  std::shared_ptr<net::MmdsStore> mmds;
  std::optional<virtio::VsockConfig> vsock;  // --vsock cid=N,uds=PATH
};

// A machine rebuilt from a snapshot (vmm/snapshot) rather than booted: its RAM is the memory
// file, mapped privately; nothing is loaded. restore_state() then gives it the saved state.
struct VirtRestore {
  std::string memory_file;
  int memory_fd = -1;  // the file opened already (by a snapshot's load), else opened by name
  // RAM filled already (a live migration's pages): taken, instead of mapping a file.
  MappedMemory* ram = nullptr;
};

// The memory and hart limits of the board: a one-line error naming the setting ("memory 8M is
// too small (at least 16M)").
struct MachineSizeNames {
  const char* memory = "memory";
  const char* cpus = "cpus";
};
Result<void> check_machine_size(const VirtConfig& config, const MachineSizeNames& names = {});

// What the machine asks of its host side.
struct VirtHost {
  std::function<void(uint8_t)> console_out;  // UART and HTIF console bytes
  std::function<void(PowerRequest)> power;   // the test device / syscon
};

class VirtMachine {
 public:
  // Builds the machine and loads the images; errors are one line for a person.
  static Result<std::unique_ptr<VirtMachine>> create(const VirtConfig& config, VirtHost host,
                                                     const VirtRestore* restore = nullptr);
  // Readies what building a machine like `config` (its harts' large objects) would meet for
  // the first time, for a process that waits for the request that builds one.
  static void warm_up(const VirtConfig& config);

  // Snapshots (virt_state.cpp). Only while no hart runs (a paused VM, or one not started).
  // quiesced() waits for every disk request in flight to complete and flushes the disks, then
  // runs `fn` on the calling thread while the I/O thread waits, so that no device touches
  // guest memory meanwhile.
  void quiesced(const std::function<void()>& fn);
  // The boot ROM, the device tree, every hart, every device in bus order, and the builtin SBI.
  // Call from quiesced().
  void save_state(StateWriter& out);
  // Into a machine made with a VirtRestore from the same configuration, before its harts run.
  // Errors are one line; the machine is then to be thrown away.
  Result<void> restore_state(StateReader& in);
  // The network backends' own state (NetBackend::save_state: libslirp's), one entry per
  // network in the configuration's order. Call from quiesced().
  std::vector<std::vector<uint8_t>> save_net_state();
  // Into a machine made with a VirtRestore, before restore_state(): the backends have their
  // state before the guest's queued frames reach them. Errors name the network.
  Result<void> restore_net_state(const std::vector<std::vector<uint8_t>>& states);
  const MappedMemory& ram() const { return ram_; }
  // Diff snapshots: the RAM pages written since the last snapshot of this machine, or since
  // it was restored (has_dirty_base() false before either: everything is new then).
  const DirtyPages& dirty_pages() const { return *dirty_; }
  DirtyPages& dirty_pages() { return *dirty_; }
  bool has_dirty_base() const { return dirty_base_; }
  // Call from quiesced(), with the memory saved: the log starts again, and every hart drops
  // its write mappings, so that its next store to any page logs that page.
  void reset_dirty_pages();
  // A snapshot failed after the reset: the next Diff has no base to be a diff of.
  void forget_dirty_base() { dirty_base_ = false; }

  const std::vector<uint8_t>& dtb() const { return dtb_; }
  Bus& bus() { return bus_; }
  Uart16550& uart() { return *uart_; }
  std::vector<std::unique_ptr<rv::Hart>>& harts() { return harts_; }
  MachineClock& clock() { return clock_; }
  const BootPlan& boot_plan() const { return plan_; }
  // Devices that need time to pass (RTC alarm) and HTIF: called from any hart's run loop and
  // the VM's supervising thread; one caller at a time does the work, the others return.
  // Returns an exit code when HTIF reports one.
  std::optional<int> poll();
  // Wake every hart (to see a stop request, say).
  void kick_all();
  uint64_t instructions_retired() const;
  const sbi::Sbi* sbi() const { return sbi_.get(); }
  sbi::Sbi* sbi() { return sbi_.get(); }
  // What the CLINT and PLIC assert for hart `i` (i < harts().size()).
  HartIrq& hart_irq(size_t i) { return *hart_irqs_.at(i); }
  // The memory balloon (--balloon), or nullptr.
  virtio::VirtioBalloon* balloon() { return balloon_; }
  size_t guest_ram_resident() const { return ram_.resident_bytes(); }
  uint64_t ram_bytes() const { return ram_.size(); }
  // Bytes and requests through the paravirtual disks and network devices, summed over each
  // kind, and the console UART's bytes.
  struct IoCounters {
    uint64_t disk_read_bytes = 0, disk_written_bytes = 0, net_rx_bytes = 0, net_tx_bytes = 0;
    uint64_t disk_reads = 0, disk_writes = 0, disk_flushes = 0;
    uint64_t net_rx_frames = 0, net_tx_frames = 0;
    uint64_t uart_bytes_out = 0, uart_bytes_in = 0;
    IoCounters& operator+=(const IoCounters& o);
  };
  IoCounters io_counters();
  // Writes every --snapshot disk back into its image (Ctrl-A s, the monitor's `commit all`):
  // one line per such disk, or a line saying there are none.
  std::string commit_disks();

 private:
  VirtMachine() = default;
  Result<void> build(const VirtConfig& config, VirtHost host, const VirtRestore* restore);
  // Boot images, device tree, boot ROM and HTIF, for a machine that boots.
  Result<void> load_images(const VirtConfig& config, const VirtHost& host);
  Result<void> add_harts(const VirtConfig& config);
  void add_sbi(const VirtHost& host, bool boot);
  Result<std::vector<uint8_t>> make_fdt(const VirtConfig& config, uint64_t initrd_start,
                                        uint64_t initrd_end) const;

  Result<void> add_virtio_devices(const VirtConfig& config);
  Result<void> add_virtio(std::unique_ptr<virtio::VirtioDevice> device);

  // The I/O thread outlives the devices that post work to it (members die in reverse order).
  std::unique_ptr<EventLoop> io_;
  MachineClock clock_;
  MappedMemory ram_;
  std::unique_ptr<DirtyPages> dirty_;
  bool dirty_base_ = false;
  MappedMemory rom_;
  Bus bus_;
  // One code cache per hart, and what they share (which pages hold code anywhere).
  std::unique_ptr<rv::CodeSharing> code_sharing_;
  std::vector<std::unique_ptr<rv::CodeCache>> code_;
  std::mutex poll_mu_;
  std::vector<std::unique_ptr<HartIrq>> hart_irqs_;
  std::unique_ptr<Plic> plic_;
  std::unique_ptr<Clint> clint_;
  std::unique_ptr<Uart16550> uart_;
  std::unique_ptr<GoldfishRtc> rtc_;
  std::unique_ptr<SifiveTest> test_;
  std::unique_ptr<Htif> htif_;
  std::unique_ptr<sbi::Sbi> sbi_;
  std::vector<std::unique_ptr<virtio::VirtioMmio>> virtio_;
  virtio::VirtioBalloon* balloon_ = nullptr;  // owned by its transport in virtio_
  // After virtio_: it dies first, so its input never reaches a destroyed console.
  std::unique_ptr<SocketChardev> hvc_chardev_;
  std::vector<std::unique_ptr<rv::Hart>> harts_;
  BootPlan plan_;
  std::vector<uint8_t> dtb_;
};

// "512M", "2G", "1048576": bytes, or a one-line error naming the problem.
Result<uint64_t> parse_size(const std::string& text);

}  // namespace vessel
