#include "daemon/manager.hpp"
#include "daemon/manager_vm.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "api/http/client.hpp"
#include "base/log.hpp"
#include "daemon/snapshot_store.hpp"

namespace vessel::daemon {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace manager_detail;

namespace {

constexpr size_t kConfigMax = 1 << 20;
// Unix socket paths must fit sockaddr_un's sun_path (108 bytes with the NUL).
constexpr size_t kMaxSocketPath = 107;
// How long a start waits to see the machine built (or the process end) before it answers.
constexpr auto kStartWait = std::chrono::seconds(10);

double wall_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

double round1(double v) { return std::round(v * 10) / 10; }

std::string describe_signal(int sig) {
  const char* name = sigabbrev_np(sig);
  return fmt::format("killed by signal {}{}", sig, name ? fmt::format(" (SIG{})", name) : "");
}

// The last non-empty line of a log, for an error message.
std::string last_line(const std::string& path) {
  auto text = read_small_file(path, 1 << 20);
  if (!text) return {};
  std::string_view t = *text;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.remove_suffix(1);
  const size_t nl = t.rfind('\n');
  return std::string(nl == std::string_view::npos ? t : t.substr(nl + 1));
}

}  // namespace

const char* state_name(VmState state) {
  switch (state) {
    case VmState::kStopped: return "stopped";
    case VmState::kRunning: return "running";
    case VmState::kPaused: return "paused";
    case VmState::kCrashed: return "crashed";
    case VmState::kBroken: return "broken";
  }
  return "?";
}

VmManager::VmManager(ManagerOptions options, StateLock lock, api::HostFilePolicy files)
    : options_(std::move(options)), lock_(std::move(lock)), files_(std::move(files)) {}

Result<std::unique_ptr<VmManager>> VmManager::open(ManagerOptions options) {
  const std::string& dir = options.state_dir;
  // The longest socket path inside: DIR/vms/<32 characters>/console.sock.
  const size_t longest = dir.size() + std::string("/vms/").size() + 32 + 13;
  if (longest > kMaxSocketPath) {
    return make_error(
        fmt::format("state dir {}: too long for the VMs' Unix socket paths (at most "
                    "{} characters)",
                    dir, dir.size() - (longest - kMaxSocketPath)));
  }
  std::error_code ec;
  fs::create_directories(dir + "/vms", ec);
  if (!ec) fs::create_directories(dir + "/images", ec);
  if (ec) return make_error(fmt::format("state dir {}: cannot create: {}", dir, ec.message()));
  chmod(dir.c_str(), 0700);
  StateLock lock = TRY(StateLock::acquire(dir));
  std::vector<std::string> allowed = options.allow_dirs;
  allowed.insert(allowed.begin(), dir + "/images");
  api::HostFilePolicy files = TRY(api::HostFilePolicy::confined_to(allowed, "--allow-dir"));
  TRY_VOID(files.protect(dir));
  std::unique_ptr<VmManager> m(
      new VmManager(std::move(options), std::move(lock), std::move(files)));
  TRY_VOID(m->loop_.start("vessel-watch"));
  TRY_VOID(m->load());
  m->sampler_ = std::thread([raw = m.get()] { raw->sampler(); });
  return m;
}

VmManager::~VmManager() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  sampler_wake_.notify_all();
  if (sampler_.joinable()) sampler_.join();
  loop_.stop();
  // The VMs run on: a daemon that ends (or restarts) does not end them.
  for (auto& [name, vm] : vms_) {
    if (vm->pidfd >= 0) close(vm->pidfd);
  }
}

VmPaths VmManager::paths_of(const std::string& name) const {
  return VmPaths{options_.state_dir + "/vms/" + name};
}

Result<void> VmManager::load() {
  std::lock_guard lock(mu_);
  for (const std::string& line : clean_interrupted(options_.state_dir + "/vms")) {
    log(LogLevel::kWarn, "{}", line);
  }
  for (const std::string& line : clean_interrupted_snapshots(options_.state_dir)) {
    log(LogLevel::kWarn, "{}", line);
  }
  refresh_locked();
  for (auto& [name, vm] : vms_) adopt(*vm);
  report_found_locked();
  return {};
}

