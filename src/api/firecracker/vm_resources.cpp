#include "api/firecracker/vm_resources.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>

#include "api/http/json_fields.hpp"
#include "host/net/net_option.hpp"

namespace vessel::api {

using http::JsonFields;

bool has_control_char(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

namespace {

Result<void> check_body_id(const JsonFields& fields, std::string_view field,
                           const std::string& path_id) {
  const std::string body_id = TRY(fields.string(field));
  if (body_id != path_id) {
    return make_error(fmt::format("{} '{}' in the body does not match '{}' in the path", field,
                                  http::excerpt(body_id), path_id));
  }
  return {};
}

// The entry with the same id is replaced; a new one is added if `room` allows.
template <class T>
Result<void> replace_or_add(std::vector<T>& list, T item, std::string T::*id,
                            const std::function<Result<void>()>& room) {
  const auto existing =
      std::find_if(list.begin(), list.end(), [&](const T& e) { return e.*id == item.*id; });
  if (existing != list.end()) {
    *existing = std::move(item);
    return {};
  }
  TRY_VOID(room());
  list.push_back(std::move(item));
  return {};
}

// Firecracker's machine-config fields for features Vessel lacks: accepted with the value that
// asks for nothing (what Firecracker itself defaults to), refused otherwise.
Result<void> check_unsupported_machine_fields(const JsonFields& fields) {
  if (TRY(fields.optional_boolean("smt")).value_or(false)) {
    // Firecracker's words on aarch64 (VmConfigError::SmtNotSupported), for this architecture.
    return make_error("smt: Enabling simultaneous multithreading is not supported on riscv64.");
  }
  if (auto pages = TRY(fields.optional_string("huge_pages")); pages && *pages != "None") {
    return make_error(fmt::format(
        "huge_pages: '{}': Vessel backs guest memory with 4 KiB pages only; only \"None\" is "
        "accepted",
        http::excerpt(*pages)));
  }
  if (auto tmpl = TRY(fields.optional_string("cpu_template")); tmpl && *tmpl != "None") {
    return make_error(fmt::format(
        "cpu_template: '{}': CPU templates are x86-64 and aarch64 CPUID/register sets; a riscv64 "
        "hart's ISA is fixed (only \"None\" is accepted)",
        http::excerpt(*tmpl)));
  }
  return {};
}

}  // namespace

bool valid_id(const std::string& id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

Result<rv::Engine> parse_engine_field(std::string_view field, std::string_view name) {
  const std::optional<rv::Engine> engine = rv::parse_engine(name);
  if (!engine) {
    return make_error(
        fmt::format("{}: '{}' is not an engine (jit or interp)", field, http::excerpt(name)));
  }
  if (*engine == rv::Engine::kJit && !rv::jit_supported()) {
    return make_error(fmt::format(
        "{}: jit: the translator needs an x86-64 host (this build runs interp only)", field));
  }
  return *engine;
}

nlohmann::json NetworkInterface::to_json() const {
  nlohmann::json j{{"iface_id", iface_id}};
  if (host_dev_name) {
    j["host_dev_name"] = *host_dev_name;
  } else {
    j["vessel_user_net"] = {{"hostfwd", hostfwd}};
    if (restricted) j["vessel_user_net"]["restrict"] = *restricted;
    if (loopback) j["vessel_user_net"]["loopback"] = *loopback;
  }
  if (guest_mac) j["guest_mac"] = *guest_mac;
  return j;
}

VmResources::VmResources(VirtConfig base, HostFilePolicy files)
    : base_(std::move(base)),
      files_(std::move(files)),
      vcpu_count_(static_cast<int64_t>(base_.num_harts)),
      mem_size_mib_(static_cast<int64_t>(base_.ram_size >> 20)),
      engine_(base_.engine),
      balloon_(base_.balloon),
      vsock_(base_.vsock),
      rng_(base_.rng),
      rng_rate_limiter_(base_.rng_rate_limiter),
      mmds_(base_.mmds ? base_.mmds : std::make_shared<net::MmdsStore>()) {
  // `vessel run --api-sock S --kernel K` starts with that boot source, as if it had been PUT.
  if (base_.kernel)
    boot_source_ = BootSource{*base_.kernel, base_.initrd, std::nullopt, std::nullopt, false};
}

Result<void> VmResources::apply_machine_config(const std::optional<nlohmann::json>& body,
                                               bool patch) {
  const auto fields =
      TRY(JsonFields::read(body, {"vcpu_count", "mem_size_mib", "smt", "track_dirty_pages",
                                  "huge_pages", "cpu_template", "vessel_engine"}));
  std::optional<int64_t> vcpus = TRY(fields.optional_integer("vcpu_count", 1, kMaxVcpus));
  std::optional<int64_t> mem = TRY(fields.optional_integer("mem_size_mib", kMinMemMib, kMaxMemMib));
  if (!patch && !vcpus) return JsonFields::missing("vcpu_count");
  if (!patch && !mem) return JsonFields::missing("mem_size_mib");
  TRY_VOID(check_unsupported_machine_fields(fields));
  if (mem && balloon_ && *mem < static_cast<int64_t>(balloon_->amount_mib)) {
    // Firecracker's words (VmConfigError::IncompatibleBalloonSize).
    return make_error(
        "mem_size_mib: The memory size (MiB) is smaller than the previously set balloon device "
        "target size.");
  }
  const std::optional<bool> track = TRY(fields.optional_boolean("track_dirty_pages"));
  // PUT replaces the whole configuration: without vessel_engine, `vessel run --engine`'s.
  rv::Engine chosen = patch ? engine_ : base_.engine;
  if (auto name = TRY(fields.optional_string("vessel_engine"))) {
    chosen = TRY(parse_engine_field("vessel_engine", *name));
  }
  if (vcpus) vcpu_count_ = *vcpus;
  if (mem) mem_size_mib_ = *mem;
  if (track || !patch) track_dirty_pages_ = track.value_or(false);
  engine_ = chosen;
  return {};
}

Result<void> VmResources::put_machine_config(const std::optional<nlohmann::json>& body) {
  return apply_machine_config(body, false);
}

Result<void> VmResources::patch_machine_config(const std::optional<nlohmann::json>& body) {
  return apply_machine_config(body, true);
}

nlohmann::json VmResources::machine_config_json() const {
  return {{"vcpu_count", vcpu_count_},
          {"mem_size_mib", mem_size_mib_},
          {"smt", false},
          {"track_dirty_pages", track_dirty_pages_},
          {"huge_pages", "None"},
          {"vessel_engine", rv::engine_name(engine_)}};
}

Result<void> VmResources::put_boot_source(const std::optional<nlohmann::json>& body) {
  const auto fields = TRY(
      JsonFields::read(body, {"kernel_image_path", "initrd_path", "boot_args", "vessel_firmware"}));
  BootSource source;
  source.kernel_image_path = TRY(fields.string("kernel_image_path"));
  source.initrd_path = TRY(fields.optional_string("initrd_path"));
  source.boot_args = TRY(fields.optional_string("boot_args"));
  if (source.boot_args) {
    if (source.boot_args->size() >= kMaxCommandLine) {
      return make_error(
          fmt::format("boot_args: longer than {} bytes (Linux's limit)", kMaxCommandLine - 1));
    }
    if (has_control_char(*source.boot_args)) {
      return make_error("boot_args: contains a control character");
    }
  }
  source.firmware = TRY(fields.optional_string("vessel_firmware"));
  TRY(boot_files(source));
  boot_source_ = std::move(source);
  return {};
}

Result<VmResources::BootFiles> VmResources::boot_files(const BootSource& source) const {
  BootFiles files{source.kernel_image_path, source.initrd_path, std::nullopt};
  if (!source.from_api) return files;
  const auto image = [&](std::string_view field, const std::string& path) {
    return files_.check(field, path, HostFileUse::kImage, false);
  };
  files.kernel = TRY(image("kernel_image_path", source.kernel_image_path));
  if (source.initrd_path) files.initrd = TRY(image("initrd_path", *source.initrd_path));
  if (source.firmware && *source.firmware != "builtin" && *source.firmware != "none") {
    files.firmware = TRY(image("vessel_firmware", *source.firmware));
  }
  return files;
}

size_t VmResources::free_slots() const {
  // Eight virtio-mmio windows hold every paravirtual device the machine gets.
  const size_t used = (rng_ ? 1 : 0) + (base_.virtio_console_socket ? 1 : 0) + (balloon_ ? 1 : 0) +
                      (vsock_ ? 1 : 0) + base_.disks.size() + base_.nets.size() + drives_.size() +
                      nets_.size();
  return virt_map::kVirtioCount > used ? virt_map::kVirtioCount - used : 0;
}

Result<void> VmResources::check_slot_free() const {
  if (free_slots() == 0) {
    return make_error(fmt::format(
        "no virtio slot left: drives, network interfaces, the balloon and the entropy device "
        "share {} (with the console and the command line's devices)",
        virt_map::kVirtioCount));
  }
  return {};
}

Result<void> VmResources::put_drive(const std::string& drive_id,
                                    const std::optional<nlohmann::json>& body) {
  const auto fields =
      TRY(JsonFields::read(body, {"drive_id", "path_on_host", "is_root_device", "is_read_only"}));
  TRY_VOID(check_body_id(fields, "drive_id", drive_id));
  Drive drive;
  drive.drive_id = drive_id;
  drive.path_on_host = TRY(fields.string("path_on_host"));
  drive.is_root_device = TRY(fields.boolean("is_root_device"));
  drive.is_read_only = TRY(fields.optional_boolean("is_read_only")).value_or(false);
  TRY(files_.check("path_on_host", drive.path_on_host, HostFileUse::kDisk, !drive.is_read_only));

  for (const Drive& other : drives_) {
    if (other.drive_id == drive_id) continue;
    if (drive.is_root_device && other.is_root_device) {
      return make_error(
          fmt::format("is_root_device: drive '{}' is already the root device", other.drive_id));
    }
    if (other.path_on_host == drive.path_on_host) {
      return make_error(fmt::format("path_on_host: {} is already drive '{}'", drive.path_on_host,
                                    other.drive_id));
    }
  }
  return replace_or_add(drives_, std::move(drive), &Drive::drive_id,
                        [this] { return check_slot_free(); });
}

Result<void> VmResources::put_network_interface(const std::string& iface_id,
                                                const std::optional<nlohmann::json>& body) {
  const auto fields =
      TRY(JsonFields::read(body, {"iface_id", "host_dev_name", "guest_mac", "vessel_user_net"}));
  TRY_VOID(check_body_id(fields, "iface_id", iface_id));
  NetworkInterface net;
  net.iface_id = iface_id;
  net.host_dev_name = TRY(fields.optional_string("host_dev_name"));
  net.guest_mac = TRY(fields.optional_string("guest_mac"));
  const nlohmann::json* user = TRY(fields.optional_object("vessel_user_net"));
  if (!net.host_dev_name && user == nullptr) {
    return make_error(
        "missing required field 'host_dev_name' (a tap device; or 'vessel_user_net' for "
        "user-mode networking)");
  }
  if (net.host_dev_name && user != nullptr) {
    return make_error("host_dev_name and vessel_user_net exclude each other: a tap or user-mode");
  }
  if (user != nullptr) {
    const auto user_fields =
        TRY(JsonFields::read_object(*user, "vessel_user_net", {"hostfwd", "restrict", "loopback"}));
    net.hostfwd = TRY(user_fields.optional_strings("hostfwd")).value_or(std::vector<std::string>{});
    net.restricted = TRY(user_fields.optional_boolean("restrict"));
    net.loopback = TRY(user_fields.optional_boolean("loopback"));
  }

  // The machine's typed network, checked as any other face's.
  if (net.host_dev_name) {
    net.spec.kind = NetSpec::Kind::kTap;
    net.spec.ifname = *net.host_dev_name;
  }
  const auto in_field = [](std::string_view field, const Error& e) {
    return make_error(fmt::format("{}: {}", field, e.message));
  };
  for (const std::string& rule : net.hostfwd) {
    auto fwd = parse_hostfwd(rule);
    if (!fwd) return in_field("vessel_user_net.hostfwd", fwd.error());
    net.spec.hostfwd.push_back(*fwd);
  }
  net.spec.restricted = net.restricted.value_or(false);
  net.spec.host_loopback = net.loopback.value_or(true);
  if (net.guest_mac) {
    auto mac = parse_mac(*net.guest_mac);
    if (!mac) return in_field("guest_mac", mac.error());
    net.spec.mac = *mac;
  }
  if (auto ok = check_net_spec(net.spec); !ok) {
    return in_field(net.host_dev_name ? "host_dev_name" : "vessel_user_net", ok.error());
  }

  for (const NetworkInterface& other : nets_) {
    if (other.iface_id == iface_id) continue;
    if (net.host_dev_name && other.host_dev_name == net.host_dev_name) {
      return make_error(fmt::format("host_dev_name: {} is already used by interface '{}'",
                                    *net.host_dev_name, other.iface_id));
    }
    if (net.spec.mac && net.spec.mac == other.spec.mac) {
      return make_error(fmt::format("guest_mac: {} is already used by interface '{}'",
                                    *net.guest_mac, other.iface_id));
    }
  }
  return replace_or_add(nets_, std::move(net), &NetworkInterface::iface_id,
                        [this] { return check_slot_free(); });
}

Result<void> VmResources::put_balloon(const std::optional<nlohmann::json>& body) {
  const auto fields =
      TRY(JsonFields::read(body, {"amount_mib", "deflate_on_oom", "stats_polling_interval_s"}));
  virtio::BalloonConfig config;
  config.amount_mib = static_cast<uint32_t>(TRY(fields.integer("amount_mib", 0, UINT32_MAX)));
  config.deflate_on_oom = TRY(fields.boolean("deflate_on_oom"));
  // Firecracker's field is a u16.
  config.stats_interval_s = static_cast<unsigned>(
      TRY(fields.optional_integer("stats_polling_interval_s", 0, UINT16_MAX)).value_or(0));
  if (config.amount_mib > mem_size_mib_) {
    // Firecracker's words (BalloonConfigError::TooManyPagesRequested).
    return make_error(
        fmt::format("amount_mib: Amount of pages requested is too large. (the memory is {} MiB)",
                    mem_size_mib_));
  }
  if (!balloon_) TRY_VOID(check_slot_free());
  balloon_ = config;
  return {};
}

nlohmann::json VmResources::balloon_json(const virtio::BalloonConfig& b) {
  return {{"amount_mib", b.amount_mib},
          {"deflate_on_oom", b.deflate_on_oom},
          {"stats_polling_interval_s", b.stats_interval_s}};
}

Result<void> VmResources::put_vsock(const std::optional<nlohmann::json>& body) {
  const auto fields = TRY(JsonFields::read(body, {"guest_cid", "uds_path", "vsock_id"}));
  virtio::VsockConfig config;
  config.guest_cid = static_cast<uint32_t>(
      TRY(fields.integer("guest_cid", virtio::kMinGuestCid, virtio::kMaxGuestCid)));
  const std::string path = TRY(fields.string("uds_path"));
  config.uds_path = TRY(files_.check_new_socket("uds_path", path));
  TRY(fields.optional_string("vsock_id"));
  if (!vsock_) TRY_VOID(check_slot_free());
  vsock_ = std::move(config);
  return {};
}

namespace {

// Firecracker's TokenBucket: size and refill_time (ms) required, one_time_burst optional.
Result<TokenBucketConfig> parse_token_bucket(const nlohmann::json& value, std::string_view where) {
  const auto fields =
      TRY(JsonFields::read_object(value, where, {"size", "one_time_burst", "refill_time"}));
  TokenBucketConfig b;
  b.size = static_cast<uint64_t>(TRY(fields.integer("size", 0, INT64_MAX)));
  b.one_time_burst = static_cast<uint64_t>(
      TRY(fields.optional_integer("one_time_burst", 0, INT64_MAX)).value_or(0));
  b.refill_time_ms = static_cast<uint64_t>(TRY(fields.integer("refill_time", 0, INT64_MAX)));
  return b;
}

nlohmann::json token_bucket_json(const TokenBucketConfig& b) {
  return {
      {"size", b.size}, {"one_time_burst", b.one_time_burst}, {"refill_time", b.refill_time_ms}};
}

}  // namespace

Result<RateLimiterConfig> parse_rate_limiter(const nlohmann::json& value, std::string_view where) {
  const auto fields = TRY(JsonFields::read_object(value, where, {"bandwidth", "ops"}));
  RateLimiterConfig config;
  if (const nlohmann::json* b = TRY(fields.optional_object("bandwidth"))) {
    config.bandwidth = TRY(parse_token_bucket(*b, fmt::format("{}.bandwidth", where)));
  }
  if (const nlohmann::json* o = TRY(fields.optional_object("ops"))) {
    config.ops = TRY(parse_token_bucket(*o, fmt::format("{}.ops", where)));
  }
  return config;
}

nlohmann::json rate_limiter_json(const RateLimiterConfig& config) {
  nlohmann::json j = nlohmann::json::object();
  if (config.bandwidth) j["bandwidth"] = token_bucket_json(*config.bandwidth);
  if (config.ops) j["ops"] = token_bucket_json(*config.ops);
  return j;
}

Result<void> VmResources::put_entropy(const std::optional<nlohmann::json>& body) {
  const auto fields = TRY(JsonFields::read(body, {"rate_limiter"}));
  RateLimiterConfig limiter;
  if (const nlohmann::json* r = TRY(fields.optional_object("rate_limiter"))) {
    limiter = TRY(parse_rate_limiter(*r, "rate_limiter"));
  }
  if (!rng_) TRY_VOID(check_slot_free());
  rng_ = true;
  rng_rate_limiter_ = limiter;
  return {};
}

nlohmann::json MmdsConfig::to_json() const {
  return {{"version", version == net::MmdsVersion::kV1 ? "V1" : "V2"},
          {"network_interfaces", network_interfaces},
          {"ipv4_address", format_ipv4(ipv4_address)},
          {"imds_compat", imds_compat}};
}

Result<void> VmResources::put_mmds_config(const std::optional<nlohmann::json>& body) {
  const auto fields =
      TRY(JsonFields::read(body, {"version", "network_interfaces", "ipv4_address", "imds_compat"}));
  MmdsConfig config;
  if (auto version = TRY(fields.optional_string("version"))) {
    if (*version != "V1" && *version != "V2") {
      return make_error(
          fmt::format("version: unknown MMDS version '{}' (V1 or V2)", http::excerpt(*version)));
    }
    config.version = *version == "V1" ? net::MmdsVersion::kV1 : net::MmdsVersion::kV2;
  }
  auto ifaces = TRY(fields.optional_strings("network_interfaces"));
  if (!ifaces) return JsonFields::missing("network_interfaces");
  // Firecracker's words (MmdsConfigError) for the first three.
  if (ifaces->empty()) {
    return make_error(
        "network_interfaces: The list of network interface IDs that allow forwarding MMDS "
        "requests is empty.");
  }
  for (const std::string& id : *ifaces) {
    const auto net = std::find_if(nets_.begin(), nets_.end(),
                                  [&](const NetworkInterface& n) { return n.iface_id == id; });
    if (net == nets_.end()) {
      return make_error(fmt::format(
          "network_interfaces: The list of network interface IDs provided contains at least one "
          "ID that does not correspond to any existing network interface. ('{}')",
          http::excerpt(id)));
    }
    if (net->host_dev_name) {
      return make_error(
          fmt::format("network_interfaces: '{}' is a tap device; Vessel serves MMDS on user-mode "
                      "(vessel_user_net) interfaces only",
                      id));
    }
  }
  config.network_interfaces = std::move(*ifaces);
  if (auto text = TRY(fields.optional_string("ipv4_address"))) {
    const std::optional<uint32_t> address = parse_ipv4(*text);
    if (!address) {
      return make_error(
          fmt::format("ipv4_address: '{}' is not an IPv4 address", http::excerpt(*text)));
    }
    if (!net::mmds_address_valid(*address)) {
      return make_error("ipv4_address: The MMDS IPv4 address is not link local.");
    }
    config.ipv4_address = *address;
  }
  config.imds_compat = TRY(fields.optional_boolean("imds_compat")).value_or(false);
  mmds_->set_version(config.version);
  mmds_->set_address(config.ipv4_address);
  mmds_->set_imds_compat(config.imds_compat);
  mmds_config_ = std::move(config);
  return {};
}

std::string VmResources::command_line() const {
  std::string args =
      boot_source_ && boot_source_->boot_args ? *boot_source_->boot_args : base_.bootargs;
  const auto root =
      std::find_if(drives_.begin(), drives_.end(), [](const Drive& d) { return d.is_root_device; });
  // As Firecracker does: the root drive is /dev/vda, named on the command line unless the
  // boot arguments already name a root.
  const bool names_root = args.starts_with("root=") || args.find(" root=") != std::string::npos;
  if (root != drives_.end() && !names_root) {
    args += fmt::format("{}root=/dev/vda {}", args.empty() ? "" : " ",
                        root->is_read_only ? "ro" : "rw");
  }
  return args;
}

Result<VirtConfig> VmResources::virt_config() const {
  if (!boot_source_) return make_error("no boot source: PUT /boot-source first");
  VirtConfig config = base_;
  config.num_harts = static_cast<unsigned>(vcpu_count_);
  config.ram_size = static_cast<uint64_t>(mem_size_mib_) << 20;
  config.engine = engine_;
  // Checked again: a file may have changed since it was PUT.
  BootFiles files = TRY(boot_files(*boot_source_));
  config.kernel = std::move(files.kernel);
  // A boot source without initrd_path keeps `vessel run --initrd`'s (config is base_'s): the
  // Debian guest's drivers are modules, and a Firecracker client names no initrd.
  if (files.initrd) config.initrd = std::move(files.initrd);
  if (boot_source_->firmware) {
    config.builtin_sbi = *boot_source_->firmware == "builtin";
    config.firmware = std::move(files.firmware);
  }
  config.bootargs = command_line();
  if (config.bootargs.size() >= kMaxCommandLine) {
    return make_error(
        fmt::format("the kernel command line with root= added is longer than {} "
                    "bytes: shorten boot_args",
                    kMaxCommandLine - 1));
  }
  config.disks.clear();
  std::vector<const Drive*> order;
  for (const Drive& d : drives_) order.push_back(&d);
  std::stable_partition(order.begin(), order.end(),
                        [](const Drive* d) { return d->is_root_device; });
  for (const Drive* d : order) {
    const std::string path =
        TRY(files_.check("path_on_host", d->path_on_host, HostFileUse::kDisk, !d->is_read_only));
    config.disks.push_back(block::disk_of(path, d->is_read_only));
  }
  config.disks.insert(config.disks.end(), base_.disks.begin(), base_.disks.end());
  config.nets.clear();
  for (const NetworkInterface& n : nets_) {
    const bool mmds =
        mmds_config_ &&
        std::find(mmds_config_->network_interfaces.begin(), mmds_config_->network_interfaces.end(),
                  n.iface_id) != mmds_config_->network_interfaces.end();
    if (mmds && n.host_dev_name) {
      // Re-PUT as a tap after PUT /mmds/config named it.
      return make_error(fmt::format(
          "mmds-config: interface '{}' is now a tap device; Vessel serves MMDS on user-mode "
          "interfaces only",
          n.iface_id));
    }
    config.nets.push_back(n.spec);
    config.nets.back().mmds = mmds;
  }
  config.nets.insert(config.nets.end(), base_.nets.begin(), base_.nets.end());
  config.balloon = balloon_;
  config.vsock = vsock_;
  config.rng = rng_;
  config.rng_rate_limiter = rng_rate_limiter_;
  config.mmds = mmds_;
  return config;
}

nlohmann::json VmResources::full_config_json() const {
  nlohmann::json j;
  j["machine-config"] = machine_config_json();
  if (boot_source_) {
    nlohmann::json b{{"kernel_image_path", boot_source_->kernel_image_path}};
    if (boot_source_->initrd_path) b["initrd_path"] = *boot_source_->initrd_path;
    if (boot_source_->boot_args) b["boot_args"] = *boot_source_->boot_args;
    if (boot_source_->firmware) b["vessel_firmware"] = *boot_source_->firmware;
    j["boot-source"] = std::move(b);
  }
  j["drives"] = nlohmann::json::array();
  for (const Drive& d : drives_) {
    j["drives"].push_back({{"drive_id", d.drive_id},
                           {"path_on_host", d.path_on_host},
                           {"is_root_device", d.is_root_device},
                           {"is_read_only", d.is_read_only}});
  }
  j["network-interfaces"] = nlohmann::json::array();
  for (const NetworkInterface& n : nets_) j["network-interfaces"].push_back(n.to_json());
  if (balloon_) j["balloon"] = balloon_json(*balloon_);
  if (vsock_) j["vsock"] = {{"guest_cid", vsock_->guest_cid}, {"uds_path", vsock_->uds_path}};
  if (rng_) {
    j["entropy"] = nlohmann::json::object();
    if (rng_rate_limiter_.bandwidth || rng_rate_limiter_.ops) {
      j["entropy"]["rate_limiter"] = rate_limiter_json(rng_rate_limiter_);
    }
  }
  if (mmds_config_) j["mmds-config"] = mmds_config_->to_json();
  return j;
}

}  // namespace vessel::api
