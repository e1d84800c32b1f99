#include "vmm/vm.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "accel/kvm/kvm_vm.hpp"
#include "base/files.hpp"
#include "base/log.hpp"
#include "base/thread_role.hpp"
#include "gdb/server.hpp"

namespace vessel {

namespace {

// A guest's failure code as the process exit status: 1..255 as they are; anything else (0, or
// a code that would wrap to 0 = pass or to an unrelated status) as kExitGuestError.
int failure_status(int64_t code) {
  return code >= 1 && code <= 255 ? static_cast<int>(code) : kExitGuestError;
}

// On a terminal the guest may have left the cursor mid-line; redirected, stderr gets exactly
// one line per message.
const char* line_start() { return isatty(STDERR_FILENO) == 1 ? "\r\n" : ""; }

// The translator's counters that add up (over harts, and over the machines of a run); not the
// arena's size and use, which are the current machine's.
void add_jit_counters(rv::JitStats& sum, const rv::JitStats& s) {
  sum.blocks_translated += s.blocks_translated;
  sum.code_bytes += s.code_bytes;
  sum.guest_instructions += s.guest_instructions;
  sum.translate_ns += s.translate_ns;
  sum.chained_exits += s.chained_exits;
  sum.unchained_exits += s.unchained_exits;
  sum.cold_runs += s.cold_runs;
  sum.cache_flushes += s.cache_flushes;
  for (size_t k = 0; k < std::size(sum.helper_calls); ++k) sum.helper_calls[k] += s.helper_calls[k];
}

// What a reboot carries over from the machines it replaced, so that the statistics count the
// whole run.
struct PastMachines {
  uint64_t instructions = 0;
  VirtMachine::IoCounters io;
  rv::JitStats jit;
  // The host CPU time of the vCPU threads that ended, by hart: a reboot starts new threads, and
  // the daemon adds these to what /proc says of the running ones (vcpu_seconds_before_reboots).
  std::vector<double> vcpu_seconds;

