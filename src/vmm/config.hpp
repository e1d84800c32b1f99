// The machine a VM runs, typed, and its JSON form: what the command line (`vessel run`,
// `vessel create`), the daemon's definitions and REST API, and snapshots all read and write.
//
// The shape (docs/architecture.md): board/'s VirtConfig is the machine the board builds, its
// devices already typed (block::DiskSpec, NetSpec, ...); board/ never parses an option string.
// VmConfig adds what vmm/ decides beyond the board (the accelerator). The faces turn their own
// forms into these: the command line's option strings (cli/machine_options.cpp, whose errors
// name --disk and --net), the API's JSON (api/firecracker), this JSON (the daemon, snapshots),
// each refusing what is wrong with a one-line error naming its own field.
#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "board/virt.hpp"

namespace vessel {

// What runs the harts: Vessel's own engines (--engine: interpreter or translator), or the
// host's KVM (src/accel/kvm).
enum class Accel { kTcg, kKvm };
const char* accel_name(Accel accel);

struct VmConfig {
  VirtConfig machine;
  Accel accel = Accel::kTcg;
};

// The optional hart features --cpu-features and the JSON's "cpu_features" turn on and off,
// under the ISA's names as riscv,isa spells them.
struct CpuFeature {
  const char* name;
  rv::ExtSet extension;              // an instruction extension, or 0 for one of the others:
  bool VirtConfig::*flag = nullptr;  // Sdtrig and Sstc, which add CSRs
};
std::span<const CpuFeature> cpu_features();
// "h, sdtrig, ...": for help texts and errors.
std::string cpu_feature_names();
bool cpu_feature_on(const VirtConfig& config, const CpuFeature& feature);
void set_cpu_feature(VirtConfig& config, const CpuFeature& feature, bool on);
// The feature of that name, or nullptr.
const CpuFeature* find_cpu_feature(std::string_view name);

// The machine as JSON: every setting under its own field (docs/daemon.md, "machine fields").
// Files are named, not read: "kernel", "initrd", "firmware" ("builtin", "none" or a file),
// "disks" [{"path", "readonly", "overlay", "format": "raw", "snapshot", "timeout_s"}], "nets"
// [{"type": "user", "hostfwd": [RULE], "restrict", "loopback", "mmds", "mac"} or {"type":
// "tap", "ifname", "mac"}], "virtio_console" (a socket path), "rng", "rng_rate_limiter",
// "balloon", "vsock", "engine", "jit_cache_bytes", "jit_threshold", "cpu_features" {NAME:
// bool}, "memory_mib" (or "memory_bytes" when not whole MiB) and "cpus". The metadata store
// (--metadata) is data, not configuration: it is not part of it.
nlohmann::json machine_to_json(const VirtConfig& config);
// The machine from `json`, on top of `defaults` (a field left out keeps its value there):
// every field typed and bounded, unknown ones refused by name, the machine's limits (memory,
// harts, virtio slots) checked; one-line errors naming the field ("disks[1].overlay: ...").
Result<VirtConfig> machine_from_json(const nlohmann::json& json, const VirtConfig& defaults = {});
// The fields above and "accel" ("tcg" or "kvm").
nlohmann::json to_json(const VmConfig& config);
Result<VmConfig> vm_config_from_json(const nlohmann::json& json, const VmConfig& defaults = {});

// The JSON of one disk and one network, as "disks" and "nets" hold them.
nlohmann::json disk_to_json(const block::DiskSpec& disk);
nlohmann::json net_to_json(const NetSpec& net);
// `where` names the element in errors ("disks[0]").
Result<block::DiskSpec> disk_from_json(const nlohmann::json& json, const std::string& where);
Result<NetSpec> net_from_json(const nlohmann::json& json, const std::string& where);

}  // namespace vessel
