// The pre-boot configuration the per-VM API collects (Firecracker's "VM resources"): machine
// config, boot source, drives and network interfaces, each PUT validated whole before it
// replaces anything, and turned into a VirtConfig at InstanceStart.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/firecracker/host_files.hpp"
#include "base/result.hpp"
#include "board/virt.hpp"
#include "cpu/riscv/engine.hpp"
#include "host/net/mmds.hpp"
#include "host/net/net_backend.hpp"
#include "host/net/net_option.hpp"

namespace vessel::api {

// Vessel's limits on what the API accepts.
inline constexpr int64_t kMaxVcpus = 32;  // Firecracker's range; the board may allow fewer
inline constexpr int64_t kMinMemMib = 16, kMaxMemMib = 64 * 1024;
inline constexpr size_t kMaxCommandLine = 1024;  // Linux's COMMAND_LINE_SIZE on riscv, with NUL
inline constexpr size_t kMaxPath = 4096;         // PATH_MAX

struct BootSource {
  std::string kernel_image_path;
  std::optional<std::string> initrd_path;
  std::optional<std::string> boot_args;
  std::optional<std::string> firmware;  // vessel_firmware: "builtin", "none" or a file
  bool from_api = true;                 // false: `vessel run --kernel`'s, which is trusted
};

struct Drive {
  std::string drive_id;
  std::string path_on_host;
  bool is_root_device = false;
  bool is_read_only = false;
};

struct NetworkInterface {
  std::string iface_id;
  std::optional<std::string> host_dev_name;  // tap; unset for user-mode networking
  std::optional<std::string> guest_mac;
  std::vector<std::string> hostfwd;  // vessel_user_net.hostfwd
  std::optional<bool> restricted;    // vessel_user_net.restrict
  std::optional<bool> loopback;      // vessel_user_net.loopback
  NetSpec spec;                      // what the machine gets (but mmds, set at the start)
  nlohmann::json to_json() const;
};

// PUT /mmds/config: which of the API's network interfaces serve the metadata service, and how.
struct MmdsConfig {
  net::MmdsVersion version = net::MmdsVersion::kV1;  // Firecracker's default
  std::vector<std::string> network_interfaces;
  uint32_t ipv4_address = net::kMmdsAddress;
  bool imds_compat = false;
  nlohmann::json to_json() const;
};

class VmResources {
 public:
  // `base` supplies what the API does not set (firmware, RAM and harts until machine-config is
  // PUT, rng, console; the boot source if it names a kernel); its disks and nets come after the
  // API's. The files a request names must pass `files`, when it is PUT and again at the start.
  explicit VmResources(VirtConfig base, HostFilePolicy files = {});

  // Each takes the request body; on error nothing changes.
  Result<void> put_machine_config(const std::optional<nlohmann::json>& body);
  Result<void> patch_machine_config(const std::optional<nlohmann::json>& body);
  Result<void> put_boot_source(const std::optional<nlohmann::json>& body);
  Result<void> put_drive(const std::string& drive_id, const std::optional<nlohmann::json>& body);
  Result<void> put_network_interface(const std::string& iface_id,
                                     const std::optional<nlohmann::json>& body);
  // PUT /balloon: amount_mib (at most the memory size), deflate_on_oom,
  // stats_polling_interval_s.
  Result<void> put_balloon(const std::optional<nlohmann::json>& body);
  // PUT /vsock: guest_cid (3 or more) and uds_path (a socket Vessel creates); vsock_id, which
  // Firecracker no longer needs, is accepted and ignored.
  Result<void> put_vsock(const std::optional<nlohmann::json>& body);
  // PUT /entropy: the virtio-rng device (Vessel's machine has one unless --no-rng), with
  // Firecracker's rate_limiter (bandwidth in bytes, ops in requests).
  Result<void> put_entropy(const std::optional<nlohmann::json>& body);