  void add(VirtMachine& m) {
    instructions += m.instructions_retired();
    io += m.io_counters();
    for (const auto& h : m.harts()) add_jit_counters(jit, h->jit_stats());
  }
};

// "jit" in the statistics: every hart's translator counters summed (and those of the machines a
// reboot replaced); cache_bytes is each hart's arena (--jit-cache), cache_used all of them now.
nlohmann::json jit_json(VirtMachine& machine, const rv::JitStats& past) {
  rv::JitStats s = past;
  s.cache_bytes = s.cache_used = 0;
  for (const auto& h : machine.harts()) {
    const rv::JitStats& t = h->jit_stats();
    add_jit_counters(s, t);
    s.cache_bytes = std::max(s.cache_bytes, t.cache_bytes);
    s.cache_used += t.cache_used;
  }
  nlohmann::json helpers = nlohmann::json::object();
  for (size_t k = 0; k < std::size(s.helper_calls); ++k) {
    helpers[rv::kHelperKindNames[k]] = s.helper_calls[k];
  }
  return {{"blocks_translated", s.blocks_translated},
          {"code_bytes", s.code_bytes},
          {"guest_instructions", s.guest_instructions},
          {"translate_ms", std::round(static_cast<double>(s.translate_ns) / 1e3) / 1e3},
          {"chained_exits", s.chained_exits},
          {"unchained_exits", s.unchained_exits},
          {"cold_runs", s.cold_runs},
          {"cache_flushes", s.cache_flushes},
          {"cache_bytes", s.cache_bytes},
          {"cache_used", s.cache_used},
          {"helper_calls", std::move(helpers)}};
}

}  // namespace

nlohmann::json balloon_json(const virtio::VirtioBalloon& b) {
  nlohmann::json j{{"target_pages", b.target_pages()},     {"actual_pages", b.actual_pages()},
                   {"target_mib", b.target_pages() >> 8},  {"actual_mib", b.actual_pages() >> 8},
                   {"released_pages", b.pages_released()}, {"inflate_chains", b.inflate_chains()},
                   {"deflate_chains", b.deflate_chains()}, {"stats_reports", b.stats().reports}};
  static constexpr const char* kNames[] = {"swap_in",          "swap_out",    "major_faults",
                                           "minor_faults",     "free_memory", "total_memory",
                                           "available_memory", "disk_caches", "hugetlb_allocations",
                                           "hugetlb_failures"};
  const virtio::BalloonStats stats = b.stats();
  for (size_t i = 0; i < std::size(kNames); ++i) {
    if (stats.values[i]) j[kNames[i]] = *stats.values[i];
  }
  return j;
}

namespace {

// Under --accel kvm: KVM_RUN's exits by kind and per second, and the MMIO ones by device.
void add_kvm_stats(nlohmann::json& j, const kvm::KvmVm& kvm, double seconds) {
  nlohmann::json kinds = nlohmann::json::object();
  uint64_t total = 0;
  for (const auto& [name, n] : kvm.exits_by_kind()) {
    kinds[name] = n;
    total += n;
  }
  nlohmann::json devices = nlohmann::json::object();
  for (const auto& [name, n] : kvm.mmio_exits_by_device()) devices[name] = n;
  j["engine"] = "kvm";
  j["kvm_exits"] = total;
  j["kvm_exits_per_second"] =
      seconds > 0 ? std::round(static_cast<double>(total) / seconds * 10) / 10 : 0.0;
  j["kvm_exits_by_kind"] = std::move(kinds);
  j["kvm_mmio_exits_by_device"] = std::move(devices);
}

// Run statistics as one JSON object: at exit with --stats, and on SIGUSR1 while running.
nlohmann::json stats_json(VirtMachine& machine, const PastMachines& past, double seconds,
                          const kvm::KvmVm* kvm) {
  const uint64_t n = past.instructions + machine.instructions_retired();
  VirtMachine::IoCounters io = past.io;
  io += machine.io_counters();
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  // What the host spends beyond the guest RAM the guest touched: the fixed overhead.
  long rss_pages = 0;
  if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
    long size_pages = 0;
    if (std::fscanf(f, "%ld %ld", &size_pages, &rss_pages) != 2) rss_pages = 0;
    std::fclose(f);
  }
  const uint64_t rss_kib =
      static_cast<uint64_t>(rss_pages) * static_cast<uint64_t>(sysconf(_SC_PAGESIZE)) / 1024;
  const uint64_t guest_kib = machine.guest_ram_resident() / 1024;
  rv::HartStats s;
  for (const auto& h : machine.harts()) {
    const rv::HartStats& t = h->stats;
    s.blocks_built += t.blocks_built;
    s.jump_cache_misses += t.jump_cache_misses;
    s.tlb_flushes += t.tlb_flushes;
    s.tlb_misses += t.tlb_misses;
    s.traps += t.traps;
    s.interrupts += t.interrupts;
    s.mmio_reads += t.mmio_reads;
    s.mmio_writes += t.mmio_writes;
    for (size_t c = 0; c < std::size(s.interrupts_by_cause); ++c) {
      s.interrupts_by_cause[c] += t.interrupts_by_cause[c];
    }
  }
  // Every hart runs the same engine (VirtConfig::engine).
  const rv::Engine engine = machine.harts().front()->engine();
  nlohmann::json j;
  j["harts"] = machine.harts().size();
  j["engine"] = rv::engine_name(engine);
  j["instructions"] = n;
  // Guest time (mtime): it stands still while the VM is paused.
  j["guest_seconds"] =
      std::round(static_cast<double>(machine.clock().mtime()) / MachineClock::kFrequencyHz * 1000) /
      1000;
  j["seconds"] = std::round(seconds * 1000) / 1000;
  j["mips"] = seconds > 0 ? std::round(static_cast<double>(n) / seconds / 1e5) / 10 : 0.0;
  j["max_rss_kib"] = usage.ru_maxrss;
  j["rss_kib"] = rss_kib;
  j["guest_resident_kib"] = guest_kib;
  j["overhead_kib"] = rss_kib > guest_kib ? rss_kib - guest_kib : 0;
  j["blocks_built"] = s.blocks_built;
  j["jump_cache_misses"] = s.jump_cache_misses;
  j["tlb_flushes"] = s.tlb_flushes;
  j["tlb_misses"] = s.tlb_misses;
  j["traps"] = s.traps;
  j["interrupts"] = s.interrupts;
  j["interrupts_by_cause"] = s.interrupts_by_cause;
  j["disk_read_bytes"] = io.disk_read_bytes;
  j["disk_written_bytes"] = io.disk_written_bytes;
  j["net_rx_bytes"] = io.net_rx_bytes;
  j["net_tx_bytes"] = io.net_tx_bytes;
  j["disk_reads"] = io.disk_reads;
  j["disk_writes"] = io.disk_writes;
  j["disk_flushes"] = io.disk_flushes;
  j["net_rx_frames"] = io.net_rx_frames;
  j["net_tx_frames"] = io.net_tx_frames;
  j["uart_bytes_out"] = io.uart_bytes_out;
  j["uart_bytes_in"] = io.uart_bytes_in;
  j["mmio_reads"] = s.mmio_reads;
  j["mmio_writes"] = s.mmio_writes;
  // Only where a translator runs: zeros under interp would read as a translator that did nothing.
  if (engine == rv::Engine::kJit) j["jit"] = jit_json(machine, past.jit);
  if (virtio::VirtioBalloon* b = machine.balloon()) j["balloon"] = balloon_json(*b);
  if (!past.vcpu_seconds.empty()) {
    nlohmann::json before = nlohmann::json::array();
    for (double v : past.vcpu_seconds) before.push_back(std::round(v * 1000) / 1000);
    j["vcpu_seconds_before_reboots"] = std::move(before);
  }
  if (kvm != nullptr) add_kvm_stats(j, *kvm, seconds);
  return j;
}

// The calling thread's CPU time (user and system), in seconds.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// QEMU's monitor commands for the balloon: `balloon MIB` asks for the guest's memory to become
// MIB, `info balloon` tells what it is ("actual").
std::string balloon_command(VmHandle& handle, const std::string& line) {
  std::string out;
  auto done = handle.with_balloon([&](virtio::VirtioBalloon& b, uint64_t ram_bytes) {
    const uint64_t ram_mib = ram_bytes >> 20;
    if (line == "info balloon") {
      out = fmt::format("balloon: actual={}",
                        ram_mib - std::min<uint64_t>(ram_mib, b.actual_pages() >> 8));
      return;
    }
    uint64_t mib = 0;
    const std::string arg = line.substr(8);
    const auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), mib);
    if (ec != std::errc() || end != arg.data() + arg.size() || mib == 0 || mib > ram_mib) {
      out = fmt::format("balloon: '{}' is not a size in MiB from 1 to {}", arg, ram_mib);
      return;
    }
    b.set_target_pages(static_cast<uint32_t>((ram_mib - mib) << 8));
  });
  return done ? out : fmt::format("{}: {}", line, done.error().message);
}