// One line naming every VM a starting daemon found and its state, so that what a daemon that
// died left behind can be read in the next one's log.
void VmManager::report_found_locked() {
  if (vms_.empty()) return;
  std::string list;
  for (const auto& [name, vm] : vms_) {
    if (!list.empty()) list += ", ";
    list += fmt::format("{} ({}{})", name, vm->broken.empty() ? state_name(vm->state) : "broken",
                        vm->pid > 0 ? fmt::format(", pid {}", vm->pid) : "");
  }
  log(LogLevel::kInfo, "found {} VM{}: {}", vms_.size(), vms_.size() == 1 ? "" : "s", list);
}

void VmManager::load_definition(Vm& vm) {
  const std::string path = vm.paths.config();
  vm.config_id = file_id(path);
  const std::string before = vm.broken;
  auto fail = [&](std::string why) {
    vm.broken = fmt::format("{}: {}", path, why);
    if (vm.broken != before) log(LogLevel::kWarn, "VM '{}' is broken: {}", vm.name, vm.broken);
  };
  if (!vm.config_id) return fail("missing");
  auto text = read_small_file(path, kConfigMax);
  if (!text) {
    vm.broken = text.error().message;
    if (vm.broken != before) log(LogLevel::kWarn, "VM '{}' is broken: {}", vm.name, vm.broken);
    return;
  }
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded()) return fail("not valid JSON");
  auto definition = parse_vm_definition(std::optional<json>(std::move(j)));
  if (!definition) return fail(definition.error().message);
  if (definition->name != vm.name) {
    return fail(fmt::format("name '{}' does not match the directory", definition->name));
  }
  if (!before.empty()) log(LogLevel::kInfo, "VM '{}': config.json is usable again", vm.name);
  vm.broken.clear();
  vm.definition = std::move(*definition);
}

// Definitions may be changed by hand (a VM directory added, a config.json edited or broken):
// what is on disk is looked at again before each answer; it costs a directory read and a stat
// per VM.
void VmManager::refresh_locked() {
  const std::string vms_dir = options_.state_dir + "/vms";
  std::error_code ec;
  std::map<std::string, bool> seen;
  for (const auto& entry : fs::directory_iterator(vms_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!valid_vm_name(name) || !entry.is_directory(ec)) continue;
    seen[name] = true;
    auto it = vms_.find(name);
    if (it == vms_.end()) {
      auto vm = std::make_unique<Vm>();
      vm->name = name;
      vm->paths = paths_of(name);
      load_definition(*vm);
      vms_.emplace(name, std::move(vm));
    } else if (file_id(it->second->paths.config()) != it->second->config_id) {
      load_definition(*it->second);
    }
  }
  for (auto it = vms_.begin(); it != vms_.end();) {
    Vm& vm = *it->second;
    if (seen.count(it->first) != 0 || vm.busy) {
      ++it;
    } else if (vm.live()) {
      // Its directory went while it runs: keep watching it, it can still be stopped.
      if (vm.broken.empty()) vm.broken = fmt::format("{}: missing", vm.paths.config());
      ++it;
    } else {
      it = vms_.erase(it);
    }
  }
}

VmManager::Vm* VmManager::find_locked(const std::string& name) {
  refresh_locked();
  auto it = vms_.find(name);
  return it == vms_.end() ? nullptr : it->second.get();
}

