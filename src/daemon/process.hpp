// Processes as the daemon sees them: VMs started in their own session, pidfds to watch them
// (children or not), and what /proc says about them (identity, CPU time, memory, vCPU threads).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"

namespace vessel::daemon {

// Starts `program` with `args` (argv[0] included) in a new session (setsid), with stdin from
// /dev/null, stdout and stderr appended to `log_path`, default signal dispositions, an empty
// signal mask and no descriptor of ours but those three, and the daemon's environment with
// `env` ("NAME=VALUE") added. Errors name the program or the log.
Result<pid_t> spawn_in_session(const std::string& program, const std::vector<std::string>& args,
                               const std::string& log_path,
                               const std::vector<std::string>& env = {});

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
// The pid of the process listening on a Unix socket (SO_PEERCRED of a connection to it).
std::optional<pid_t> socket_owner(const std::string& path);

double clock_ticks_per_second();
uint64_t page_size();

// The process that runs the VM `vessel run` started as `pid`: its jailed child under --jail
// (the parent only waits), else `pid` itself (which never forks).
pid_t vm_process(pid_t pid);

// CPU seconds of each thread named vcpuN (vcpu index, seconds), in index order.
std::vector<std::pair<unsigned, double>> vcpu_seconds(pid_t pid);

// A VM's vCPU seconds as counters a guest reboot does not reset. A reboot ends the vCPU threads
// and starts new ones, whose /proc figures begin at 0; the VM reports what the ended ones used
// ("vcpu_seconds_before_reboots" in its statistics), and this adds it. The statistics the
// daemon holds may predate the latest reboot, so a total never goes below one shown before.
class VcpuCounters {
 public:
  // `running`: vcpu_seconds() of the process; `vm_stats`: its statistics, or null.
  std::vector<std::pair<unsigned, double>> total(std::vector<std::pair<unsigned, double>> running,
                                                 const nlohmann::json& vm_stats);
  // A new process: its counters start again.
  void reset() { shown_.clear(); }

 private:
  std::map<unsigned, double> shown_;
};

}  // namespace vessel::daemon