  // PUT /mmds/config: version (V1 or V2), network_interfaces (iface_ids already PUT, user-mode
  // ones: only those reach Vessel's metadata service), ipv4_address (link-local), imds_compat.
  // It sets the store's version, address and format at once.
  Result<void> put_mmds_config(const std::optional<nlohmann::json>& body);
  // The metadata store (`vessel run --metadata`'s, or an empty one): PUT, PATCH and GET /mmds
  // reach it before and after the start, and the guest sees each change at once.
  net::MmdsStore& mmds() const { return *mmds_; }

  // The balloon as PUT (or as --balloon gave it), or nullopt.
  const std::optional<virtio::BalloonConfig>& balloon() const { return balloon_; }
  // After a started VM's balloon took a new target (PATCH /balloon): GET /balloon shows it.
  void set_balloon_amount(uint32_t mib) {
    if (balloon_) balloon_->amount_mib = mib;
  }
  void set_balloon_stats_interval(unsigned seconds) {
    if (balloon_) balloon_->stats_interval_s = seconds;
  }
  static nlohmann::json balloon_json(const virtio::BalloonConfig& b);
  int64_t mem_size_mib() const { return mem_size_mib_; }

  nlohmann::json machine_config_json() const;
  // The engine the harts will run (vessel_engine; `vessel run --engine` until it is set).
  rv::Engine engine() const { return engine_; }
  // GET /vm/config: everything configured, in Firecracker's FullVmConfiguration shape.
  nlohmann::json full_config_json() const;

  // The machine to start, with the files the API named resolved; an error when something is
  // still missing (the boot source), does not fit (the command line with root= added) or is no
  // longer a file the API may use.
  Result<VirtConfig> virt_config() const;

 private:
  Result<void> apply_machine_config(const std::optional<nlohmann::json>& body, bool patch);
  // The boot source's files as the machine takes them: those the API named, checked and
  // resolved; `vessel run`'s as they are.
  struct BootFiles {
    std::string kernel;
    std::optional<std::string> initrd, firmware;
  };
  Result<BootFiles> boot_files(const BootSource& source) const;
  // virtio-mmio windows not yet taken by a device.
  size_t free_slots() const;
  Result<void> check_slot_free() const;
  std::string command_line() const;

  VirtConfig base_;
  HostFilePolicy files_;
  int64_t vcpu_count_;
  int64_t mem_size_mib_;
  // Echoed back as given: every VM logs its dirty pages anyway (Diff snapshots).
  bool track_dirty_pages_ = false;
  rv::Engine engine_;
  std::optional<BootSource> boot_source_;
  std::vector<Drive> drives_;  // in the order first PUT
  std::vector<NetworkInterface> nets_;
  std::optional<virtio::BalloonConfig> balloon_;
  std::optional<virtio::VsockConfig> vsock_;
  bool rng_;
  RateLimiterConfig rng_rate_limiter_;
  std::shared_ptr<net::MmdsStore> mmds_;
  std::optional<MmdsConfig> mmds_config_;
};

// Firecracker's RateLimiterConfig ({"bandwidth": TokenBucket, "ops": TokenBucket}, each
// {"size", "one_time_burst", "refill_time"}), errors naming `where` and the field; and back.
Result<RateLimiterConfig> parse_rate_limiter(const nlohmann::json& value, std::string_view where);
nlohmann::json rate_limiter_json(const RateLimiterConfig& config);

// Whether `s` holds a byte below 0x20 or DEL.
bool has_control_char(std::string_view s);

// [A-Za-z0-9_-]{1,64}: drive and interface ids.
bool valid_id(const std::string& id);

// An engine by its name ("jit" or "interp"), as `field` (an option or a JSON field) gives it:
// an unknown name, or jit in a build whose host cannot run the translator, is an error
// naming the field. `vessel run --engine`, the API's vessel_engine and the daemon's "engine"
// all take it here.
Result<rv::Engine> parse_engine_field(std::string_view field, std::string_view name);

}  // namespace vessel::api