// A VM that runtime.json says was started: still running (adopted: watched with a pidfd, not
// a child of ours), or ended while no daemon watched (stopped or crashed as its exit_status
// file says).
void VmManager::adopt(Vm& vm) {
  auto text = read_small_file(vm.paths.runtime(), kConfigMax);
  if (!text) text = orphan_runtime(vm);
  if (!text) return;  // never started, or stopped cleanly
  json rt = json::parse(*text, nullptr, false);
  if (rt.is_discarded() || !rt.is_object() || !rt.contains("pid") ||
      !rt["pid"].is_number_integer() || !rt.contains("start_ticks") ||
      !rt["start_ticks"].is_number_unsigned()) {
    log(LogLevel::kWarn, "VM '{}': {}: unreadable, the VM is taken as crashed", vm.name,
        vm.paths.runtime());
    vm.state = VmState::kCrashed;
    vm.exit_reason = "runtime.json unreadable";
    return;
  }
  if (rt.contains("exit_status") && rt["exit_status"].is_number_integer()) {
    vm.state = VmState::kCrashed;  // recorded by an earlier daemon
    vm.exit_status = rt["exit_status"].get<int>();
    vm.exit_reason = rt.value("exit_reason", "");
    return;
  }
  const pid_t pid = rt["pid"].get<pid_t>();
  const uint64_t ticks = rt["start_ticks"].get<uint64_t>();
  // Really that VM: the same process (pid and start time), running `vessel run` with this
  // VM's API socket.
  auto is_ours = [&] {
    auto st = read_proc_stat(pid);
    if (!st || st->start_ticks != ticks || st->state == 'Z') return false;
    const auto argv = read_cmdline(pid);
    if (argv.size() < 2 || argv[1] != "run") return false;
    for (size_t i = 2; i + 1 < argv.size(); ++i) {
      if (argv[i] == "--api-sock" && argv[i + 1] == vm.paths.api_socket()) return true;
    }
    return false;
  };
  if (pid > 0 && is_ours()) {
    auto fd = open_pidfd(pid);
    if (fd && is_ours()) {  // the pidfd names the process we checked
      vm.pid = pid;
      vm.pidfd = *fd;
      vm.child = false;
      vm.start_ticks = ticks;
      vm.started_at = rt.value("started_at", wall_seconds());
      vm.state = VmState::kRunning;
      ++vm.generation;
      auto described = call_vm(vm, "GET", "/", std::nullopt, kVmCallTimeout);
      if (described && described->value("state", "") == "Paused") vm.state = VmState::kPaused;
      if (!described) {
        log(LogLevel::kWarn, "VM '{}' (pid {}): adopted, but its API does not answer: {}", vm.name,
            pid, described.error().message);
      }
      if (auto w = watch(vm); !w) log(LogLevel::kError, "VM '{}': {}", vm.name, w.error().message);
      log(LogLevel::kInfo, "VM '{}': re-adopted pid {} ({})", vm.name, pid, state_name(vm.state));
      return;
    }
    if (fd) close(*fd);
  }
  // Gone while no daemon watched: its exit_status file tells how it ended, if it could write it.
  auto status = read_small_file(vm.paths.exit_status(), 64);
  if (status && std::atoi(status->c_str()) == 0 && !status->empty()) {
    vm.state = VmState::kStopped;
    vm.exit_status = 0;
    unlink(vm.paths.runtime().c_str());
    return;
  }
  vm.state = VmState::kCrashed;
  if (status && !status->empty()) vm.exit_status = std::atoi(status->c_str());
  vm.exit_reason = "ended while no daemon was watching";
  json crashed = rt;
  crashed["exit_status"] = vm.exit_status.value_or(-1);
  crashed["exit_reason"] = vm.exit_reason;
  if (auto w = write_file_atomically(vm.paths.runtime(), crashed.dump() + "\n"); !w) {
    log(LogLevel::kWarn, "VM '{}': {}", vm.name, w.error().message);
  }
  log(LogLevel::kWarn, "VM '{}' (pid {}): {}: crashed", vm.name, pid, vm.exit_reason);
}

// A daemon killed between starting a VM and writing its runtime.json leaves the VM running
// unrecorded: found through its API socket, and recorded now (adopt() then checks it is ours).
Result<std::string> VmManager::orphan_runtime(const Vm& vm) {
  const auto pid = socket_owner(vm.paths.api_socket());
  if (!pid) return make_error("not running");
  const auto st = read_proc_stat(*pid);
  if (!st) return make_error("not running");
  const json rt{{"pid", *pid},
                {"start_ticks", st->start_ticks},
                {"started_at", wall_seconds()},
                {"api_socket", vm.paths.api_socket()}};
  log(LogLevel::kWarn,
      "VM '{}': running (pid {}) with no runtime.json: a daemon ended while starting it", vm.name,
      *pid);
  TRY_VOID(write_file_atomically(vm.paths.runtime(), rt.dump() + "\n"));
  return rt.dump();
}

Result<void> VmManager::watch(Vm& vm) {
  return loop_.add_fd(
      vm.pidfd, EPOLLIN,
      [this, name = vm.name, generation = vm.generation](uint32_t) { on_exit(name, generation); });
}

