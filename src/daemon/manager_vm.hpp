// What manager.cpp and manager_stats.cpp share inside VmManager: its record of one VM, and the
// limits both use. Not for other files.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "daemon/manager.hpp"

namespace vessel::daemon {

namespace manager_detail {

// A VM's API answers at once but for pause, which may wait up to 10 s for the harts.
inline constexpr auto kVmCallTimeout = std::chrono::seconds(5);
inline constexpr auto kSampleCallTimeout = std::chrono::milliseconds(1000);
// A VM using less host CPU than this is asked for its statistics only every
// kQuietStatsInterval seconds: each question wakes it, and 32 idle guests would pay for it.
inline constexpr double kQuietCpuPercent = 2.0;
inline constexpr double kQuietStatsInterval = 10.0;

struct FileId {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  timespec mtime{};
  bool operator==(const FileId& o) const {
    return dev == o.dev && ino == o.ino && size == o.size && mtime.tv_sec == o.mtime.tv_sec &&
           mtime.tv_nsec == o.mtime.tv_nsec;
  }
};

inline std::optional<FileId> file_id(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return std::nullopt;
  return FileId{st.st_dev, st.st_ino, st.st_size, st.st_mtim};
}

// Pause may wait up to 10 s for the harts.
inline constexpr auto kPauseTimeout = std::chrono::seconds(15);
// After SIGKILL the process ends as soon as the kernel gets to it.
inline constexpr auto kKillWait = std::chrono::seconds(5);

inline Answer no_such_vm(const std::string& name) {
  return Answer::fail(404, fmt::format("VM '{}': no such VM", name));
}

}  // namespace manager_detail

struct VmManager::Vm {
  std::string name;
  VmPaths paths;
  std::optional<VmDefinition> definition;  // the last one read well
  std::string broken;                      // why config.json cannot be used now, or empty
  std::optional<manager_detail::FileId> config_id;
  VmState state = VmState::kStopped;  // kBroken only when no process runs

  // The process, while running or paused.
  pid_t pid = 0;
  int pidfd = -1;
  bool child = false;  // ours (waitid tells the status) or adopted (exit_status tells)
  uint64_t start_ticks = 0;
  double started_at = 0;  // wall clock, seconds
  uint64_t generation = 0;
  bool stop_requested = false;
  bool busy = false;  // a slow operation is talking to it
  std::optional<int> exit_status;
  std::string exit_reason;

  // Sampled.
  double sample_at = 0;  // steady clock seconds, /proc read
  uint64_t sample_cpu_ticks = 0;
  double stats_at = 0;  // the VM's statistics asked
  uint64_t stats_instructions = 0;
  std::optional<double> mips, cpu_percent;
  nlohmann::json vm_stats;
  VcpuCounters vcpu_counters;  // across the guest's reboots

  bool live() const { return pid > 0; }
  VmState shown_state() const {
    if (!live() && !broken.empty()) return VmState::kBroken;
    return state;
  }
};

}  // namespace vessel::daemon
