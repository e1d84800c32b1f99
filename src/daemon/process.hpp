// Processes as the daemon sees them: VMs started in their own session, pidfds to watch them
// (children or not), and what /proc says about them (identity, CPU time, memory, vCPU threads).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"

namespace vessel::daemon {

// Starts `program` with `args` (argv[0] included) in a new session (setsid), with stdin from
// /dev/null, stdout and stderr appended to `log_path`, default signal dispositions, an empty
// signal mask and no descriptor of ours but those three. Errors name the program or the log.
Result<pid_t> spawn_in_session(const std::string& program, const std::vector<std::string>& args,
                               const std::string& log_path);

// A pidfd for `pid` (close-on-exec); readable once the process has ended.
Result<int> open_pidfd(pid_t pid);
// Sends `signal` through the pidfd, so that it can never reach a process that reused the pid.
bool signal_pidfd(int pidfd, int signal);

// /proc/PID/stat (or /proc/PID/task/TID/stat), the fields the daemon reads.
struct ProcStat {
  std::string comm;
  char state = '?';
  uint64_t utime_ticks = 0, stime_ticks = 0;
  uint64_t start_ticks = 0;  // since boot: with the pid, names one process for good
  uint64_t rss_pages = 0;
};
// Parses the text of a stat file; nullopt when it is not one.
std::optional<ProcStat> parse_proc_stat(const std::string& text);
std::optional<ProcStat> read_proc_stat(const std::string& path);
std::optional<ProcStat> read_proc_stat(pid_t pid);
// argv of a live process (empty when it is gone or a zombie).
std::vector<std::string> read_cmdline(pid_t pid);

double clock_ticks_per_second();
uint64_t page_size();

// CPU seconds of each thread named vcpuN (vcpu index, seconds), in index order.
std::vector<std::pair<unsigned, double>> vcpu_seconds(pid_t pid);

}  // namespace vessel::daemon
