#include "daemon/snapshot_store.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "api/http/json_fields.hpp"
#include "base/files.hpp"
#include "base/unique_fd.hpp"
#include "daemon/state_dir.hpp"
#include "host/block/block_backend.hpp"
#include "host/block/overlay.hpp"
#include "host/net/net_option.hpp"
#include "vmm/snapshot/snapshot.hpp"
#include "vmm/snapshot/snapshot_file.hpp"

namespace vessel::daemon {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::string_view kTmpPrefix = ".tmp-";
constexpr const char* kInfoFile = "info.json";
constexpr size_t kMaxInfo = 1 << 20;

// The data ranges of `in` into `out` (both at the same offsets; holes stay holes).
Result<void> copy_data(int in, int out, uint64_t size, const std::string& from) {
  off_t at = 0;
  while (static_cast<uint64_t>(at) < size) {
    off_t data = lseek(in, at, SEEK_DATA);
    if (data < 0) break;  // ENXIO: only a hole is left
    off_t hole = lseek(in, data, SEEK_HOLE);
    if (hole < 0) return make_error(fmt::format("{}: {}", from, errno_text()));
    for (off_t src = data, dst = data; src < hole;) {
      const ssize_t n = copy_file_range(in, &src, out, &dst, static_cast<size_t>(hole - src), 0);
      if (n <= 0) return make_error(fmt::format("{}: cannot copy: {}", from, errno_text()));
    }
    at = hole;
  }
  return {};
}

// A copy of `from` at `to` (which must not exist), shared extents where the file system can
// (FICLONE), else its data ranges; synced.
Result<void> copy_file(const std::string& from, const std::string& to, mode_t mode = 0600) {
  UniqueFd in(open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) return make_error(fmt::format("{}: {}", from, errno_text()));
  struct stat st {};
  if (fstat(in.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return make_error(fmt::format("{}: not a regular file (a snapshot copies disk files)", from));
  }
  UniqueFd out(open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (out.get() >= 0) fchmod(out.get(), mode);  // whatever the umask
  if (out.get() < 0) return make_error(fmt::format("{}: {}", to, errno_text()));
  if (ioctl(out.get(), FICLONE, in.get()) != 0) {
    if (ftruncate(out.get(), st.st_size) != 0) {
      return make_error(fmt::format("{}: {}", to, errno_text()));
    }
    TRY_VOID(copy_data(in.get(), out.get(), static_cast<uint64_t>(st.st_size), from));
  }
  if (fsync(out.get()) != 0) return make_error(fmt::format("{}: {}", to, errno_text()));
  return {};
}

uint64_t allocated_bytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    struct stat st {};
    if (lstat(entry.path().c_str(), &st) == 0) total += static_cast<uint64_t>(st.st_blocks) * 512;
  }
  return total;
}

// The snapshot's disks as info.json records them: each writable disk frozen into `tmp` as
// diskN.img (a copy of the disk) or diskN.overlay (a copy of its overlay, over the same base);
// read-only disks without an overlay are shared as they are.
Result<json> freeze_disks(const snapshot::Loaded& loaded, const std::string& tmp) {
  json disks = json::array();
  for (size_t i = 0; i < loaded.disks.size(); ++i) {
    const block::DiskSpec& spec = loaded.disks[i].spec;
    json d{{"readonly", spec.read_only}, {"format_raw", spec.format_stated}};
    if (!spec.overlay.empty()) {
      d["kind"] = "overlay";
      d["base"] = spec.path;
      d["file"] = fmt::format("disk{}.overlay", i);
    } else if (spec.read_only) {
      d["kind"] = "shared";
      d["base"] = spec.path;
    } else {
      d["kind"] = "copy";
      d["file"] = fmt::format("disk{}.img", i);
    }
    if (d.contains("file")) {
      const std::string& source = spec.overlay.empty() ? spec.path : spec.overlay;
      // A frozen disk is the read-only base of the VMs run from the snapshot: a jailed one
      // (another uid, the file bound in read-only) must be able to read it.
      TRY_VOID(copy_file(source, tmp + "/" + d["file"].get<std::string>(),
                         spec.overlay.empty() ? 0644 : 0600));
    }
    disks.push_back(std::move(d));
  }
  return disks;
}

Result<std::string> info_string(const json& info, const char* key) {
  if (!info.contains(key) || !info[key].is_string()) {
    return make_error(fmt::format("info.json: no \"{}\"", key));
  }
  return info[key].get<std::string>();
}

json entry_of(const std::string& dir, json info) {
  info["size_bytes"] = allocated_bytes(dir);
  struct stat st {};
  if (stat((dir + "/" + snapshot::kMemoryFileName).c_str(), &st) == 0) {
    info["memory_bytes"] = static_cast<uint64_t>(st.st_size);
  }
  return info;
}

// One disk of a VM about to run the snapshot at `snap_dir`, as its definition names it.
Result<block::DiskSpec> restore_disk(const json& d, size_t index, const std::string& snap_dir,
                                     const VmPaths& vm) {
  const std::string kind = TRY(info_string(d, "kind"));
  block::DiskSpec def;
  def.read_only = d.value("readonly", false);
  def.format_stated = d.value("format_raw", false);
  const std::string overlay = fmt::format("{}/disk{}.overlay", vm.dir, index);
  if (kind == "shared") {
    def.path = TRY(info_string(d, "base"));
  } else if (kind == "copy" || kind == "overlay") {
    const std::string file = TRY(info_string(d, "file"));
    if (file.find('/') != std::string::npos) return make_error("info.json: a disk file has a '/'");
    std::error_code ec;
    fs::remove(overlay, ec);
    def.overlay = overlay;
    if (kind == "overlay") {
      def.path = TRY(info_string(d, "base"));
      TRY_VOID(copy_file(snap_dir + "/" + file, overlay));
    } else {
      def.path = snap_dir + "/" + file;
      UniqueFd base(open(def.path.c_str(), O_RDONLY | O_CLOEXEC));
      struct stat st {};
      if (base.get() < 0 || fstat(base.get(), &st) != 0) {
        return make_error(fmt::format("{}: {}", def.path, errno_text()));
      }
      auto id = TRY(
          block::overlay::identify_base(base.get(), def.path, static_cast<uint64_t>(st.st_size)));
      TRY_VOID(block::overlay::create(overlay, id));
    }
  } else {
    return make_error(fmt::format("info.json: unknown kind of disk '{}'", kind));
  }
  return def;
}

}  // namespace

