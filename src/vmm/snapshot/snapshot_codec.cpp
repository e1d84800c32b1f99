#include "vmm/snapshot/snapshot_codec.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "host/block/block_backend.hpp"

namespace vessel::snapshot {

namespace {

constexpr std::string_view kConfigTag = "config/2";
constexpr std::string_view kDisksTag = "disks/1";
constexpr size_t kMaxText = 8192;    // a path, the kernel command line, an option
constexpr uint32_t kMaxDevices = 8;  // the virt board's virtio slots

void put_string(StateWriter& out, const std::string& s) { out.put_bytes(s.data(), s.size()); }
void put_optional(StateWriter& out, const std::optional<std::string>& s) {
  out.put<uint8_t>(s ? 1 : 0);
  if (s) put_string(out, *s);
}
Result<std::string> get_string(StateReader& in) {
  const auto bytes = TRY(in.get_bytes(kMaxText));
  return std::string(bytes.begin(), bytes.end());
}
Result<std::optional<std::string>> get_optional(StateReader& in) {
  const auto present = TRY(in.get<uint8_t>());
  if (present > 1) return make_error("snapshot configuration: bad flag");
  if (present == 0) return std::optional<std::string>();
  return std::optional<std::string>(TRY(get_string(in)));
}
Result<bool> get_bool(StateReader& in) {
  const auto v = TRY(in.get<uint8_t>());
  if (v > 1) return make_error("snapshot configuration: bad flag");
  return v != 0;
}
void put_list(StateWriter& out, const std::vector<std::string>& list) {
  out.put<uint32_t>(static_cast<uint32_t>(list.size()));
  for (const std::string& s : list) put_string(out, s);
}
Result<std::vector<std::string>> get_list(StateReader& in) {
  const auto n = TRY(in.get<uint32_t>());
  if (n > kMaxDevices) return make_error("snapshot configuration: too many devices");
  std::vector<std::string> out;
  for (uint32_t i = 0; i < n; ++i) out.push_back(TRY(get_string(in)));
  return out;
}

// ",," stands for a comma inside a --disk field.
std::string escape_commas(const std::string& s) {
  std::string out;
  for (char c : s) {
    out += c;
    if (c == ',') out += ',';
  }
  return out;
}

Result<std::string> absolute(const std::string& path) {
  char buf[PATH_MAX];
  if (realpath(path.c_str(), buf) == nullptr) {
    return make_error(fmt::format("disk {}: {}", path, std::strerror(errno)));
  }
  return std::string(buf);
}

}  // namespace

void encode_config(StateWriter& out, const VirtConfig& c) {
  out.begin(kConfigTag);
  out.put<uint64_t>(c.ram_size);
  out.put<uint32_t>(c.num_harts);
  put_optional(out, c.firmware);
  out.put<uint8_t>(c.builtin_sbi ? 1 : 0);
  put_optional(out, c.kernel);
  put_optional(out, c.initrd);
  put_string(out, c.bootargs);
  out.put<uint8_t>(c.sstc ? 1 : 0);
  out.put<uint8_t>(c.sdtrig ? 1 : 0);
  out.put<uint32_t>(c.extensions);
  put_list(out, c.disks);
  put_list(out, c.nets);
  put_optional(out, c.virtio_console);
  out.put<uint8_t>(c.rng ? 1 : 0);
  out.put<uint8_t>(c.balloon ? 1 : 0);
  if (c.balloon) {
    out.put<uint32_t>(c.balloon->amount_mib);
    out.put<uint8_t>(c.balloon->deflate_on_oom ? 1 : 0);
    out.put<uint32_t>(c.balloon->stats_interval_s);
  }
}

Result<VirtConfig> decode_config(StateReader& in) {
  TRY_VOID(in.expect(kConfigTag));
  VirtConfig c;
  c.ram_size = TRY(in.get<uint64_t>());
  c.num_harts = TRY(in.get<uint32_t>());
  c.firmware = TRY(get_optional(in));
  c.builtin_sbi = TRY(get_bool(in));
  c.kernel = TRY(get_optional(in));
  c.initrd = TRY(get_optional(in));
  c.bootargs = TRY(get_string(in));
  c.sstc = TRY(get_bool(in));
  c.sdtrig = TRY(get_bool(in));
  c.extensions = TRY(in.get<uint32_t>());
  c.disks = TRY(get_list(in));
  c.nets = TRY(get_list(in));
  c.virtio_console = TRY(get_optional(in));
  c.rng = TRY(get_bool(in));
  if (TRY(get_bool(in))) {
    // The boot target only sizes the device (its saved state has the current one); a day's
    // interval is the longest --balloon stats= takes.
    virtio::BalloonConfig b;
    b.amount_mib = TRY(in.get<uint32_t>());
    b.deflate_on_oom = TRY(get_bool(in));
    b.stats_interval_s = TRY(in.get<uint32_t>());
    if (b.stats_interval_s > 86400)
      return make_error("snapshot configuration: balloon statistics interval out of range");
    c.balloon = b;
  }
  if (auto ok = check_machine_size(c); !ok) {
    return make_error("snapshot configuration: " + ok.error().message);
  }
  return c;
}

void encode_disks(StateWriter& out, const std::vector<DiskRef>& disks) {
  out.begin(kDisksTag);
  out.put<uint32_t>(static_cast<uint32_t>(disks.size()));
  for (const DiskRef& d : disks) {
    put_string(out, d.option);
    put_string(out, d.base);
    out.put(d.size);
    out.put(d.mtime_ns);
    out.put(d.inode);
    out.put(d.device);
  }
}

Result<std::vector<DiskRef>> decode_disks(StateReader& in) {
  TRY_VOID(in.expect(kDisksTag));
  const auto n = TRY(in.get<uint32_t>());
  if (n > kMaxDevices) return make_error("snapshot disks: too many");
  std::vector<DiskRef> out(n);
  for (DiskRef& d : out) {
    d.option = TRY(get_string(in));
    d.base = TRY(get_string(in));
    d.size = TRY(in.get<uint64_t>());
    d.mtime_ns = TRY(in.get<uint64_t>());
    d.inode = TRY(in.get<uint64_t>());
    d.device = TRY(in.get<uint64_t>());
    // The option must be one --disk takes, naming the base it says.
    auto spec = block::parse_disk_option(d.option);
    if (!spec || spec->path != d.base) return make_error("snapshot disks: a malformed disk");
  }
  return out;
}

Result<std::vector<DiskRef>> describe_disks(const VirtConfig& config) {
  std::vector<DiskRef> out;
  for (const std::string& text : config.disks) {
    block::DiskSpec spec = TRY(block::parse_disk_option(text));
    DiskRef d;
    d.base = TRY(absolute(spec.path));
    d.option = escape_commas(d.base);
    if (spec.read_only) d.option += ",readonly";
    if (!spec.overlay.empty()) d.option += ",overlay=" + escape_commas(TRY(absolute(spec.overlay)));
    if (spec.format_stated) d.option += ",format=raw";
    struct stat st {};
    if (stat(d.base.c_str(), &st) != 0) {
      return make_error(fmt::format("disk {}: {}", d.base, std::strerror(errno)));
    }
    d.size = static_cast<uint64_t>(st.st_size);
    d.mtime_ns = static_cast<uint64_t>(st.st_mtim.tv_sec) * 1'000'000'000ULL +
                 static_cast<uint64_t>(st.st_mtim.tv_nsec);
    d.inode = st.st_ino;
    d.device = st.st_dev;
    out.push_back(std::move(d));
  }
  return out;
}

Result<void> check_disk(const DiskRef& disk) {
  struct stat st {};
  if (stat(disk.base.c_str(), &st) != 0) {
    return make_error(fmt::format("disk {}: {}", disk.base, std::strerror(errno)));
  }
  const uint64_t mtime = static_cast<uint64_t>(st.st_mtim.tv_sec) * 1'000'000'000ULL +
                         static_cast<uint64_t>(st.st_mtim.tv_nsec);
  const char* what = static_cast<uint64_t>(st.st_size) != disk.size ? "its size"
                     : st.st_ino != disk.inode || st.st_dev != disk.device
                         ? "its inode (another file)"
                     : mtime != disk.mtime_ns ? "its modification time"
                                              : nullptr;
  if (what != nullptr) {
    return make_error(
        fmt::format("disk {} changed since the snapshot ({} differs)", disk.base, what));
  }
  return {};
}

}  // namespace vessel::snapshot
