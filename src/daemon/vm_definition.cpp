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
#include "host/block/image_format.hpp"
#include "host/console_log.hpp"
#include "host/net/net_option.hpp"

namespace vessel::daemon {

using http::JsonFields;

namespace {

// Linux's IFNAMSIZ less the NUL.
constexpr size_t kMaxInterfaceName = 15;

// "user" with hostfwd=, restrict= and loopback= only: a definition's client may not choose
// MACs (yet), nor forward ports of other host addresses than 127.0.0.1; Vessel's parser says
// what is wrong with a value.
Result<void> check_user_net(size_t index, const std::string& net) {
  std::string_view rest = std::string_view(net).substr(4);
  while (!rest.empty()) {
    rest.remove_prefix(1);  // the ','
    const std::string_view item = rest.substr(0, rest.find(','));
    rest.remove_prefix(item.size());
    const std::string_view key = item.substr(0, item.find('='));
    if (key != "restrict" && key != "loopback" && key != "hostfwd") {
      return make_error(
          fmt::format("nets[{}]: '{}': a user network takes hostfwd=, restrict= and "
                      "loopback= only",
                      index, http::excerpt(item)));
    }
  }
  auto spec = parse_net_option(net);
  if (spec) {
    for (const HostForward& fwd : spec->hostfwd) {
      if (fwd.host_addr != 0x7f000001) {
        return make_error(
            fmt::format("nets[{}]: hostfwd {}: the daemon's VMs forward ports of 127.0.0.1 only",
                        index, fwd.name()));
      }
    }
    return {};
  }
  std::string_view why = spec.error().message;
  if (why.starts_with("--net: ")) why.remove_prefix(7);
  return make_error(fmt::format("nets[{}]: {}", index, why));
}

Result<void> check_net(size_t index, const std::string& net) {
  if (net == "user" || net.starts_with("user,")) return check_user_net(index, net);
  if (net.starts_with("tap=")) {
    const std::string_view ifname = std::string_view(net).substr(4);
    const bool ok =
        !ifname.empty() && ifname.size() <= kMaxInterfaceName &&
        std::all_of(ifname.begin(), ifname.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
        });
    if (ok) return {};
    return make_error(
        fmt::format("nets[{}]: '{}' is not a tap interface name (1-{} of A-Z a-z "
                    "0-9 _ - .)",
                    index, http::excerpt(ifname), kMaxInterfaceName));
  }
  return make_error(
      fmt::format("nets[{}]: '{}' is neither \"user[,hostfwd=RULE][,restrict=on|off]"
                  "[,loopback=on|off]\" nor \"tap=IFNAME\"",
                  index, http::excerpt(net)));
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

Result<std::vector<DiskDefinition>> parse_disks(const nlohmann::json* disks) {
  std::vector<DiskDefinition> out;
  if (disks == nullptr) return out;
  if (!disks->is_array()) return make_error("disks: expected an array of {\"path\", \"readonly\"}");
  if (disks->size() > kMaxDisks) {
    return make_error(fmt::format("disks: {} disks, at most {}", disks->size(), kMaxDisks));
  }
  for (size_t i = 0; i < disks->size(); ++i) {
    const std::string where = fmt::format("disks[{}]", i);
    auto fields =
        TRY(JsonFields::read_object((*disks)[i], where, {"path", "readonly", "format", "overlay"}));
    DiskDefinition disk;
    disk.path = TRY(fields.string("path"));
    disk.readonly = TRY(fields.optional_boolean("readonly")).value_or(false);
    if (const auto format = TRY(fields.optional_string("format"))) {
      if (*format != "raw") {
        return make_error(fmt::format("{}.format: '{}' is not one Vessel reads (only \"raw\")",
                                      where, http::excerpt(*format)));
      }
      disk.format_raw = true;
    }
    disk.overlay = TRY(fields.optional_string("overlay"));
    if (disk.overlay && (disk.overlay->empty() || disk.overlay->find(',') != std::string::npos)) {
      return make_error(fmt::format("{}.overlay: not a usable path", where));
    }
    // vessel run takes a disk as PATH[,readonly]: a comma would read as an option.
    if (disk.path.find(',') != std::string::npos) {
      return make_error(fmt::format("{}.path: {}: a disk path cannot contain ','", where,
                                    http::excerpt(disk.path)));
    }
    if (disk.path.empty()) return make_error(fmt::format("{}.path: empty path", where));
    out.push_back(std::move(disk));
  }
  return out;
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

nlohmann::json VmDefinition::to_json() const {
  nlohmann::json j{{"name", name},
                   {"kernel", kernel},
                   {"firmware", firmware},
                   {"cpus", cpus},
                   {"memory_mib", memory_mib},
                   {"engine", rv::engine_name(engine)},
                   {"created_at", created_at}};
  if (initrd) j["initrd"] = *initrd;
  if (append) j["append"] = *append;
  j["disks"] = nlohmann::json::array();
  for (const DiskDefinition& d : disks) {
    nlohmann::json disk{{"path", d.path}, {"readonly", d.readonly}};
    if (d.format_raw) disk["format"] = "raw";
    if (d.overlay) disk["overlay"] = *d.overlay;
    j["disks"].push_back(std::move(disk));
  }
  j["nets"] = nets;
  return j;
}

Result<VmDefinition> parse_vm_definition(const std::optional<nlohmann::json>& json) {
  auto fields =
      TRY(JsonFields::read(json, {"name", "kernel", "initrd", "append", "firmware", "cpus",
                                  "memory_mib", "engine", "disks", "nets", "created_at"}));
  VmDefinition d;
  d.name = TRY(fields.string("name"));
  TRY_VOID(check_vm_name(d.name));
  d.kernel = TRY(fields.string("kernel"));
  if (d.kernel.empty()) return make_error("kernel: empty path");
  d.initrd = TRY(fields.optional_string("initrd"));
  if (d.initrd && d.initrd->empty()) return make_error("initrd: empty path");
  d.append = TRY(fields.optional_string("append"));
  if (d.append) {
    if (d.append->size() >= api::kMaxCommandLine) {
      return make_error(fmt::format("append: {} bytes, the kernel takes at most {}",
                                    d.append->size(), api::kMaxCommandLine - 1));
    }
    if (api::has_control_char(*d.append)) return make_error("append: contains a control character");
  }
  d.firmware = TRY(fields.optional_string("firmware")).value_or("builtin");
  if (d.firmware.empty()) return make_error("firmware: empty (\"builtin\", \"none\" or a file)");
  d.cpus = TRY(fields.optional_integer("cpus", 1, api::kMaxVcpus)).value_or(1);
  d.memory_mib = TRY(fields.optional_integer("memory_mib", api::kMinMemMib, api::kMaxMemMib))
                     .value_or(kDefaultMemoryMib);
  if (auto engine = TRY(fields.optional_string("engine"))) {
    d.engine = TRY(api::parse_engine_field("engine", *engine));
  }
  d.disks = TRY(parse_disks(json->contains("disks") ? &json->at("disks") : nullptr));
  if (json->contains("disks") && json->at("disks").is_null()) d.disks.clear();
  d.nets = TRY(fields.optional_strings("nets")).value_or(std::vector<std::string>{});
  if (d.nets.size() > kMaxNets) {
    return make_error(fmt::format("nets: {} interfaces, at most {}", d.nets.size(), kMaxNets));
  }
  for (size_t i = 0; i < d.nets.size(); ++i) TRY_VOID(check_net(i, d.nets[i]));
  d.created_at = TRY(fields.optional_string("created_at")).value_or("");
  for (auto [field, path] : {std::pair{"kernel", &d.kernel}, {"firmware", &d.firmware}}) {
    if (path->size() > api::kMaxPath || api::has_control_char(*path)) {
      return make_error(fmt::format("{}: not a usable path", field));
    }
  }
  return d;
}

Result<VmDefinition> resolve_vm_files(const VmDefinition& d, const api::HostFilePolicy& files,
                                      const std::string& state_dir) {
  using api::HostFileUse;
  VmDefinition r = d;
  r.kernel = TRY(files.check("kernel", d.kernel, HostFileUse::kImage, false));
  if (d.initrd) r.initrd = TRY(files.check("initrd", *d.initrd, HostFileUse::kImage, false));
  if (d.firmware != "builtin" && d.firmware != "none") {
    r.firmware = TRY(files.check("firmware", d.firmware, HostFileUse::kImage, false));
  }
  for (size_t i = 0; i < d.disks.size(); ++i) {
    const std::string field = fmt::format("disks[{}].path", i);
    if (d.disks[i].overlay) {
      // Made by the daemon: the snapshot's disk and the VM's overlay, both in the state dir.
      const bool ours = !state_dir.empty() && d.disks[i].path.starts_with(state_dir + "/") &&
                        d.disks[i].overlay->starts_with(state_dir + "/vms/") &&
                        d.disks[i].path.find("/../") == std::string::npos &&
                        d.disks[i].overlay->find("/../") == std::string::npos;
      if (!ours) {
        return make_error(fmt::format(
            "disks[{}].overlay: only the daemon's restores and clones give a disk an overlay", i));
      }
      continue;
    }
    r.disks[i].path =
        TRY(files.check(field, d.disks[i].path, HostFileUse::kDisk, !d.disks[i].readonly));
    if (!d.disks[i].format_raw) TRY_VOID(check_raw_disk(field, r.disks[i].path));
  }
  return r;
}

Result<void> prepare_vm_state(const VmPaths& paths) {
  if (unlink(paths.exit_status().c_str()) != 0 && errno != ENOENT) {
    return make_error(fmt::format("{}: cannot remove: {}", paths.exit_status(), strerror(errno)));
  }
  return adopt_console_log(paths.console_log());
}

std::string run_net_option(const std::string& net) {
  // The daemon's VMs do not reach the host's loopback (its own API's port among what listens
  // there) unless their definition asks.
  const bool user = net == "user" || net.starts_with("user,");
  const bool says = net.find(",loopback=") != std::string::npos;
  return user && !says ? net + ",loopback=off" : net;
}

std::vector<std::string> vm_run_arguments(const VmDefinition& d, const VmPaths& paths,
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
                                   paths.dir + "/staging",
                                   "--engine",
                                   rv::engine_name(d.engine)};
  if (restore) {
    args.insert(args.end(), {"--restore", *restore});
    return args;
  }
  args.insert(args.end(), {"--firmware", d.firmware, "--kernel", d.kernel, "--cpus",
                           std::to_string(d.cpus), "--memory", fmt::format("{}M", d.memory_mib)});
  if (d.initrd) args.insert(args.end(), {"--initrd", *d.initrd});
  if (d.append) args.insert(args.end(), {"--append", *d.append});
  for (const DiskDefinition& disk : d.disks) {
    std::string option = disk.path;
    if (disk.readonly) option += ",readonly";
    if (disk.format_raw) option += ",format=raw";
    if (disk.overlay) option += ",overlay=" + *disk.overlay;
    args.insert(args.end(), {"--disk", option});
  }
  for (const std::string& net : d.nets) args.insert(args.end(), {"--net", run_net_option(net)});
  return args;
}

std::vector<std::string> incoming_run_arguments(const std::vector<std::string>& run,
                                                const std::vector<std::string>& incoming) {
  static constexpr std::string_view kMachine[] = {"--firmware", "--kernel", "--initrd",
                                                  "--append",   "--disk",   "--net"};
  std::vector<std::string> out;
  for (size_t i = 0; i < run.size(); ++i) {
    // Every option of vm_run_arguments but `run` itself takes a value.
    if (i + 1 < run.size() &&
        std::find(std::begin(kMachine), std::end(kMachine), run[i]) != std::end(kMachine)) {
      ++i;
      continue;
    }
    out.push_back(run[i]);
  }
  out.insert(out.end(), incoming.begin(), incoming.end());
  return out;
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
