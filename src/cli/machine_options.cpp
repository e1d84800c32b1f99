#include "cli/machine_options.hpp"

#include <fmt/format.h>

#include <charconv>

#include "api/firecracker/vm_resources.hpp"
#include "base/files.hpp"
#include "host/block/block_backend.hpp"
#include "host/net/net_option.hpp"

namespace vessel::cli {

namespace {

// What describes the machine: refused beside --config (which describes it whole), and beside
// --restore and --incoming (the snapshot's or the source's machine is the one that runs).
constexpr const char* kMachineOptions[] = {
    "--firmware", "--kernel",         "--initrd", "--append",  "--disk",  "--snapshot",
    "--net",      "--virtio-console", "--no-rng", "--balloon", "--vsock", "--cpu-features"};
// Also refused beside --config, which holds them too.
constexpr const char* kSizeAndEngineOptions[] = {"--memory", "--cpus",      "--engine",
                                                 "--accel",  "--jit-cache", "--jit-threshold"};
constexpr size_t kMaxConfigFile = 1 << 20;

Result<void> apply_cpu_features(std::string_view features, VirtConfig& machine) {
  std::string_view rest = features;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    if (item.size() < 2 || (item[0] != '+' && item[0] != '-')) {
      return make_error(fmt::format("--cpu-features: '{}' is not +NAME or -NAME", item));
    }
    const CpuFeature* feature = find_cpu_feature(item.substr(1));
    if (feature == nullptr) {
      return make_error(fmt::format("--cpu-features: unknown feature '{}' (known: {})",
                                    item.substr(1), cpu_feature_names()));
    }
    set_cpu_feature(machine, *feature, item[0] == '+');
  }
  return {};
}

}  // namespace

MachineOptions::MachineOptions(CLI::App* app, std::string default_memory)
    : app_(app), memory_(std::move(default_memory)) {
  app_->add_option("--config", config_file_,
                   "The machine as a JSON file (the fields of docs/daemon.md's machine "
                   "configuration: memory_mib, cpus, kernel, disks, nets, ...) instead of the "
                   "options that describe it");
  add_boot_options();
  add_device_options();
  add_engine_options();
}

void MachineOptions::add_boot_options() {
  app_->add_option("--firmware,--bios", firmware_,
                   "M-mode firmware (OpenSBI fw_dynamic/fw_jump .bin or .elf); 'builtin' to start "
                   "the kernel in S-mode with Vessel answering its SBI calls (paravirtual); 'none' "
                   "to start --kernel in M-mode")
      ->capture_default_str();
  kernel_option_ =
      app_->add_option("--kernel", kernel_,
                       "Kernel: Linux Image, Image.gz or ELF; with --firmware none, a bare ELF");
  app_->add_option("--initrd", initrd_, "Initial ramdisk, placed high in RAM");
  app_->add_option("--append", append_, "Kernel command line");
  app_->add_option("--memory,-m", memory_, "Guest RAM, e.g. 512M or 2G")->capture_default_str();
  app_->add_option("--cpus,--smp", cpus_, "Number of harts (vCPUs), 1 to 32, each a host thread")
      ->capture_default_str();
}

void MachineOptions::add_device_options() {
  app_->add_option("--disk", disks_,
                   "virtio-blk disk: PATH[,readonly][,overlay=OVERLAY][,format=raw][,snapshot=on] "
                   "(repeatable; the first is /dev/vda; \",,\" in PATH is a comma; an image that "
                   "begins like a qcow2, VMDK, VHD(X), VDI or QED one is refused unless format=raw "
                   "says its bytes are the disk; snapshot=on: writes go to a temporary overlay, "
                   "see --snapshot)")
      ->take_all()
      ->allow_extra_args(false);
  app_->add_flag("--snapshot", snapshot_,
                 "As QEMU's -snapshot: every --disk gets snapshot=on, so the guest's writes go to "
                 "a temporary overlay (in TMPDIR, else /var/tmp) that is gone when the VM ends; "
                 "Ctrl-A s or the monitor's `commit all` writes them back to the image");
  app_->add_option("--net", nets_,
                   "virtio-net: user[,hostfwd=tcp:[HOSTADDR]:HOSTPORT-:GUESTPORT...][,restrict=on]"
                   "[,loopback=off][,mmds=on][,mac=MAC] (libslirp; restrict=on: the guest reaches "
                   "only what is forwarded to it; loopback=off: 10.0.2.2 does not lead to the "
                   "host's 127.0.0.1) or tap=IFNAME[,mac=MAC] (repeatable)")
      ->allow_extra_args(false);
  app_->add_option("--virtio-console", virtio_console_,
                   "virtio-console (hvc0) on a Unix socket Vessel listens on: unix:PATH");
  app_->add_flag("--no-rng", no_rng_, "Leave out the virtio-rng device");
  app_->add_option("--balloon", balloon_,
                   "A virtio memory balloon: [amount=MIB][,deflate-on-oom][,stats=SECONDS] "
                   "(the target at boot, free pages back on guest OOM, statistics interval)");
  app_->add_option("--vsock", vsock_,
                   "A virtio-vsock device: cid=N,uds=PATH (the guest's CID, 3 or more; \",,\" in "
                   "PATH is a comma; host programs connect to PATH and send \"CONNECT <port>\\n\"; "
                   "the guest's connections to host port P go to PATH_P, as Firecracker's)");
}