void VmManager::on_exit(const std::string& name, uint64_t generation) {
  std::unique_lock lock(mu_);
  auto it = vms_.find(name);
  if (it == vms_.end()) return;
  Vm& vm = *it->second;
  if (vm.generation != generation || vm.pidfd < 0) return;
  // Only an ended process makes its pidfd readable; anything else is an event meant for an
  // earlier descriptor of the same number.
  pollfd ready{vm.pidfd, POLLIN, 0};
  if (poll(&ready, 1, 0) != 1) return;
  loop_.remove_fd(vm.pidfd);

  std::optional<int> status;
  std::string reason;
  bool signalled = false;
  if (vm.child) {
    siginfo_t info{};
    if (waitid(P_PIDFD, static_cast<id_t>(vm.pidfd), &info, WEXITED | WNOHANG) == 0 &&
        info.si_pid != 0) {
      if (info.si_code == CLD_EXITED) {
        status = info.si_status;
        reason = fmt::format("exited with status {}", info.si_status);
      } else {
        signalled = true;
        status = 128 + info.si_status;
        reason = describe_signal(info.si_status);
      }
    }
  } else if (auto text = read_small_file(vm.paths.exit_status(), 64); text && !text->empty()) {
    status = std::atoi(text->c_str());
    reason = fmt::format("exited with status {}", *status);
  } else {
    signalled = true;  // a `vessel run` that ends by itself writes its status
    reason = "ended without an exit status (killed)";
  }
  close(vm.pidfd);
  vm.pidfd = -1;
  const pid_t pid = vm.pid;
  vm.pid = 0;
  vm.exit_status = status;
  vm.exit_reason = reason;
  vm.mips.reset();
  vm.cpu_percent.reset();
  const bool clean = vm.stop_requested || (!signalled && status == 0);
  vm.state = clean ? VmState::kStopped : VmState::kCrashed;
  if (clean) {
    unlink(vm.paths.runtime().c_str());
    log(LogLevel::kInfo, "VM '{}' (pid {}) stopped: {}", name, pid, reason);
  } else {
    // Kept, so that a restarted daemon still shows the crash and its status.
    json rt{{"pid", pid},
            {"start_ticks", vm.start_ticks},
            {"started_at", vm.started_at},
            {"exit_status", status.value_or(-1)},
            {"exit_reason", reason}};
    if (auto w = write_file_atomically(vm.paths.runtime(), rt.dump() + "\n"); !w) {
      log(LogLevel::kWarn, "VM '{}': {}", name, w.error().message);
    }
    log(LogLevel::kWarn, "VM '{}' (pid {}) crashed: {}", name, pid, reason);
  }
  lock.unlock();
  changed_.notify_all();
}

json VmManager::summary(const Vm& vm) const {
  json s{{"name", vm.name}, {"state", state_name(vm.shown_state())}};
  if (vm.definition) {
    s["cpus"] = vm.definition->config.machine.num_harts;
    s["memory_mib"] = vm.definition->config.machine.ram_size >> 20;
    s["engine"] = rv::engine_name(vm.definition->config.machine.engine);
  }
  if (vm.live()) {
    s["pid"] = vm.pid;
    s["uptime_seconds"] = round1(std::max(0.0, wall_seconds() - vm.started_at));
    if (vm.mips) s["mips"] = round1(*vm.mips);
    if (vm.cpu_percent) s["host_cpu_percent"] = round1(*vm.cpu_percent);
  }
  if (vm.exit_status && !vm.live()) s["exit_status"] = *vm.exit_status;
  if (!vm.exit_reason.empty() && !vm.live()) s["exit_reason"] = vm.exit_reason;
  if (!vm.broken.empty()) s["error"] = vm.broken;
  return s;
}

Answer VmManager::list() {
  std::lock_guard lock(mu_);
  refresh_locked();
  json out = json::array();
  for (const auto& [name, vm] : vms_) out.push_back(summary(*vm));
  return Answer::ok(200, std::move(out));
}

namespace {

// 404 for a VM that does not exist, 409 for one that a slow operation is busy with.
std::optional<Answer> unavailable(const VmManager::Vm* vm, const std::string& name) {
  if (vm == nullptr) return no_such_vm(name);
  if (vm->busy) {
    return Answer::fail(409, fmt::format("VM '{}': another operation on it is in progress", name));
  }
  return std::nullopt;
}

}  // namespace

Answer VmManager::get(const std::string& name) {
  std::lock_guard lock(mu_);
  Vm* vm = find_locked(name);
  if (vm == nullptr) return no_such_vm(name);
  return Answer::ok(200, {{"definition", vm->definition ? vm->definition->to_json() : json()},
                          {"status", summary(*vm)}});
}

