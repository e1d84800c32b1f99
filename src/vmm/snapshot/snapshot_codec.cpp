#include "vmm/snapshot/snapshot_codec.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include <nlohmann/json.hpp>

#include "host/block/block_backend.hpp"
#include "host/net/slirp_state.hpp"
#include "vmm/config.hpp"

namespace vessel::snapshot {

namespace {

// The machine configuration is its JSON form (vmm/config.hpp), whose reader checks every field.
constexpr std::string_view kConfigTag = "config/3";
constexpr std::string_view kDisksTag = "disks/2";
constexpr std::string_view kNetsTag = "net/1";
constexpr size_t kMaxConfigText = 64 * 1024;  // eight devices' paths and the command line
constexpr size_t kMaxPathText = 8192;
constexpr uint32_t kMaxDevices = 8;  // the virt board's virtio slots
// The restorer's to choose (machine_config()): not part of what a snapshot describes.
constexpr const char* kEngineFields[] = {"engine", "jit_cache_bytes", "jit_threshold"};

void put_string(StateWriter& out, const std::string& s) { out.put_bytes(s.data(), s.size()); }
Result<std::string> get_string(StateReader& in, size_t max) {
  const auto bytes = TRY(in.get_bytes(max));
  return std::string(bytes.begin(), bytes.end());
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
  nlohmann::json j = machine_to_json(c);
  for (const char* field : kEngineFields) j.erase(field);
  put_string(out, j.dump());
}

Result<VirtConfig> decode_config(StateReader& in) {
  TRY_VOID(in.expect(kConfigTag));
  const std::string text = TRY(get_string(in, kMaxConfigText));
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return make_error("snapshot configuration: not JSON");
  for (const char* field : kEngineFields) {
    if (j.is_object() && j.contains(field)) {
      return make_error(fmt::format("snapshot configuration: {}: not a snapshot's", field));
    }
  }
  auto config = machine_from_json(j);
  if (!config) return make_error("snapshot configuration: " + config.error().message);
  return config;
}

void encode_disks(StateWriter& out, const std::vector<DiskRef>& disks) {
  out.begin(kDisksTag);
  out.put<uint32_t>(static_cast<uint32_t>(disks.size()));
  for (const DiskRef& d : disks) {
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
    d.base = TRY(get_string(in, kMaxPathText));
    d.size = TRY(in.get<uint64_t>());
    d.mtime_ns = TRY(in.get<uint64_t>());
    d.inode = TRY(in.get<uint64_t>());
    d.device = TRY(in.get<uint64_t>());
  }
  return out;
}

void encode_nets(StateWriter& out, const std::vector<std::vector<uint8_t>>& states) {
  out.begin(kNetsTag);
  out.put<uint32_t>(static_cast<uint32_t>(states.size()));
  for (const std::vector<uint8_t>& s : states) out.put_bytes(s.data(), s.size());
}

Result<std::vector<std::vector<uint8_t>>> decode_nets(StateReader& in,
                                                      const std::vector<NetSpec>& nets) {
  TRY_VOID(in.expect(kNetsTag));
  const auto n = TRY(in.get<uint32_t>());
  if (n > kMaxDevices) return make_error("snapshot networks: too many");
  std::vector<std::vector<uint8_t>> out(n);
  for (std::vector<uint8_t>& s : out) s = TRY(in.get_bytes(net::kMaxNetState));
  TRY_VOID(check_nets(out, nets));
  return out;
}

Result<void> check_nets(const std::vector<std::vector<uint8_t>>& states,
                        const std::vector<NetSpec>& nets) {
  if (states.size() != nets.size()) {
    return make_error(
        fmt::format("snapshot: {} networks' state for {} networks", states.size(), nets.size()));
  }
  for (size_t i = 0; i < nets.size(); ++i) {
    if (auto ok = net::check_net_state(nets[i], states[i]); !ok) {
      return make_error(fmt::format("snapshot network {}: {}", i, ok.error().message));
    }
  }
  return {};
}

Result<std::vector<DiskRef>> describe_disks(const VirtConfig& config) {
  std::vector<DiskRef> out;
  for (const block::DiskSpec& disk : config.disks) {
    DiskRef d;
    d.spec = disk;
    // A snapshot=on disk stays one: its restore writes to a temporary overlay of its own over
    // the base, which the snapshot refers to as it is.
    d.spec.path = TRY(absolute(disk.path));
    if (!disk.overlay.empty()) d.spec.overlay = TRY(absolute(disk.overlay));
    d.base = d.spec.path;
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