void MachineOptions::add_engine_options() {
  app_->add_option("--engine", engine_,
                   "What runs the guest's code: jit (blocks translated to host code; needs an "
                   "x86-64 host) or interp (the interpreter)")
      ->capture_default_str();
  app_->add_option("--accel", accel_,
                   "tcg (Vessel's own engines, --engine) or kvm (the host's /dev/kvm runs the "
                   "harts; a RISC-V host, --firmware builtin)")
      ->capture_default_str();
  app_->add_option("--jit-cache", jit_cache_,
                   "Each hart's translated-code arena under --engine jit, 1M to 2G (refilled when "
                   "full)")
      ->capture_default_str();
  app_->add_option("--jit-threshold", jit_threshold_,
                   "Under --engine jit, the run on which a block is translated, 1 to 255 (the "
                   "interpreter runs it until then; 1 translates every block at once)")
      ->capture_default_str();
  app_->add_option("--cpu-features", cpu_features_,
                   "Turn optional hart features on or off: a comma list of +NAME/-NAME (known: " +
                       cpu_feature_names() + "; all on by default)");
}

std::optional<std::string> MachineOptions::given_machine_option() const {
  for (const char* option : kMachineOptions) {
    if (given(option)) return std::string(option);
  }
  return std::nullopt;
}

Result<VmConfig> MachineOptions::from_file() const {
  for (const auto& list : {std::span<const char* const>(kMachineOptions),
                           std::span<const char* const>(kSizeAndEngineOptions)}) {
    for (const char* option : list) {
      if (given(option)) return make_error(fmt::format("{}: not with --config", option));
    }
  }
  auto text = read_small_file(config_file_, kMaxConfigFile);
  if (!text) return make_error(fmt::format("--config {}", text.error().message));
  const nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return make_error(fmt::format("--config {}: not JSON", config_file_));
  // A field left out is the option's default: --firmware builtin, --memory's.
  VmConfig defaults;
  defaults.machine.builtin_sbi = true;
  if (auto size = parse_size(memory_)) defaults.machine.ram_size = *size;
  auto config = vm_config_from_json(j, defaults);
  if (!config)
    return make_error(fmt::format("--config {}: {}", config_file_, config.error().message));
  return config;
}

Result<VmConfig> MachineOptions::config() const {
  if (given("--config")) return from_file();
  VmConfig config;
  VirtConfig& m = config.machine;
  auto size = parse_size(memory_);
  if (!size) return make_error("--memory: " + size.error().message);
  m.ram_size = *size;
  m.num_harts = cpus_;
  TRY_VOID(check_machine_size(m, {"--memory", "--cpus"}));
  if (firmware_ == "builtin") {
    m.builtin_sbi = true;
  } else if (firmware_ != "none") {
    m.firmware = firmware_;
  }
  if (!kernel_.empty()) m.kernel = kernel_;
  if (!initrd_.empty()) m.initrd = initrd_;
  m.bootargs = append_;
  TRY_VOID(apply_devices(m));
  TRY_VOID(apply_cpu_features(cpu_features_, m));
  TRY_VOID(apply_engine(config));
  return config;
}

Result<void> MachineOptions::apply_devices(VirtConfig& m) const {
  for (const std::string& text : disks_) {
    block::DiskSpec disk = TRY(block::parse_disk_option(text));
    if (snapshot_) {
      disk.snapshot = true;
      if (auto ok = block::check_disk_spec(disk); !ok) {
        return make_error(fmt::format("--snapshot: --disk {}: {}", text, ok.error().message));
      }
    }
    m.disks.push_back(std::move(disk));
  }
  for (const std::string& text : nets_) m.nets.push_back(TRY(parse_net_option(text)));
  if (given("--virtio-console")) {
    if (!virtio_console_.starts_with("unix:") || virtio_console_.size() <= 5) {
      return make_error(fmt::format("--virtio-console '{}': expected unix:PATH", virtio_console_));
    }
    m.virtio_console_socket = virtio_console_.substr(5);
  }
  m.rng = !no_rng_;
  if (given("--balloon")) m.balloon = TRY(virtio::parse_balloon_option(balloon_));
  if (given("--vsock")) m.vsock = TRY(virtio::parse_vsock_option(vsock_));
  return {};
}

Result<void> MachineOptions::apply_engine(VmConfig& config) const {
  VirtConfig& m = config.machine;
  m.engine = TRY(api::parse_engine_field("--engine", engine_));
  auto size = parse_size(jit_cache_);
  if (!size) return make_error("--jit-cache: " + size.error().message);
  if (*size < rv::kMinJitCacheBytes || *size > rv::kMaxJitCacheBytes) {
    return make_error(fmt::format("--jit-cache {}: must be between {} and {}", jit_cache_,
                                  format_size(rv::kMinJitCacheBytes),
                                  format_size(rv::kMaxJitCacheBytes)));
  }
  m.jit_cache_bytes = *size;
  unsigned runs = 0;
  const char* const end = jit_threshold_.data() + jit_threshold_.size();
  const auto [at, ec] = std::from_chars(jit_threshold_.data(), end, runs);
  if (jit_threshold_.empty() || ec != std::errc() || at != end || runs < 1 ||
      runs > rv::kMaxJitThreshold) {
    return make_error(fmt::format("--jit-threshold '{}': must be a whole number from 1 to {}",
                                  jit_threshold_, rv::kMaxJitThreshold));
  }
  m.jit_threshold = runs;
  if (accel_ == "kvm") {
    config.accel = Accel::kKvm;
  } else if (accel_ != "tcg") {
    return make_error(fmt::format("--accel: '{}' is not tcg or kvm", accel_));
  }
  return {};
}

}  // namespace vessel::cli