Result<void> check_snapshot_name(std::string_view name) {
  const bool ok =
      !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
      });
  if (ok) return {};
  return make_error(
      fmt::format("snapshot name '{}': 1 to 64 characters of A-Z, a-z, 0-9, '_' and '-'",
                  http::excerpt(name, 70)));
}

std::string default_snapshot_name(const std::string& vm) {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%S", &tm);
  return vm + "-" + buf;
}

std::string snapshots_root(const std::string& state_dir) { return state_dir + "/snapshots"; }

Result<json> store_snapshot(const std::string& state_dir, const std::string& snap,
                            const std::string& staging, json info) {
  const std::string root = snapshots_root(state_dir);
  const std::string final_dir = root + "/" + snap;
  const std::string tmp = root + "/" + std::string(kTmpPrefix) + snap;
  if (mkdir(root.c_str(), 0700) != 0 && errno != EEXIST) {
    return make_error(fmt::format("{}: cannot create: {}", root, errno_text()));
  }
  if (access(final_dir.c_str(), F_OK) == 0) {
    return make_error(fmt::format("snapshot '{}' exists", snap));
  }
  std::error_code ec;
  fs::remove_all(tmp, ec);
  if (mkdir(tmp.c_str(), 0700) != 0) {
    return make_error(fmt::format("{}: cannot create: {}", tmp, errno_text()));
  }
  auto done = [&]() -> Result<json> {
    const std::string state = staging + "/" + snapshot::kStateFileName;
    auto loaded = snapshot::load(state, staging + "/" + snapshot::kMemoryFileName);
    if (!loaded) return loaded.take_error();
    info["disks"] = TRY(freeze_disks(*loaded, tmp));
    info["name"] = snap;
    info["memory_mib"] = loaded->memory_size >> 20;
    info["cpus"] = loaded->config.num_harts;
    for (const char* f : {snapshot::kStateFileName, snapshot::kMemoryFileName}) {
      if (rename((staging + "/" + f).c_str(), (tmp + "/" + f).c_str()) != 0) {
        return make_error(fmt::format("{}/{}: cannot move: {}", staging, f, errno_text()));
      }
    }
    TRY_VOID(write_file_atomically(tmp + "/" + kInfoFile, info.dump(2) + "\n", 0600));
    TRY_VOID(fsync_directory(tmp));
    crash_point("snapshot");
    if (renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, final_dir.c_str(), RENAME_NOREPLACE) != 0) {
      return make_error(fmt::format("{}: cannot create: {}", final_dir, errno_text()));
    }
    TRY_VOID(fsync_directory(root));
    return entry_of(final_dir, std::move(info));
  };
  auto out = done();
  if (!out) fs::remove_all(tmp, ec);
  return out;
}