// The console monitor's commands (Ctrl-A c), as QEMU's monitor names them.
std::string monitor_command(VmHandle& handle, const std::string& line) {
  constexpr const char* kCommands =
      "info status, info balloon, balloon MIB, commit all, stop, cont, quit";
  if (line == "info status") {
    const VmHandle::State state = handle.state();
    return fmt::format("VM status: {}", state == VmHandle::State::kPaused    ? "paused"
                                        : state == VmHandle::State::kRunning ? "running"
                                                                             : "not running");
  }
  if (line == "stop" || line == "cont" || line == "c") {
    auto done = line == "stop" ? handle.pause() : handle.resume();
    return done ? "" : fmt::format("{}: {}", line, done.error().message);
  }
  if (line == "info balloon" || line.starts_with("balloon ")) return balloon_command(handle, line);
  if (line == "commit all" || line == "commit") return handle.commit_disks();
  if (line == "help" || line == "?") return kCommands;
  return fmt::format("unknown command '{}' ({})", line, kCommands);
}

std::atomic<bool> g_stats_requested{false};
void on_sigusr1(int) { g_stats_requested.store(true, std::memory_order_relaxed); }

// How often the supervising thread looks at statistics requests and time-driven devices while
// the harts run on their own threads. Endings wake it at once, it wakes for a --timeout on
// time, and the harts poll the same things themselves whenever they run or wake (an idle hart
// at least once a second), so the tick only bounds how late SIGUSR1 is answered. It is the
// fixed cost of an idle VM: ~30 us per look, which 32 idle VMs at 5 looks a second turned into
// 5% of their whole idle cost.
constexpr auto kSupervisorTick = std::chrono::seconds(1);
// A hart's poll of the platform (HTIF, the RTC's alarm, the deadline and signals) takes host
// clock reads and locks: at every 4096 instructions that was some 5% of translated code's time.
// Every 100 us of guest time (1000 ticks of the 10 MHz mtime), and after every WFI, is enough.
constexpr uint64_t kPlatformPollTicks = 1000;
// How long pause() waits for every hart to stop before it reports failure.
constexpr auto kPauseTimeout = std::chrono::seconds(10);