Answer VmManager::create(const std::optional<json>& body) {
  auto definition = parse_vm_definition(body);
  if (!definition) return Answer::fail(400, definition.error().message);
  if (auto files = resolve_vm_files(*definition, files_); !files) {
    return Answer::fail(400, files.error().message);
  }
  definition->created_at = utc_timestamp();
  std::lock_guard lock(mu_);
  const std::string name = definition->name;
  if (find_locked(name) != nullptr) {
    return Answer::fail(409, fmt::format("VM '{}': a VM of that name exists", name));
  }
  const VmPaths paths = paths_of(name);
  if (auto made =
          create_vm_dir(options_.state_dir + "/vms", name, definition->to_json().dump(2) + "\n");
      !made) {
    std::error_code ec;
    return Answer::fail(fs::exists(paths.dir, ec) ? 409 : 500, made.error().message);
  }
  auto vm = std::make_unique<Vm>();
  vm->name = name;
  vm->paths = paths;
  vm->definition = std::move(*definition);
  vm->config_id = file_id(paths.config());
  json s = summary(*vm);
  vms_.emplace(name, std::move(vm));
  log(LogLevel::kInfo, "VM '{}' created", name);
  return Answer::ok(201, std::move(s));
}

Answer VmManager::remove(const std::string& name, bool force) {
  std::unique_lock lock(mu_);
  Vm* vm = find_locked(name);
  if (auto refused = unavailable(vm, name)) return *refused;
  if (vm->live()) {
    if (!force) {
      return Answer::fail(409, fmt::format("VM '{}' is {}: stop it first, or remove it with "
                                           "force=true",
                                           name, state_name(vm->state)));
    }
    vm->busy = true;
    Answer stopped = stop_locked(lock, *vm);
    vm->busy = false;
    if (!stopped.error.empty()) return stopped;
  }
  if (auto removed = remove_vm_dir(options_.state_dir + "/vms", name); !removed) {
    load_definition(*vm);
    return Answer::fail(500, removed.error().message);
  }
  vms_.erase(name);
  log(LogLevel::kInfo, "VM '{}' removed", name);
  return Answer::ok(204, nullptr);
}

Result<json> VmManager::call_vm(const Vm& vm, const char* method, const std::string& path,
                                const std::optional<json>& body,
                                std::chrono::milliseconds timeout) const {
  const auto m = http::parse_method(method);
  auto client = http::Client::unix_socket(vm.paths.api_socket(), timeout);
  auto r = client.request(*m, path, body);
  if (!r) return make_error(fmt::format("VM '{}': its API: {}", vm.name, r.error().message));
  if (r->status / 100 != 2) {
    std::string why = r->body.is_object() ? r->body.value("fault_message", r->text) : r->text;
    return make_error(fmt::format("VM '{}': {} {}: {}", vm.name, method, path, why));
  }
  return r->body;
}

Answer VmManager::begin_operation(Vm* vm, const std::string& name, const char* what) {
  if (auto refused = unavailable(vm, name)) return *refused;
  if (!vm->live()) {
    return Answer::fail(
        409, fmt::format("VM '{}' is {}: cannot {} it", name, state_name(vm->shown_state()), what));
  }
  vm->busy = true;
  return Answer::ok(200, nullptr);
}

Answer VmManager::start(const std::string& name) { return start_process(name, {}); }

Answer VmManager::start_process(const std::string& name, const Incoming& incoming) {
  std::unique_lock lock(mu_);
  Vm* vm = find_locked(name);
  if (auto refused = unavailable(vm, name)) return *refused;
  if (vm->live()) {
    return Answer::fail(409, fmt::format("VM '{}' is {} already", name, state_name(vm->state)));
  }
  if (!vm->broken.empty()) return Answer::fail(409, fmt::format("VM '{}': {}", name, vm->broken));
  return start_locked(lock, *vm, std::nullopt, incoming);
}

