#include "daemon/process.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <sstream>

#include "base/unique_fd.hpp"
#include "daemon/state_dir.hpp"

namespace vessel::daemon {

namespace {

// The stat and cmdline files are small; this is far beyond them.
constexpr size_t kProcFileMax = 64 * 1024;

}  // namespace

Result<pid_t> spawn_in_session(const std::string& program, const std::vector<std::string>& args,
                               const std::string& log_path, const std::vector<std::string>& env) {
  UniqueFd log(open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!log.valid()) return make_error(fmt::format("{}: cannot open: {}", log_path, errno_text()));
  UniqueFd null(open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!null.valid()) return make_error(fmt::format("/dev/null: cannot open: {}", errno_text()));

  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e) envp.push_back(*e);
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_adddup2(&actions, null.get(), STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, log.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, log.get(), STDERR_FILENO);
  // The daemon's sockets and its state lock must not live on in a VM: a VM that outlives the
  // daemon would keep the lock and keep a second daemon out.
  posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, static_cast<short>(POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF |
                                                     POSIX_SPAWN_SETSIGMASK));
  pid_t pid = 0;
  const int err = posix_spawn(&pid, program.c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (err != 0) return make_error(fmt::format("{}: cannot start: {}", program, strerror(err)));
  return pid;
}

Result<int> open_pidfd(pid_t pid) {
  const long fd = syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) return make_error(fmt::format("pid {}: pidfd_open: {}", pid, strerror(errno)));
  // pidfd_open sets close-on-exec itself.
  return static_cast<int>(fd);
}

bool signal_pidfd(int pidfd, int signal) {
  return syscall(SYS_pidfd_send_signal, pidfd, signal, nullptr, 0) == 0;
}

std::optional<ProcStat> parse_proc_stat(const std::string& text) {
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so it ends at the last ')'.
  const size_t open = text.find('(');
  const size_t close = text.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return std::nullopt;
  ProcStat s;
  s.comm = text.substr(open + 1, close - open - 1);
  std::istringstream rest(text.substr(close + 1));
  std::vector<std::string> fields;  // fields[0] is field 3 (state)
  for (std::string f; rest >> f;) fields.push_back(std::move(f));
  if (fields.size() < 22) return std::nullopt;
  auto number = [&](size_t field) -> std::optional<uint64_t> {
    const std::string& f = fields[field - 3];
    uint64_t v = 0;
    const auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), v);
    if (ec != std::errc() || end != f.data() + f.size()) return std::nullopt;
    return v;
  };
  if (fields[0].size() != 1) return std::nullopt;
  s.state = fields[0][0];
  const auto utime = number(14), stime = number(15), start = number(22), rss = number(24);
  if (!utime || !stime || !start || !rss) return std::nullopt;
  s.utime_ticks = *utime;
  s.stime_ticks = *stime;
  s.start_ticks = *start;
  s.rss_pages = *rss;
  return s;
}

std::optional<ProcStat> read_proc_stat(const std::string& path) {
  auto text = read_small_file(path, kProcFileMax);
  if (!text) return std::nullopt;
  return parse_proc_stat(*text);
}

std::optional<ProcStat> read_proc_stat(pid_t pid) {
  return read_proc_stat(fmt::format("/proc/{}/stat", pid));
}

std::vector<std::string> read_cmdline(pid_t pid) {
  auto text = read_small_file(fmt::format("/proc/{}/cmdline", pid), kProcFileMax);
  std::vector<std::string> args;
  if (!text) return args;
  size_t start = 0;
  while (start < text->size()) {
    size_t end = text->find('\0', start);
    if (end == std::string::npos) end = text->size();
    args.push_back(text->substr(start, end - start));
    start = end + 1;
  }
  return args;
}

double clock_ticks_per_second() {
  static const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  return ticks > 0 ? ticks : 100.0;
}

uint64_t page_size() {
  static const uint64_t size = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  return size;
}

pid_t vm_process(pid_t pid) {
  auto children = read_small_file(fmt::format("/proc/{}/task/{}/children", pid, pid), kProcFileMax);
  pid_t child = 0;
  if (children) {
    const char* begin = children->data();
    std::from_chars(begin, begin + children->size(), child);
  }
  return child > 0 ? child : pid;
}

std::vector<std::pair<unsigned, double>> vcpu_seconds(pid_t pid) {
  std::vector<std::pair<unsigned, double>> out;
  const std::string task_dir = fmt::format("/proc/{}/task", pid);
  DIR* dir = opendir(task_dir.c_str());
  if (dir == nullptr) return out;
  while (const dirent* e = readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    auto s = read_proc_stat(fmt::format("{}/{}/stat", task_dir, e->d_name));
    if (!s || !s->comm.starts_with("vcpu")) continue;
    unsigned index = 0;
    const std::string_view digits = std::string_view(s->comm).substr(4);
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
    if (ec != std::errc() || end != digits.data() + digits.size()) continue;
    out.emplace_back(
        index, static_cast<double>(s->utime_ticks + s->stime_ticks) / clock_ticks_per_second());
  }
  closedir(dir);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::pair<unsigned, double>> VcpuCounters::total(
    std::vector<std::pair<unsigned, double>> running, const nlohmann::json& vm_stats) {
  const nlohmann::json* before = nullptr;
  if (vm_stats.is_object()) {
    auto it = vm_stats.find("vcpu_seconds_before_reboots");
    if (it != vm_stats.end() && it->is_array()) before = &*it;
  }
  for (auto& [index, seconds] : running) {
    if (before != nullptr && index < before->size() && (*before)[index].is_number()) {
      seconds += (*before)[index].get<double>();
    }
    double& shown = shown_[index];
    seconds = std::max(seconds, shown);
    shown = seconds;
  }
  return running;
}

}  // namespace vessel::daemon

namespace vessel::daemon {

std::optional<pid_t> socket_owner(const std::string& path) {
  sockaddr_un addr{};
  if (path.size() >= sizeof addr.sun_path) return std::nullopt;
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  std::optional<pid_t> pid;
  ucred cred{};
  socklen_t len = sizeof cred;
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.pid > 0) {
    pid = cred.pid;
  }
  close(fd);
  return pid;
}

}  // namespace vessel::daemon