// The machine of one boot and, under --accel kvm, the KVM VM that runs its harts (declared
// after the machine, so that it goes first: it points into the machine).
struct Boot {
  std::unique_ptr<VirtMachine> machine;
  std::unique_ptr<kvm::KvmVm> kvm;
};

Result<Boot> build_boot(const VmOptions& options, const VirtConfig& config, const VirtHost& host,
                        const snapshot::Loaded* restore) {
  Boot b;
  if (options.accel != Accel::kKvm) {
    b.machine = TRY(restore != nullptr ? snapshot::restore(*restore, options.machine, host)
                                       : VirtMachine::create(config, host));
    return b;
  }
  if (restore != nullptr)
    return make_error("--restore: snapshots are not supported under --accel kvm");
  // KVM first: a host without it is refused before anything (an overlay, say) is created, and
  // the device tree advertises only what its vCPUs have.
  b.kvm = TRY(kvm::KvmVm::open(config.num_harts, options.kvm_device));
  VirtConfig restricted = config;
  TRY_VOID(b.kvm->restrict_config(restricted));
  b.machine = TRY(VirtMachine::create(restricted, host));
  TRY_VOID(b.kvm->attach(*b.machine, host.power));
  return b;
}

}  // namespace

enum class Ending { kNone, kPoweroff, kReset, kFail, kHtif, kQuit, kTimeout, kTrapLoop, kMigrated };

// One run of run_vm, as its VmHandle reaches it.
struct VmHandle::Run {
  std::atomic<bool> stop{false};
  std::atomic<Ending> ending{Ending::kNone};
  // A poweroff asked for while a reboot is under way must end the run, not be forgotten when
  // the new machine starts.
  std::atomic<bool> poweroff_requested{false};
  std::atomic<int> code{0};
  // The supervising thread sleeps on this between its looks at the clock.
  std::mutex mu;
  std::condition_variable cv;
  // Under the handle's mu_: the machine of the current boot (a reboot replaces it), and the
  // configuration it was built from (a restored machine's is the snapshot's), and the KVM VM
  // running its harts under --accel kvm.
  VirtMachine* machine = nullptr;
  VirtConfig config;
  kvm::KvmVm* kvm = nullptr;
  rv::Hart::HoldControl hold;
  std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
  PastMachines past;  // the counters of machines a reboot replaced
  // Held by a live migration while it reads the machine: a reboot or the run's end waits.
  std::mutex in_use;

  void end(Ending e, int status) {
    Ending expected = Ending::kNone;
    if (ending.compare_exchange_strong(expected, e)) code = status;
    {
      std::lock_guard<std::mutex> lock(mu);
      stop.store(true, std::memory_order_release);
    }
    cv.notify_all();
  }
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
};

const char* VmHandle::state_name(State s) {
  switch (s) {
    case State::kNotStarted: return "Not started";
    case State::kRunning: return "Running";
    case State::kPaused: return "Paused";
    case State::kEnded: return "Ended";
  }
  return "?";
}

VmHandle::State VmHandle::state() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_;
}

