#include "daemon/vm_definition.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "api/firecracker/vm_resources.hpp"
#include "api/http/json_fields.hpp"
#include "base/files.hpp"
#include "host/block/image_format.hpp"
#include "host/console_log.hpp"
#include "host/net/net_option.hpp"

namespace vessel::daemon {

using nlohmann::json;

namespace {

// The daemon's VMs forward ports of the host's loopback only: what else listens on the
// host's addresses is not a definition's client's to expose.
constexpr uint32_t kLoopback = 0x7f000001;

// A net as the daemon wrote them before the typed configuration ("user,hostfwd=...",
// "tap=IFNAME"): its JSON object, run with loopback off unless the string says.
Result<json> legacy_net(size_t index, const std::string& text) {
  auto spec = parse_net_option(text);
  if (!spec) {
    std::string_view why = spec.error().message;
    if (why.starts_with("--net: ")) why.remove_prefix(7);
    return make_error(fmt::format("nets[{}]: {}", index, why));
  }
  if (text.find(",loopback=") == std::string::npos) spec->host_loopback = false;
  return net_to_json(*spec);
}

// The definition's nets with the daemon's defaults applied before the machine's reader sees
// them: strings become objects, and a user network that does not say has loopback off.
Result<json> daemon_nets(const json& nets) {
  if (!nets.is_array()) return nets;  // the machine's reader names the problem
  json out = json::array();
  for (size_t i = 0; i < nets.size(); ++i) {
    json net = nets[i];
    if (net.is_string()) {
      net = TRY(legacy_net(i, net.get<std::string>()));
    } else if (net.is_object() && net.contains("type") && net["type"] == "user" &&
               !net.contains("loopback")) {
      net["loopback"] = false;
    }
    out.push_back(std::move(net));
  }
  return out;
}

Result<void> check_daemon_rules(const VmDefinition& d) {
  const VirtConfig& m = d.config.machine;
  if (!m.kernel) return make_error("missing required field 'kernel'");
  if (m.bootargs.size() >= api::kMaxCommandLine) {
    return make_error(fmt::format("append: {} bytes, the kernel takes at most {}",
                                  m.bootargs.size(), api::kMaxCommandLine - 1));
  }
  for (size_t i = 0; i < m.nets.size(); ++i) {
    for (const HostForward& fwd : m.nets[i].hostfwd) {
      if (fwd.host_addr != kLoopback) {
        return make_error(
            fmt::format("nets[{}].hostfwd {}: the daemon's VMs forward ports of 127.0.0.1 only", i,
                        fwd.name()));
      }
    }
  }
  return {};
}

// A qcow2 or other non-raw image named as a raw disk, refused at create as `vessel run` would
// refuse it at start. A file that cannot be opened is the VM's to report.
Result<void> check_raw_disk(const std::string& field, const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  auto raw = block::check_raw_image(fd, path, "\"format\": \"raw\"");
  close(fd);
  if (!raw) return make_error(fmt::format("{}: {}", field, raw.error().message));
  return {};
}

// An overlay the daemon made (a restore's or a clone's): the snapshot's frozen disk and the
// VM's overlay, both in the state dir.
bool daemon_overlay(const block::DiskSpec& disk, const std::string& state_dir) {
  return !state_dir.empty() && disk.path.starts_with(state_dir + "/") &&
         disk.overlay.starts_with(state_dir + "/vms/") &&
         disk.path.find("/../") == std::string::npos &&
         disk.overlay.find("/../") == std::string::npos;
}

Result<void> resolve_disk(block::DiskSpec& disk, size_t i, const api::HostFilePolicy& files,
                          const std::string& state_dir) {
  using api::HostFileUse;
  if (!disk.overlay.empty() && daemon_overlay(disk, state_dir)) return {};
  const std::string field = fmt::format("disks[{}].path", i);
  // Under an overlay (a temporary one too) the image is only read.
  const bool writes = !disk.read_only && disk.overlay.empty() && !disk.snapshot;
  const std::string named = disk.path;
  disk.path = TRY(files.check(field, named, HostFileUse::kDisk, writes));
  if (!disk.format_stated) TRY_VOID(check_raw_disk(field, disk.path));
  if (disk.overlay.empty()) return {};
  const std::string overlay_field = fmt::format("disks[{}].overlay", i);
  if (!state_dir.empty() && disk.overlay.starts_with(state_dir + "/")) {
    return make_error(fmt::format(
        "{}: only the daemon's restores and clones give a disk an overlay in its state directory",
        overlay_field));
  }
  disk.overlay =
      access(disk.overlay.c_str(), F_OK) == 0
          ? TRY(files.check(overlay_field, disk.overlay, HostFileUse::kDisk, !disk.read_only))
          : TRY(files.check_new(overlay_field, disk.overlay));
  return {};
}

}  // namespace

bool valid_vm_name(std::string_view name) {
  return !name.empty() && name.size() <= 32 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

Result<void> check_vm_name(std::string_view name) {
  if (valid_vm_name(name)) return {};
  return make_error(fmt::format("VM name '{}': 1 to 32 characters of A-Z, a-z, 0-9, '_' and '-'",
                                http::excerpt(name, 40)));
}

VmConfig default_vm_config() {
  VmConfig c;
  c.machine.ram_size = static_cast<uint64_t>(kDefaultMemoryMib) << 20;
  c.machine.builtin_sbi = true;
  return c;
}

json VmDefinition::to_json() const {
  json j = vessel::to_json(config);
  j["name"] = name;
  j["created_at"] = created_at;
  return j;
}

Result<VmDefinition> parse_vm_definition(const std::optional<json>& body) {
  if (!body) return make_error("a JSON object body is required");
  if (!body->is_object()) return make_error("the body must be a JSON object");
  json machine = *body;
  VmDefinition d;
  const auto text = [&](const char* field) -> Result<std::string> {
    const json value = machine.contains(field) ? machine[field] : json();
    machine.erase(field);
    if (value.is_null()) return std::string();
    if (!value.is_string()) return make_error(fmt::format("{}: expected a string", field));
    return value.get<std::string>();
  };
  d.name = TRY(text("name"));
  if (!body->contains("name")) return make_error("missing required field 'name'");
  TRY_VOID(check_vm_name(d.name));
  d.created_at = TRY(text("created_at"));
  if (machine.contains("nets")) machine["nets"] = TRY(daemon_nets(machine["nets"]));
  d.config = TRY(vm_config_from_json(machine, default_vm_config()));
  TRY_VOID(check_daemon_rules(d));
  return d;
}

Result<VmDefinition> resolve_vm_files(const VmDefinition& d, const api::HostFilePolicy& files,
                                      const std::string& state_dir) {
  using api::HostFileUse;
  VmDefinition r = d;
  VirtConfig& m = r.config.machine;
  const auto image = [&](const char* field, std::optional<std::string>& path) -> Result<void> {
    if (path) path = TRY(files.check(field, *path, HostFileUse::kImage, false));
    return {};
  };
  TRY_VOID(image("kernel", m.kernel));
  TRY_VOID(image("initrd", m.initrd));
  TRY_VOID(image("firmware", m.firmware));
  for (size_t i = 0; i < m.disks.size(); ++i)
    TRY_VOID(resolve_disk(m.disks[i], i, files, state_dir));
  if (m.virtio_console_socket) {
    m.virtio_console_socket =
        TRY(files.check_new_socket("virtio_console", *m.virtio_console_socket));
  }
  if (m.vsock) m.vsock->uds_path = TRY(files.check_new_socket("vsock.uds_path", m.vsock->uds_path));
  return r;
}

Result<void> prepare_vm_state(const VmPaths& paths) {
  if (unlink(paths.exit_status().c_str()) != 0 && errno != ENOENT) {
    return make_error(fmt::format("{}: cannot remove: {}", paths.exit_status(), strerror(errno)));
  }
  return adopt_console_log(paths.console_log());
}

std::vector<std::string> vm_run_arguments(const VmPaths& paths,
                                          const std::optional<std::string>& restore) {
  std::vector<std::string> args = {"run",
                                   "--api-sock",
                                   paths.api_socket(),
                                   "--console-socket",
                                   paths.console_socket(),
                                   "--console-log",
                                   paths.console_log(),
                                   "--exit-status-file",
                                   paths.exit_status(),
                                   "--log-file",
                                   paths.vmm_log(),
                                   "--api-allow-dir",
                                   paths.staging(),
                                   "--config",
                                   paths.machine()};
  if (restore) args.insert(args.end(), {"--restore", *restore});
  return args;
}

Result<void> write_machine_file(const VmDefinition& definition, const VmPaths& paths) {
  return write_file_atomically(paths.machine(), vessel::to_json(definition.config).dump(2) + "\n",
                               0600);
}

std::string utc_timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace vessel::daemon