json list_snapshots(const std::string& state_dir, const std::optional<std::string>& vm) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(snapshots_root(state_dir), ec)) {
    const std::string name = entry.path().filename().string();
    if (check_snapshot_name(name)) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  json out = json::array();
  for (const std::string& name : names) {
    auto s = read_snapshot(state_dir, name);
    if (s && (!vm || s->value("vm", "") == *vm)) out.push_back(std::move(*s));
  }
  return out;
}

Result<json> read_snapshot(const std::string& state_dir, const std::string& snap) {
  const std::string dir = snapshots_root(state_dir) + "/" + snap;
  auto text = read_small_file(dir + "/" + kInfoFile, kMaxInfo);
  if (!text) { return make_error(fmt::format("snapshot '{}': no such snapshot", snap)); }
  json info = json::parse(*text, nullptr, false);
  if (!info.is_object()) {
    return make_error(
        fmt::format("snapshot '{}': {}/{} is not a JSON object", snap, dir, kInfoFile));
  }
  return entry_of(dir, std::move(info));
}

Result<std::vector<block::DiskSpec>> prepare_restore(const std::string& state_dir,
                                                     const std::string& snap, const VmPaths& vm,
                                                     const std::vector<NetSpec>& nets) {
  const std::string snap_dir = snapshots_root(state_dir) + "/" + snap;
  const json info = TRY(read_snapshot(state_dir, snap));
  auto bytes =
      TRY(read_small_file(snap_dir + "/" + snapshot::kStateFileName, snapshot::kMaxStateFile));
  if (!info.contains("disks") || !info["disks"].is_array()) {
    return make_error(fmt::format("snapshot '{}': info.json has no disks", snap));
  }
  std::vector<block::DiskSpec> disks;
  for (size_t i = 0; i < info["disks"].size(); ++i) {
    disks.push_back(TRY(restore_disk(info["disks"][i], i, snap_dir, vm)));
  }
  auto rebound =
      snapshot::rebind(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), disks, nets);
  if (!rebound) return make_error(fmt::format("snapshot '{}': {}", snap, rebound.error().message));
  const std::string dir = restore_dir(vm);
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (mkdir(dir.c_str(), 0700) != 0) {
    return make_error(fmt::format("{}: cannot create: {}", dir, errno_text()));
  }
  TRY_VOID(write_file_atomically(
      dir + "/" + snapshot::kStateFileName,
      std::string_view(reinterpret_cast<const char*>(rebound->data()), rebound->size()), 0600));
  const std::string memory = dir + "/" + snapshot::kMemoryFileName;
  if (symlink((snap_dir + "/" + snapshot::kMemoryFileName).c_str(), memory.c_str()) != 0) {
    return make_error(fmt::format("{}: cannot create: {}", memory, errno_text()));
  }
  return disks;
}

Result<std::vector<NetSpec>> replace_hostfwd(const std::vector<NetSpec>& nets,
                                             const std::vector<std::string>& hostfwd) {
  std::vector<HostForward> rules;
  for (const std::string& rule : hostfwd) {
    auto fwd = parse_hostfwd(rule);
    if (!fwd) return make_error(fmt::format("hostfwd: {}", fwd.error().message));
    rules.push_back(*fwd);
  }
  std::vector<NetSpec> out = nets;
  bool placed = rules.empty();
  for (NetSpec& net : out) {
    if (net.kind != NetSpec::Kind::kUser) continue;
    net.hostfwd.clear();
    if (!placed) {
      net.hostfwd = rules;
      placed = true;
    }
  }
  if (!placed) return make_error("hostfwd: the VM has no user network to forward ports to");
  return out;
}

std::vector<std::string> clean_interrupted_snapshots(const std::string& state_dir) {
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(snapshots_root(state_dir), ec)) {
    const std::string file = entry.path().filename().string();
    if (!file.starts_with(kTmpPrefix)) continue;
    std::error_code rm;
    fs::remove_all(entry.path(), rm);
    found.push_back(fmt::format(
        "snapshot '{}': it was interrupted (a daemon ended midway); {}",
        file.substr(kTmpPrefix.size()),
        rm ? "could not remove the leftover " + entry.path().string() + ": " + rm.message()
           : "removed the leftover (the snapshot was never made)"));
  }
  return found;
}

}  // namespace vessel::daemon