Result<void> VmHandle::pause() {
  std::lock_guard<std::mutex> lock(mu_);
  if (state_ == State::kPaused) return {};
  if (state_ != State::kRunning || run_ == nullptr || run_->machine == nullptr) {
    return make_error(fmt::format("the VM is not running (state: {})", state_name(state_)));
  }
  if (run_->kvm != nullptr) return make_error("pausing is not supported under --accel kvm");
  VirtMachine& m = *run_->machine;
  run_->hold.hold.store(true, std::memory_order_release);
  m.kick_all();
  const auto until = std::chrono::steady_clock::now() + kPauseTimeout;
  while (run_->hold.held.load(std::memory_order_acquire) < m.harts().size()) {
    if (run_->stop.load(std::memory_order_acquire)) break;  // ending anyway
    if (std::chrono::steady_clock::now() > until) {
      run_->hold.hold.store(false, std::memory_order_release);
      m.kick_all();
      return make_error("the harts did not stop within 10 s");
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  // Guest time stands still while paused: resume() restarts the clock from here.
  m.clock().freeze();
  state_ = State::kPaused;
  return {};
}

Result<void> VmHandle::resume() {
  std::lock_guard<std::mutex> lock(mu_);
  if (state_ == State::kRunning) return {};
  if (state_ != State::kPaused || run_ == nullptr || run_->machine == nullptr) {
    return make_error(fmt::format("the VM is not paused (state: {})", state_name(state_)));
  }
  run_->machine->clock().thaw();
  run_->hold.hold.store(false, std::memory_order_release);
  run_->machine->kick_all();
  state_ = State::kRunning;
  return {};
}

Result<snapshot::Created> VmHandle::snapshot(const snapshot::CreateOptions& options) {
  std::lock_guard<std::mutex> lock(mu_);
  if (state_ != State::kPaused || run_ == nullptr || run_->machine == nullptr) {
    return make_error(
        fmt::format("the VM must be paused to snapshot it (state: {})", state_name(state_)));
  }
  return snapshot::create(*run_->machine, run_->config, options);
}

Result<migration::SendStats> VmHandle::migrate(const migration::SendOptions& options) {
  std::unique_lock<std::mutex> lock(mu_);
  if ((state_ != State::kRunning && state_ != State::kPaused) || run_ == nullptr ||
      run_->machine == nullptr) {
    return make_error(fmt::format("the VM is not running (state: {})", state_name(state_)));
  }
  if (run_->kvm != nullptr) return make_error("live migration is not supported under --accel kvm");
  Run* run = run_;
  // Never waited for under mu_ (run_vm takes in_use, then mu_).
  std::unique_lock<std::mutex> use(run->in_use, std::try_to_lock);
  if (!use.owns_lock() || run->stop.load()) return make_error("the VM is ending or rebooting");
  migration::SourceVm vm{*run->machine,
                         run->config,
                         [this] { return pause(); },
                         [this] { return resume(); },
                         [run] { return run->stop.load(std::memory_order_acquire); },
                         state_ == State::kRunning};
  lock.unlock();
  auto stats = migration::send(vm, options);
  // The API's answer reports it (this thread may not look at the terminal to say it here).
  if (stats) run->end(Ending::kMigrated, kExitOk);
  return stats;
}

std::string VmHandle::stats_json() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (run_ == nullptr || run_->machine == nullptr) return {};
  nlohmann::json j = vessel::stats_json(*run_->machine, run_->past, run_->seconds(), run_->kvm);
  j["state"] = state_name(state_);
  return j.dump();
}

Result<void> VmHandle::with_balloon(
    const std::function<void(virtio::VirtioBalloon&, uint64_t)>& fn) {
  std::lock_guard<std::mutex> lock(mu_);
  if (run_ == nullptr || run_->machine == nullptr) return make_error("the VM is not running");
  virtio::VirtioBalloon* balloon = run_->machine->balloon();
  if (balloon == nullptr) return make_error("the VM has no balloon device (--balloon)");
  fn(*balloon, run_->machine->ram_bytes());
  return {};
}

std::string VmHandle::commit_disks() {
  std::lock_guard<std::mutex> lock(mu_);
  if (run_ == nullptr || run_->machine == nullptr) return "commit: the VM is not running";
  return run_->machine->commit_disks();
}

void VmHandle::request_poweroff() {
  std::lock_guard<std::mutex> lock(mu_);
  if (run_ == nullptr) return;
  run_->poweroff_requested = true;
  run_->end(Ending::kPoweroff, kExitOk);
}

std::string VmHandle::start_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return start_error_;
}