Answer VmManager::start_locked(std::unique_lock<std::mutex>& lock, Vm& vm_ref,
                               const std::optional<std::string>& restore,
                               const Incoming& incoming) {
  Vm* vm = &vm_ref;
  const std::string name = vm->name;
  const VmDefinition def = *vm->definition;
  const VmPaths paths = vm->paths;
  // Files are checked, the process started and runtime.json synced without the lock: lists
  // and other VMs' requests do not wait for the disk. Busy keeps other requests off this VM.
  vm->busy = true;
  lock.unlock();
  int status = 500;
  Result<Launched> launched = launch(def, paths, restore, &status, incoming);
  lock.lock();
  if (!launched) {
    vm->busy = false;
    return Answer::fail(status, fmt::format("VM '{}': {}", name, launched.error().message));
  }
  vm->pid = launched->pid;
  vm->pidfd = launched->pidfd;
  vm->child = true;
  vm->start_ticks = launched->start_ticks;
  vm->started_at = launched->started_at;
  vm->stop_requested = false;
  vm->exit_status.reset();
  vm->exit_reason.clear();
  vm->vm_stats = nullptr;
  vm->vcpu_counters.reset();
  vm->sample_at = 0;
  vm->stats_at = 0;
  ++vm->generation;
  vm->state = VmState::kRunning;
  // An end before this is not lost: the pidfd stays readable.
  if (auto w = watch(*vm); !w) {
    log(LogLevel::kError, "VM '{}': cannot watch pid {}: {}; stopping it", name, vm->pid,
        w.error().message);
    signal_pidfd(vm->pidfd, SIGKILL);
  }
  log(LogLevel::kInfo, "VM '{}' started: pid {}", name, vm->pid);

  // Answer once the machine is built, so that a kernel that does not load is this request's
  // error, not a surprise later; the lock is not held meanwhile.
  const uint64_t generation = vm->generation;
  const auto deadline = std::chrono::steady_clock::now() + kStartWait;
  while (incoming.args.empty() && std::chrono::steady_clock::now() < deadline) {
    if (vm->generation != generation || !vm->live()) break;
    lock.unlock();
    auto described = call_vm(*vm, "GET", "/", std::nullopt, kVmCallTimeout);
    lock.lock();
    if (described && described->value("state", "") != "Not started") break;
    changed_.wait_for(lock, std::chrono::milliseconds(20));
  }
  vm->busy = false;
  if (vm->generation == generation && !vm->live() && vm->state == VmState::kCrashed) {
    const std::string why = last_line(paths.vmm_log());
    return Answer::fail(500, fmt::format("VM '{}' did not start ({}){}", name, vm->exit_reason,
                                         why.empty() ? "" : ": " + why));
  }
  return Answer::ok(200, summary(*vm));
}

Result<VmManager::Launched> VmManager::launch(const VmDefinition& def, const VmPaths& paths,
                                              const std::optional<std::string>& restore,
                                              int* status, const Incoming& incoming) {
  // Checked again, as the files and --allow-dir may have changed since the create, and
  // handed to the VM resolved.
  auto resolved = resolve_vm_files(def, files_, options_.state_dir);
  if (!resolved) {
    *status = 400;
    return resolved.take_error();
  }
  TRY_VOID(prepare_vm_state(paths));
  // Where the VM's API writes its snapshots (its one --api-allow-dir).
  if (mkdir(paths.staging().c_str(), 0700) != 0 && errno != EEXIST) {
    return make_error(fmt::format("{}: cannot create: {}", paths.staging(), std::strerror(errno)));
  }
  TRY_VOID(write_machine_file(*resolved, paths));
  std::vector<std::string> args = vm_run_arguments(paths, restore);
  // The machine comes with the migration (but for its engine settings, the definition's).
  args.insert(args.end(), incoming.args.begin(), incoming.args.end());
  if (!options_.jail_dir.empty()) args.insert(args.begin() + 1, {"--jail", options_.jail_dir});
  args.insert(args.begin(), options_.vessel_binary);
  std::vector<std::string> env;
  if (!incoming.ticket.empty()) env.push_back("VESSEL_INCOMING_TICKET=" + incoming.ticket);
  auto pid = spawn_in_session(options_.vessel_binary, args, paths.vmm_log(), env);
  if (!pid) return pid.take_error();
  crash_point("start", std::chrono::milliseconds(500));  // once the VM is up, before runtime.json
  auto kill_it = [&](const std::string& why, int fd) {
    if (fd >= 0) close(fd);
    kill(*pid, SIGKILL);
    waitpid(*pid, nullptr, 0);
    return make_error(why);
  };
  auto fd = open_pidfd(*pid);
  if (!fd) return kill_it(fd.error().message, -1);
  Launched l;
  l.pid = *pid;
  l.pidfd = *fd;
  const auto st = read_proc_stat(*pid);
  l.start_ticks = st ? st->start_ticks : 0;
  l.started_at = wall_seconds();
  const json rt{{"pid", l.pid},
                {"start_ticks", l.start_ticks},
                {"started_at", l.started_at},
                {"api_socket", paths.api_socket()}};
  if (auto w = write_file_atomically(paths.runtime(), rt.dump() + "\n"); !w) {
    return kill_it(w.error().message, l.pidfd);
  }
  return l;
}

