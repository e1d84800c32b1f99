// The jail's cgroup: the VM's memory (its RAM and Vessel's overhead) and CPU time (its harts)
// as limits. cgroup v2 where its unified hierarchy has the memory and cpu controllers, else
// cgroup v1's memory and cpu hierarchies (a hybrid host, as Debian 12 under some container
// runtimes is); Firecracker's jailer likewise takes either (--cgroup-version).
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>

#include "vmm/jail.hpp"

namespace vessel::jail {

namespace {

constexpr uint64_t kCpuPeriodUs = 100000;

struct Hierarchy {
  std::string mount;  // where it is mounted
  std::string own;    // this process's cgroup in it
  bool found() const { return !mount.empty(); }
  std::string dir() const { return own == "/" ? mount : mount + own; }
};

// Whether the comma list `list` holds `item`.
bool in_list(std::string_view list, std::string_view item) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    if (list.substr(0, comma) == item) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

std::string read_text(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

Result<void> write_text(const std::string& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
  f.flush();
  if (!f) return make_error(fmt::format("--jail: cgroup: cannot write '{}' to {}", text, path));
  return {};
}

// The cgroup v2 hierarchy, or the v1 one with `controller` among its options.
Hierarchy find_hierarchy(const std::string& controller) {
  Hierarchy h;
  std::istringstream mounts(read_text("/proc/self/mountinfo"));
  for (std::string line; std::getline(mounts, line);) {
    // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS ... - FSTYPE SOURCE SUPEROPTIONS
    std::istringstream fields(line);
    std::string id, parent, dev, root, point, word;
    fields >> id >> parent >> dev >> root >> point;
    while (fields >> word && word != "-") {}
    std::string fstype, source, super;
    fields >> fstype >> source >> super;
    const bool v2 = controller.empty() && fstype == "cgroup2";
    const bool v1 = !controller.empty() && fstype == "cgroup" && in_list(super, controller);
    if (v2 || v1) h.mount = point;
  }
  std::istringstream own(read_text("/proc/self/cgroup"));
  for (std::string line; std::getline(own, line);) {
    // N:CONTROLLERS:PATH; v2's CONTROLLERS is empty.
    const size_t a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    const std::string_view list = std::string_view(line).substr(a + 1, b - a - 1);
    if (controller.empty() ? list.empty() : in_list(list, controller)) h.own = line.substr(b + 1);
  }
  if (h.own.empty()) h.mount.clear();
  return h;
}

bool v2_has(const Hierarchy& v2, const char* controller) {
  std::istringstream list(read_text(v2.dir() + "/cgroup.controllers"));
  for (std::string c; list >> c;) {
    if (c == controller) return true;
  }
  return false;
}

// "v2" or "v1", as `which` asks and the host offers.
Result<std::string> choose(const std::string& which) {
  const Hierarchy v2 = find_hierarchy("");
  const bool v2_ok = v2.found() && v2_has(v2, "memory") && v2_has(v2, "cpu");
  const bool v1_ok = find_hierarchy("memory").found() && find_hierarchy("cpu").found();
  if ((which == "auto" || which == "v2") && v2_ok) return std::string("v2");
  if ((which == "auto" || which == "v1") && v1_ok) return std::string("v1");
  std::string v2_says = "no cgroup v2 is mounted";
  if (v2.found()) {
    std::string has = read_text(v2.dir() + "/cgroup.controllers");
    if (!has.empty() && has.back() == '\n') has.pop_back();
    v2_says = fmt::format("cgroup v2 at {} offers only '{}'", v2.dir(), has);
  }
  if (which == "v2" || which == "auto") {
    return make_error(fmt::format(
        "--jail: missing cgroup controller: the jail needs memory and cpu; {}{}", v2_says,
        which == "auto" && !v1_ok ? ", and cgroup v1 has no memory and cpu hierarchies" : ""));
  }
  if (which == "v1") {
    return make_error(
        "--jail: missing cgroup controller: cgroup v1 has no memory and cpu "
        "hierarchies mounted");
  }
  return make_error(fmt::format("--jail-cgroup '{}': must be auto, v2 or v1", which));
}

// The cgroups of jails whose waiting parent was killed (SIGKILL leaves no time to remove
// them): rmdir takes only empty ones, so a running jail's stays.
void sweep(const std::string& parent) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(parent, ec)) {
    if (e.path().filename().string().starts_with("vessel-")) rmdir(e.path().c_str());
  }
}

Result<std::string> make_dir(const std::string& parent, const std::string& name) {
  sweep(parent);
  const std::string dir = parent + "/" + name;
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return make_error(
        fmt::format("--jail: cgroup: cannot create {}: {}", dir, std::strerror(errno)));
  }
  return dir;
}

}  // namespace

Result<void> check_cgroup(const std::string& which) {
  TRY(choose(which));
  return {};
}

Result<Cgroup> make_cgroup(const std::string& which, const std::string& name, uint64_t memory,
                           unsigned cpus) {
  const std::string version = TRY(choose(which));
  const std::string quota = std::to_string(kCpuPeriodUs * cpus);
  Cgroup made;
  if (version == "v2") {
    const Hierarchy v2 = find_hierarchy("");
    const std::string enabled = read_text(v2.dir() + "/cgroup.subtree_control");
    if (enabled.find("memory") == std::string::npos || enabled.find("cpu") == std::string::npos) {
      TRY_VOID(write_text(v2.dir() + "/cgroup.subtree_control", "+memory +cpu"));
    }
    const std::string dir = TRY(make_dir(v2.dir(), name));
    made.dirs.push_back(dir);
    TRY_VOID(write_text(dir + "/memory.max", std::to_string(memory)));
    TRY_VOID(write_text(dir + "/cpu.max", fmt::format("{} {}", quota, kCpuPeriodUs)));
    return made;
  }
  const std::string mem = TRY(make_dir(find_hierarchy("memory").dir(), name));
  made.dirs.push_back(mem);
  TRY_VOID(write_text(mem + "/memory.limit_in_bytes", std::to_string(memory)));
  const std::string cpu = TRY(make_dir(find_hierarchy("cpu").dir(), name));
  made.dirs.push_back(cpu);
  TRY_VOID(write_text(cpu + "/cpu.cfs_period_us", std::to_string(kCpuPeriodUs)));
  TRY_VOID(write_text(cpu + "/cpu.cfs_quota_us", quota));
  return made;
}

Result<void> join_cgroup(const Cgroup& cgroup, pid_t pid) {
  for (const std::string& dir : cgroup.dirs) {
    TRY_VOID(write_text(dir + "/cgroup.procs", std::to_string(pid)));
  }
  return {};
}

void remove_cgroup(const Cgroup& cgroup) {
  for (const std::string& dir : cgroup.dirs) rmdir(dir.c_str());
}

}  // namespace vessel::jail