void VmHandle::request_reboot() {
  std::lock_guard<std::mutex> lock(mu_);
  if (run_ != nullptr) run_->end(Ending::kReset, kExitOk);
}

namespace {

// Under --accel kvm, each hart is two threads: one in KVM_RUN serving its exits, one carrying
// the PLIC's interrupt into it (kvm_vm.hpp). `failed` ends the VM when KVM cannot go on.
void start_kvm_threads(kvm::KvmVm& kvm, const std::atomic<bool>& stop, size_t harts,
                       const std::function<void()>& failed, std::vector<std::thread>& threads,
                       std::vector<double>& thread_seconds) {
  for (unsigned i = 0; i < harts; ++i) {
    threads.emplace_back([&kvm, &stop, &failed, i, slot = &thread_seconds[i]] {
      pthread_setname_np(pthread_self(), fmt::format("vcpu{}", i).c_str());
      enter_thread_role(ThreadRole::kVcpu);
      if (auto ran = kvm.run_vcpu(i, stop); !ran) {
        write_stderr_line(fmt::format("{}vessel: {}", line_start(), ran.error().message));
        failed();
      }
      *slot = thread_cpu_seconds();
    });
    threads.emplace_back([&kvm, &stop, i] {
      pthread_setname_np(pthread_self(), fmt::format("vcpu{}-irq", i).c_str());
      enter_thread_role(ThreadRole::kVcpu);
      kvm.forward_interrupts(i, stop);
    });
  }
}

}  // namespace