Answer VmManager::stop(const std::string& name) {
  std::unique_lock lock(mu_);
  Vm* vm = find_locked(name);
  if (Answer a = begin_operation(vm, name, "stop"); !a.error.empty()) return a;
  Answer out = stop_locked(lock, *vm);
  vm->busy = false;
  return out;
}

// Shutdown through the VM's API (a guest poweroff, at once), SIGTERM if the API does not
// answer, SIGKILL after the grace period. Called with the lock held and the VM busy.
Answer VmManager::stop_locked(std::unique_lock<std::mutex>& lock, Vm& vm) {
  vm.stop_requested = true;
  const uint64_t generation = vm.generation;
  const int pidfd = vm.pidfd;
  lock.unlock();
  auto asked = call_vm(vm, "PUT", "/actions", json{{"action_type", "Shutdown"}}, kVmCallTimeout);
  lock.lock();
  auto ended = [&] { return vm.generation != generation || !vm.live(); };
  if (!asked && !ended()) {
    log(LogLevel::kWarn, "{}; sending SIGTERM", asked.error().message);
    signal_pidfd(pidfd, SIGTERM);
  }
  if (!changed_.wait_for(lock, options_.stop_grace, ended)) {
    log(LogLevel::kWarn, "VM '{}' (pid {}) still runs {} ms after the stop request: SIGKILL",
        vm.name, vm.pid, options_.stop_grace.count());
    signal_pidfd(pidfd, SIGKILL);
    if (!changed_.wait_for(lock, kKillWait, ended)) {
      return Answer::fail(
          500, fmt::format("VM '{}' (pid {}) did not end after SIGKILL", vm.name, vm.pid));
    }
  }
  return Answer::ok(200, summary(vm));
}

Answer VmManager::pause(const std::string& name) {
  return call_operation(name, "pause", VmState::kRunning, VmState::kPaused, "PATCH", "/vm",
                        json{{"state", "Paused"}}, kPauseTimeout);
}

Answer VmManager::resume(const std::string& name) {
  return call_operation(name, "resume", VmState::kPaused, VmState::kRunning, "PATCH", "/vm",
                        json{{"state", "Resumed"}}, kVmCallTimeout);
}

Answer VmManager::reboot(const std::string& name) {
  // A reboot builds a new machine, which runs, paused before or not.
  return call_operation(name, "reboot", std::nullopt, VmState::kRunning, "PUT", "/actions",
                        json{{"action_type", "Reboot"}}, kVmCallTimeout);
}

Answer VmManager::call_operation(const std::string& name, const char* what,
                                 std::optional<VmState> from, VmState to, const char* method,
                                 const char* path, const json& body,
                                 std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  Vm* vm = find_locked(name);
  if (Answer a = begin_operation(vm, name, what); !a.error.empty()) return a;
  if (from && vm->state != *from) {
    vm->busy = false;
    return Answer::fail(
        409, fmt::format("VM '{}' is {}: cannot {} it", name, state_name(vm->state), what));
  }
  lock.unlock();
  auto r = call_vm(*vm, method, path, body, timeout);
  lock.lock();
  vm->busy = false;
  if (!r) return Answer::fail(500, r.error().message);
  if (vm->live()) vm->state = to;
  return Answer::ok(200, summary(*vm));
}

Result<VmPaths> VmManager::paths(const std::string& name, bool live, int* status) {
  std::lock_guard lock(mu_);
  Vm* vm = find_locked(name);
  if (vm == nullptr) {
    *status = 404;
    return make_error(fmt::format("VM '{}': no such VM", name));
  }
  if (live && !vm->live()) {
    *status = 409;
    return make_error(fmt::format("VM '{}' is {}: its console is open only while it runs", name,
                                  state_name(vm->shown_state())));
  }
  return vm->paths;
}

}  // namespace vessel::daemon
