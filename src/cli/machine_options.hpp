// The options that describe a machine (--memory, --disk, --net, --balloon, ...), declared once
// for every subcommand that takes a machine: `vessel run` boots it, `vessel create` defines it
// for the daemon. They become a typed VmConfig (vmm/config.hpp); the option strings of --disk,
// --net and the others are parsed here, in the command line's face, and their errors name the
// option.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "vmm/config.hpp"

namespace vessel::cli {

class MachineOptions {
 public:
  // Adds the options to `app`; `default_memory` is --memory's default ("512M").
  MachineOptions(CLI::App* app, std::string default_memory);

  // The configuration the options describe: a one-line error naming the option when one is
  // wrong. With --config FILE, the file's (the JSON of vmm/config.hpp) and no other machine
  // option.
  Result<VmConfig> config() const;
  // The first option given that describes the machine itself, not how its code runs (--disk,
  // --kernel, ...: not the engine settings), or nullopt.
  std::optional<std::string> given_machine_option() const;
  bool given(const char* option) const { return app_->count(option) != 0; }
  // The --net options as given (in the order of config().machine.nets).
  const std::vector<std::string>& net_options() const { return nets_; }
  // --kernel, for a subcommand that requires it.
  CLI::Option* kernel_option() const { return kernel_option_; }
  const std::string& memory() const { return memory_; }
  const std::string& config_file() const { return config_file_; }
  unsigned cpus() const { return cpus_; }
  const std::string& firmware() const { return firmware_; }

 private:
  void add_boot_options();
  void add_device_options();
  void add_engine_options();
  Result<void> apply_devices(VirtConfig& machine) const;
  Result<void> apply_engine(VmConfig& config) const;
  Result<VmConfig> from_file() const;

  CLI::App* app_;
  CLI::Option* kernel_option_ = nullptr;
  std::string config_file_;
  // Paravirtual by default, as a hypervisor starts a kernel: Vessel answers the SBI itself.
  std::string firmware_ = "builtin";
  std::string kernel_, initrd_, append_, memory_;
  unsigned cpus_ = 1;
  std::vector<std::string> disks_, nets_;
  bool snapshot_ = false;  // --snapshot
  std::string virtio_console_, balloon_, vsock_;
  bool no_rng_ = false;
  std::string cpu_features_;
  std::string engine_ = rv::engine_name(rv::default_engine());
  std::string accel_ = "tcg";
  std::string jit_cache_ = format_size(rv::kDefaultJitCacheBytes);
  std::string jit_threshold_ = std::to_string(rv::kDefaultJitThreshold);
};

}  // namespace vessel::cli