int run_vm(const VmOptions& options) {
  VmHandle::Run state;
  state.config = options.restore ? snapshot::machine_config(*options.restore, options.machine)
                                 : options.machine;
  const std::shared_ptr<VmHandle> handle =
      options.handle ? options.handle : std::make_shared<VmHandle>();

  // The console before the machine: a bad console option is refused before anything (an
  // overlay, say) is created, and the console outlives every machine of the run.
  // With --dump-dtb nothing runs: the console options are only checked.
  std::unique_ptr<VmConsole> console;
  Result<void> console_ok;
  if (options.dump_dtb) {
    console_ok = VmConsole::check(options.console);
  } else if (auto opened = VmConsole::open(options.console)) {
    console = std::move(opened.value());
  } else {
    console_ok = opened.take_error();
  }
  if (!console_ok) {
    fmt::print(stderr, "vessel: {}\n", console_ok.error().message);
    return kExitBadInput;
  }
  VirtHost host;
  host.console_out = [&console](uint8_t b) {
    if (console) console->output(b);
  };
  host.power = [&state](PowerRequest r) {  // harts notice `stop` at their next poll
    switch (r.kind) {
      case PowerRequest::kPoweroff: state.end(Ending::kPoweroff, kExitOk); break;
      case PowerRequest::kReset: state.end(Ending::kReset, kExitOk); break;
      case PowerRequest::kFail: state.end(Ending::kFail, failure_status(r.code)); break;
    }
  };

  // Bound before the machine is built, so that a port in use is refused before anything runs.
  std::unique_ptr<gdb::GdbServer> gdb_server;
  if (options.gdb) {  // with --dump-dtb too: the option is checked, the socket closed at once
    auto listening = gdb::GdbServer::listen(*options.gdb, state.config.num_harts);
    if (!listening) {
      fmt::print(stderr, "vessel: {}\n", listening.error().message);
      return kExitBadInput;
    }
    gdb_server = std::move(listening.value());
  }

  auto boot_or = build_boot(options, state.config, host, options.restore.get());
  if (!boot_or) {
    fmt::print(stderr, "vessel: {}\n", boot_or.error().message);
    if (options.on_start) options.on_start(make_error(boot_or.error().message));
    std::lock_guard<std::mutex> lock(handle->mu_);
    handle->start_error_ = boot_or.error().message;
    return kExitBadInput;
  }
  std::unique_ptr<VirtMachine> machine = std::move(boot_or.value().machine);
  std::unique_ptr<kvm::KvmVm> kvm = std::move(boot_or.value().kvm);

  if (options.dump_dtb) {
    const std::vector<uint8_t>& dtb = machine->dtb();
    if (auto r = write_file_atomically(
            *options.dump_dtb,
            std::string_view(reinterpret_cast<const char*>(dtb.data()), dtb.size()));
        !r) {
      fmt::print(stderr, "vessel: {}\n", r.error().message);
      return kExitBadInput;
    }
    return kExitOk;
  }

  auto monitor = [&handle](const std::string& line) { return monitor_command(*handle, line); };
  if (auto started = console->start([&state] { state.end(Ending::kQuit, kExitOk); }, monitor);
      !started) {
    fmt::print(stderr, "vessel: {}\n", started.error().message);
    return kExitBadInput;
  }
  console->set_uart(&machine->uart());

  // `kill -USR1` prints the statistics of a running VM on stderr.
  struct sigaction sa {};
  sa.sa_handler = on_sigusr1;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR1, &sa, nullptr);

  const auto deadline =
      options.timeout_seconds > 0
          ? state.t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                           std::chrono::duration<double>(options.timeout_seconds))
          : std::chrono::steady_clock::time_point::max();
  // Attach and detach under the handle's lock, so that its users never see a machine that is
  // being replaced or destroyed.
  auto attach = [&](VirtMachine* m) {
    std::lock_guard<std::mutex> lock(handle->mu_);
    handle->run_ = &state;
    state.machine = m;
    state.kvm = m != nullptr ? kvm.get() : nullptr;
    state.hold.hold.store(false, std::memory_order_release);
    handle->state_ = m != nullptr ? VmHandle::State::kRunning : VmHandle::State::kEnded;
    if (m != nullptr) {
      for (auto& h : m->harts()) h->set_hold_control(&state.hold);
    }
    if (gdb_server) gdb_server->set_machine(m);
  };
  attach(machine.get());
  if (options.restore_paused) {
    // As pause() leaves a VM, before any hart thread starts: each holds at its first look.
    std::lock_guard<std::mutex> lock(handle->mu_);
    state.hold.hold.store(true, std::memory_order_release);
    machine->clock().freeze();
    handle->state_ = VmHandle::State::kPaused;
  }
  if (gdb_server)
    gdb_server->start(options.gdb_wait, [&state] { state.end(Ending::kQuit, kExitOk); });

  double restore_ms = -1;  // a restore's time to the harts' start, once known
  bool start_reported = false;
  for (;;) {
    // One host thread per hart; this thread supervises: timeouts, statistics on SIGUSR1, and
    // devices that need time to pass when every hart sleeps.
    auto poll = [&] {
      if (auto code = machine->poll()) {
        state.end(Ending::kHtif, *code == 0 ? kExitOk : failure_status(*code));
      }
      if (std::chrono::steady_clock::now() >= deadline) state.end(Ending::kTimeout, kExitTimeout);
      if (options.terminate_signal != nullptr) {
        if (const int sig = options.terminate_signal->load(std::memory_order_relaxed); sig != 0) {
          state.end(Ending::kQuit, 128 + sig);
        }
      }
    };
    std::mutex report_mu;
    std::vector<std::thread> threads;
    std::vector<double> thread_seconds(machine->harts().size());  // each written by its thread
    const std::function<void()> kvm_failed = [&state] {
      state.end(Ending::kFail, kExitGuestError);
    };
    if (kvm) {
      start_kvm_threads(*kvm, state.stop, machine->harts().size(), kvm_failed, threads,
                        thread_seconds);
    } else {
      for (auto& h : machine->harts()) {
        h->set_poll_period(kPlatformPollTicks);
        threads.emplace_back([&, hart = h.get(), slot = &thread_seconds[threads.size()]] {
          pthread_setname_np(pthread_self(), fmt::format("vcpu{}", hart->hart_id()).c_str());
          enter_thread_role(ThreadRole::kVcpu);  // its filter, before the hart's first instruction
          if (hart->run(state.stop, poll) == rv::StopReason::kTrapLoop) {
            std::lock_guard<std::mutex> lock(report_mu);
            if (state.ending.load() == Ending::kNone) {
              write_stderr_line(
                  fmt::format("{}vessel: {}", line_start(), hart->describe_trap_loop()));
            }
            state.end(Ending::kTrapLoop, kExitGuestError);
          }
          *slot = thread_cpu_seconds();
        });
      }
    }
    if (options.on_start && !start_reported) options.on_start({});
    start_reported = true;
    if (options.restore && restore_ms < 0) {
      restore_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                             options.restore_started)
                       .count();
    }
    // This thread builds the machines of later reboots: its filter is the widest. It takes it
    // once the first machine's harts run (they take theirs first thing), so that loading it
    // does not hold up a restored guest's first instruction; this thread touches nothing of
    // the guest's before it has it. A vCPU thread started after a reboot stacks its filter on
    // this one, which allows all its own does.
    enter_thread_role(ThreadRole::kSupervisor);
    {
      std::unique_lock<std::mutex> lock(state.mu);
      while (!state.stop.load(std::memory_order_acquire)) {
        state.cv.wait_until(lock,
                            std::min(deadline, std::chrono::steady_clock::now() + kSupervisorTick));
        lock.unlock();
        if (g_stats_requested.exchange(false, std::memory_order_relaxed)) {
          write_stderr_line(
              fmt::format("{}{}", line_start(),
                          stats_json(*machine, state.past, state.seconds(), kvm.get()).dump()));
        }
        poll();
        rotate_log_file_if_full();
        lock.lock();
      }
    }
    machine->kick_all();  // harts asleep in WFI, parked or paused see the stop now
    if (kvm) kvm->kick_all();
    for (auto& t : threads) t.join();

    { std::lock_guard<std::mutex> wait(state.in_use); }  // a migration reading the machine
    if (state.ending.load() != Ending::kReset) break;
    // Reboot: a fresh machine from the same configuration, as a power cycle would give.
    attach(nullptr);
    state.past.add(*machine);
    state.past.vcpu_seconds.resize(std::max(state.past.vcpu_seconds.size(), thread_seconds.size()));
    for (size_t i = 0; i < thread_seconds.size(); ++i)
      state.past.vcpu_seconds[i] += thread_seconds[i];
    console->set_uart(nullptr);  // no input reaches the old UART once this returns
    // The old machine goes first: it holds the disks, sockets and forwarded ports.
    kvm.reset();
    machine.reset();
    auto again = build_boot(options, state.config, host, nullptr);
    if (!again) {
      fmt::print(stderr, "vessel: reboot failed: {}\n", again.error().message);
      console->stop();
      std::lock_guard<std::mutex> lock(handle->mu_);
      handle->run_ = nullptr;
      handle->state_ = VmHandle::State::kEnded;
      return kExitBadInput;
    }
    machine = std::move(again.value().machine);
    kvm = std::move(again.value().kvm);
    console->set_uart(&machine->uart());
    state.stop = false;
    state.ending = Ending::kNone;
    if (state.poweroff_requested) state.end(Ending::kPoweroff, kExitOk);
    attach(machine.get());
  }

  if (gdb_server) gdb_server->vm_ended(state.code.load());
  console->stop();
  const double seconds = state.seconds();
  if (state.ending.load() == Ending::kTimeout) {
    write_stderr_line(fmt::format("{}vessel: timeout: the guest was still running after {} s",
                                  line_start(), options.timeout_seconds));
  }
  if (options.stats) {
    nlohmann::json j = stats_json(*machine, state.past, seconds, kvm.get());
    if (restore_ms >= 0) j["restore_ms"] = std::round(restore_ms * 1000) / 1000;
    write_stderr_line(j.dump());
  }
  {
    std::lock_guard<std::mutex> lock(handle->mu_);
    handle->run_ = nullptr;
    handle->state_ = VmHandle::State::kEnded;
  }
  return state.code.load();
}

}  // namespace vessel
