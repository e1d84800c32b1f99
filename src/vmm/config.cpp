#include "vmm/config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

#include "api/firecracker/vm_resources.hpp"
#include "api/http/json_fields.hpp"
#include "host/block/nbd.hpp"

namespace vessel {

using http::JsonFields;
using nlohmann::json;

namespace {

constexpr CpuFeature kCpuFeatures[] = {
    {"h", rv::ext_bit(rv::Ext::H)},
    {"sdtrig", 0, &VirtConfig::sdtrig},
    {"sscofpmf", rv::ext_bit(rv::Ext::Sscofpmf)},
    {"sstc", 0, &VirtConfig::sstc},
    {"zba", rv::ext_bit(rv::Ext::Zba)},
    {"zbb", rv::ext_bit(rv::Ext::Zbb)},
    {"zbs", rv::ext_bit(rv::Ext::Zbs)},
    {"zicond", rv::ext_bit(rv::Ext::Zicond)},
    {"zacas", rv::ext_bit(rv::Ext::Zacas)},
    {"zcb", rv::ext_bit(rv::Ext::Zcb)},
    {"zfhmin", rv::ext_bit(rv::Ext::Zfhmin)},
    {"zicbom", rv::ext_bit(rv::Ext::Zicbom)},
    {"zicbop", rv::ext_bit(rv::Ext::Zicbop)},
    {"zicboz", rv::ext_bit(rv::Ext::Zicboz)},
    {"zihintntl", rv::ext_bit(rv::Ext::Zihintntl)},
    {"zihpm", rv::ext_bit(rv::Ext::Zihpm)},
    {"zkt", rv::ext_bit(rv::Ext::Zkt)},
    {"svinval", rv::ext_bit(rv::Ext::Svinval)},
    {"svnapot", rv::ext_bit(rv::Ext::Svnapot)},
    {"svpbmt", rv::ext_bit(rv::Ext::Svpbmt)},
};

constexpr size_t kMaxDevices = virt_map::kVirtioCount;
// A balloon's statistics interval: a day, as --balloon stats= takes.
constexpr int64_t kMaxBalloonStatsSeconds = 86400;

// A file the machine names: not empty, not longer than PATH_MAX, no control characters.
// `where` is the object's name in errors ("vsock"), empty at the top.
Result<std::string> path_field(const JsonFields& fields, std::string_view name,
                               std::string_view where = {}) {
  std::string path = TRY(fields.string(name));
  const std::string field = where.empty() ? std::string(name) : fmt::format("{}.{}", where, name);
  if (path.empty()) return make_error(fmt::format("{}: empty path", field));
  if (path.size() > api::kMaxPath || api::has_control_char(path)) {
    return make_error(fmt::format("{}: not a usable path", field));
  }
  return path;
}

Result<std::optional<std::string>> optional_path(const JsonFields& fields, std::string_view name) {
  if (!fields.has(name)) return std::optional<std::string>();
  return std::optional<std::string>(TRY(path_field(fields, name)));
}

// "where.field" for the errors of an element's own checks.
Error element_error(const std::string& where, const Error& e) {
  return Error{fmt::format("{}: {}", where, e.message)};
}

Result<const json*> array_field(const json& object, std::string_view name, size_t max) {
  const auto it = object.find(name);
  if (it == object.end() || it->is_null()) return static_cast<const json*>(nullptr);
  if (!it->is_array()) return make_error(fmt::format("{}: expected an array", name));
  if (it->size() > max) {
    return make_error(fmt::format("{}: {} entries, at most {}", name, it->size(), max));
  }
  return &*it;
}

Result<void> read_cpu_features(const json& value, VirtConfig& c) {
  if (!value.is_object()) {
    return make_error("cpu_features: expected an object of NAME: true or false");
  }
  for (const auto& [name, on] : value.items()) {
    const CpuFeature* feature = find_cpu_feature(name);
    if (feature == nullptr) {
      return make_error(fmt::format("cpu_features: unknown feature '{}' (known: {})",
                                    http::excerpt(name), cpu_feature_names()));
    }
    if (!on.is_boolean())
      return make_error(fmt::format("cpu_features.{}: expected a boolean", name));
    set_cpu_feature(c, *feature, on.get<bool>());
  }
  return {};
}

Result<void> read_firmware(const JsonFields& fields, VirtConfig& c) {
  if (!fields.has("firmware")) return {};
  const std::string firmware = TRY(path_field(fields, "firmware"));
  c.builtin_sbi = firmware == "builtin";
  c.firmware.reset();
  if (firmware != "builtin" && firmware != "none") c.firmware = firmware;
  return {};
}

Result<void> read_memory(const JsonFields& fields, VirtConfig& c) {
  if (fields.has("memory_mib") && fields.has("memory_bytes")) {
    return make_error("memory_mib and memory_bytes exclude each other");
  }
  if (auto mib = TRY(fields.optional_integer("memory_mib", kMinRam >> 20, kMaxRam >> 20))) {
    c.ram_size = static_cast<uint64_t>(*mib) << 20;
  }
  if (auto bytes = TRY(fields.optional_integer("memory_bytes", kMinRam, kMaxRam))) {
    c.ram_size = static_cast<uint64_t>(*bytes);
  }
  return {};
}

Result<void> read_engine(const JsonFields& fields, VirtConfig& c) {
  if (auto engine = TRY(fields.optional_string("engine"))) {
    c.engine = TRY(api::parse_engine_field("engine", *engine));
  }
  if (auto bytes = TRY(fields.optional_integer("jit_cache_bytes", rv::kMinJitCacheBytes,
                                               rv::kMaxJitCacheBytes))) {
    c.jit_cache_bytes = static_cast<uint64_t>(*bytes);
  }
  if (auto runs = TRY(fields.optional_integer("jit_threshold", 1, rv::kMaxJitThreshold))) {
    c.jit_threshold = static_cast<unsigned>(*runs);
  }
  return {};
}

Result<void> read_devices(const json& object, const JsonFields& fields, VirtConfig& c) {
  if (fields.has("disks")) {
    c.disks.clear();
    const json* disks = TRY(array_field(object, "disks", kMaxDevices));
    for (size_t i = 0; disks != nullptr && i < disks->size(); ++i) {
      c.disks.push_back(TRY(disk_from_json((*disks)[i], fmt::format("disks[{}]", i))));
    }
  }
  if (fields.has("nets")) {
    c.nets.clear();
    const json* nets = TRY(array_field(object, "nets", kMaxDevices));
    for (size_t i = 0; nets != nullptr && i < nets->size(); ++i) {
      c.nets.push_back(TRY(net_from_json((*nets)[i], fmt::format("nets[{}]", i))));
    }
  }
  if (fields.has("virtio_console"))
    c.virtio_console_socket = TRY(path_field(fields, "virtio_console"));
  if (auto rng = TRY(fields.optional_boolean("rng"))) c.rng = *rng;
  if (const json* limiter = TRY(fields.optional_object("rng_rate_limiter"))) {
    c.rng_rate_limiter = TRY(api::parse_rate_limiter(*limiter, "rng_rate_limiter"));
  }
  if (const json* b = TRY(fields.optional_object("balloon"))) {
    const auto bf = TRY(JsonFields::read_object(
        *b, "balloon", {"amount_mib", "deflate_on_oom", "stats_polling_interval_s"}));
    virtio::BalloonConfig balloon;
    balloon.amount_mib =
        static_cast<uint32_t>(TRY(bf.optional_integer("amount_mib", 0, kMaxRam >> 20)).value_or(0));
    balloon.deflate_on_oom = TRY(bf.optional_boolean("deflate_on_oom")).value_or(false);
    balloon.stats_interval_s = static_cast<unsigned>(
        TRY(bf.optional_integer("stats_polling_interval_s", 0, kMaxBalloonStatsSeconds))
            .value_or(0));
    c.balloon = balloon;
  }
  if (const json* v = TRY(fields.optional_object("vsock"))) {
    const auto vf = TRY(JsonFields::read_object(*v, "vsock", {"guest_cid", "uds_path"}));
    virtio::VsockConfig vsock;
    vsock.guest_cid = static_cast<uint32_t>(
        TRY(vf.integer("guest_cid", static_cast<int64_t>(virtio::kMinGuestCid),
                       static_cast<int64_t>(virtio::kMaxGuestCid))));
    vsock.uds_path = TRY(path_field(vf, "uds_path", "vsock"));
    c.vsock = vsock;
  }
  const size_t devices = c.disks.size() + c.nets.size() + (c.virtio_console_socket ? 1 : 0) +
                         (c.rng ? 1 : 0) + (c.balloon ? 1 : 0) + (c.vsock ? 1 : 0);
  if (devices > kMaxDevices) {
    return make_error(fmt::format(
        "disks, nets, virtio_console, rng, balloon and vsock: {} virtio devices, the board has {} "
        "slots",
        devices, kMaxDevices));
  }
  return {};
}

}  // namespace

const char* accel_name(Accel accel) { return accel == Accel::kKvm ? "kvm" : "tcg"; }

std::span<const CpuFeature> cpu_features() { return kCpuFeatures; }

std::string cpu_feature_names() {
  std::string known;
  for (const CpuFeature& f : kCpuFeatures)
    known += (known.empty() ? "" : ", ") + std::string(f.name);
  return known;
}

const CpuFeature* find_cpu_feature(std::string_view name) {
  const auto* f = std::find_if(std::begin(kCpuFeatures), std::end(kCpuFeatures),
                               [&](const CpuFeature& x) { return name == x.name; });
  return f == std::end(kCpuFeatures) ? nullptr : f;
}

bool cpu_feature_on(const VirtConfig& config, const CpuFeature& feature) {
  if (feature.flag != nullptr) return config.*feature.flag;
  return (config.extensions & feature.extension) != 0;
}

void set_cpu_feature(VirtConfig& config, const CpuFeature& feature, bool on) {
  if (feature.flag != nullptr) {
    config.*feature.flag = on;
  } else if (on) {
    config.extensions |= feature.extension;
  } else {
    config.extensions &= ~feature.extension;
  }
}

json disk_to_json(const block::DiskSpec& d) {
  json j{{"path", d.path}, {"readonly", d.read_only}};
  if (!d.overlay.empty()) j["overlay"] = d.overlay;
  if (d.format_stated) j["format"] = "raw";
  if (d.snapshot) j["snapshot"] = true;
  if (block::is_nbd_uri(d.path)) j["timeout_s"] = d.timeout_seconds;
  return j;
}

Result<block::DiskSpec> disk_from_json(const json& value, const std::string& where) {
  const auto fields = TRY(JsonFields::read_object(
      value, where, {"path", "readonly", "overlay", "format", "snapshot", "timeout_s"}));
  block::DiskSpec d;
  // Paths are taken whole: a comma is a character like another (the command line's ",,").
  d.path = TRY(path_field(fields, "path", where));
  d.read_only = TRY(fields.optional_boolean("readonly")).value_or(false);
  if (fields.has("overlay")) d.overlay = TRY(path_field(fields, "overlay", where));
  if (const auto format = TRY(fields.optional_string("format"))) {
    if (*format != "raw") {
      return make_error(fmt::format("{}.format: '{}' is not one Vessel reads (only \"raw\")", where,
                                    http::excerpt(*format)));
    }
    d.format_stated = true;
  }
  d.snapshot = TRY(fields.optional_boolean("snapshot")).value_or(false);
  d.timeout_seconds = static_cast<unsigned>(
      TRY(fields.optional_integer("timeout_s", 1, block::kMaxDiskTimeoutSeconds))
          .value_or(d.timeout_seconds));
  if (auto ok = block::check_disk_spec(d); !ok) return element_error(where, ok.error());
  return d;
}

json net_to_json(const NetSpec& n) {
  json j;
  if (n.kind == NetSpec::Kind::kTap) {
    j = {{"type", "tap"}, {"ifname", n.ifname}};
  } else {
    json rules = json::array();
    for (const HostForward& f : n.hostfwd) rules.push_back(f.rule());
    j = {{"type", "user"},
         {"hostfwd", std::move(rules)},
         {"restrict", n.restricted},
         {"loopback", n.host_loopback},
         {"mmds", n.mmds}};
  }
  if (n.mac) j["mac"] = format_mac(*n.mac);
  return j;
}

Result<NetSpec> net_from_json(const json& value, const std::string& where) {
  const auto fields = TRY(JsonFields::read_object(
      value, where, {"type", "hostfwd", "restrict", "loopback", "mmds", "ifname", "mac"}));
  NetSpec n;
  const std::string type = TRY(fields.string("type"));
  const auto field = [&](std::string_view f) { return fmt::format("{}.{}", where, f); };
  if (type == "tap") {
    n.kind = NetSpec::Kind::kTap;
    n.ifname = TRY(fields.string("ifname"));
    for (const char* user_only : {"hostfwd", "restrict", "loopback", "mmds"}) {
      if (fields.has(user_only)) {
        return make_error(fmt::format("{}: a user network's, not a tap's", field(user_only)));
      }
    }
  } else if (type == "user") {
    if (fields.has("ifname"))
      return make_error(fmt::format("{}: a tap's, not a user network's", field("ifname")));
    const auto rules = TRY(fields.optional_strings("hostfwd")).value_or(std::vector<std::string>{});
    for (const std::string& rule : rules) {
      auto fwd = parse_hostfwd(rule);
      if (!fwd) return make_error(fmt::format("{}: {}", field("hostfwd"), fwd.error().message));
      n.hostfwd.push_back(*fwd);
    }
    n.restricted = TRY(fields.optional_boolean("restrict")).value_or(false);
    n.host_loopback = TRY(fields.optional_boolean("loopback")).value_or(true);
    n.mmds = TRY(fields.optional_boolean("mmds")).value_or(false);
  } else {
    return make_error(
        fmt::format("{}: '{}' is not \"user\" or \"tap\"", field("type"), http::excerpt(type)));
  }
  if (auto mac = TRY(fields.optional_string("mac"))) {
    auto parsed = parse_mac(*mac);
    if (!parsed) return make_error(fmt::format("{}: {}", field("mac"), parsed.error().message));
    n.mac = *parsed;
  }
  if (auto ok = check_net_spec(n); !ok) return element_error(where, ok.error());
  return n;
}

json machine_to_json(const VirtConfig& c) {
  json j = json::object();
  if (c.ram_size % (1 << 20) == 0) {
    j["memory_mib"] = c.ram_size >> 20;
  } else {
    j["memory_bytes"] = c.ram_size;
  }
  j["cpus"] = c.num_harts;
  j["firmware"] = c.builtin_sbi ? "builtin" : c.firmware.value_or("none");
  if (c.kernel) j["kernel"] = *c.kernel;
  if (c.initrd) j["initrd"] = *c.initrd;
  j["append"] = c.bootargs;
  j["disks"] = json::array();
  for (const block::DiskSpec& d : c.disks) j["disks"].push_back(disk_to_json(d));
  j["nets"] = json::array();
  for (const NetSpec& n : c.nets) j["nets"].push_back(net_to_json(n));
  if (c.virtio_console_socket) j["virtio_console"] = *c.virtio_console_socket;
  j["rng"] = c.rng;
  if (c.rng_rate_limiter.bandwidth || c.rng_rate_limiter.ops) {
    j["rng_rate_limiter"] = api::rate_limiter_json(c.rng_rate_limiter);
  }
  if (c.balloon) {
    j["balloon"] = {{"amount_mib", c.balloon->amount_mib},
                    {"deflate_on_oom", c.balloon->deflate_on_oom},
                    {"stats_polling_interval_s", c.balloon->stats_interval_s}};
  }
  if (c.vsock) j["vsock"] = {{"guest_cid", c.vsock->guest_cid}, {"uds_path", c.vsock->uds_path}};
  j["engine"] = rv::engine_name(c.engine);
  j["jit_cache_bytes"] = c.jit_cache_bytes;
  j["jit_threshold"] = c.jit_threshold;
  j["cpu_features"] = json::object();
  for (const CpuFeature& f : kCpuFeatures) j["cpu_features"][f.name] = cpu_feature_on(c, f);
  return j;
}

Result<VirtConfig> machine_from_json(const json& object, const VirtConfig& defaults) {
  const std::optional<json> body(object);  // JsonFields keeps a pointer into it
  const auto fields = TRY(JsonFields::read(
      body, {"memory_mib", "memory_bytes", "cpus", "firmware", "kernel", "initrd", "append",
             "disks", "nets", "virtio_console", "rng", "rng_rate_limiter", "balloon", "vsock",
             "engine", "jit_cache_bytes", "jit_threshold", "cpu_features"}));
  VirtConfig c = defaults;
  TRY_VOID(read_memory(fields, c));
  if (auto cpus = TRY(fields.optional_integer("cpus", 1, kMaxHarts))) {
    c.num_harts = static_cast<unsigned>(*cpus);
  }
  TRY_VOID(read_firmware(fields, c));
  if (auto kernel = TRY(optional_path(fields, "kernel"))) c.kernel = std::move(kernel);
  if (auto initrd = TRY(optional_path(fields, "initrd"))) c.initrd = std::move(initrd);
  if (auto append = TRY(fields.optional_string("append"))) {
    if (append->size() >= api::kMaxPath) {
      return make_error(
          fmt::format("append: {} bytes, at most {}", append->size(), api::kMaxPath - 1));
    }
    if (api::has_control_char(*append)) return make_error("append: contains a control character");
    c.bootargs = std::move(*append);
  }
  TRY_VOID(read_devices(object, fields, c));
  TRY_VOID(read_engine(fields, c));
  if (const json* features = TRY(fields.optional_object("cpu_features"))) {
    TRY_VOID(read_cpu_features(*features, c));
  }
  if (auto ok = check_machine_size(c, {"memory", "cpus"}); !ok) return ok.take_error();
  if (c.balloon && (uint64_t{c.balloon->amount_mib} << 20) > c.ram_size) {
    return make_error(fmt::format("balloon.amount_mib: {} is more than the guest's memory ({})",
                                  c.balloon->amount_mib, format_size(c.ram_size)));
  }
  return c;
}

json to_json(const VmConfig& config) {
  json j = machine_to_json(config.machine);
  j["accel"] = accel_name(config.accel);
  return j;
}

Result<VmConfig> vm_config_from_json(const json& object, const VmConfig& defaults) {
  VmConfig c = defaults;
  json machine = object;
  if (machine.is_object() && machine.contains("accel")) {
    const json accel = machine["accel"];
    machine.erase("accel");
    if (!accel.is_null()) {
      if (accel == "kvm") {
        c.accel = Accel::kKvm;
      } else if (accel == "tcg") {
        c.accel = Accel::kTcg;
      } else {
        return make_error(
            fmt::format("accel: {} is not \"tcg\" or \"kvm\"", http::excerpt(accel.dump())));
      }
    }
  }
  c.machine = TRY(machine_from_json(machine, defaults.machine));
  return c;
}

}  // namespace vessel
