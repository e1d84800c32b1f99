#include "vmm/api_vm.hpp"

#include <fmt/format.h>
#include <signal.h>

#include <condition_variable>
#include <mutex>
#include <optional>

#include "api/firecracker/firecracker_api.hpp"
#include "api/http/server.hpp"
#include "base/thread_role.hpp"

namespace vessel {

namespace {

// The signal (SIGTERM, SIGINT) that asked the process to end, or 0: before a start it ends the
// wait for one; during the run, run_vm ends the VM with status 128 + the signal.
std::atomic<int> g_terminate{0};
void on_terminate(int sig) { g_terminate.store(sig, std::memory_order_relaxed); }

// VmControl over run_vm: start() hands the configuration to the thread that runs VMs and waits
// for the machine to be built (or to fail); the rest goes through the VmHandle.
// What the VM thread is to run: a machine to boot, or a snapshot to restore.
struct Launch {
  VirtConfig config;
  std::shared_ptr<const snapshot::Loaded> restore;
  bool paused = false;
  std::chrono::steady_clock::time_point restore_started{};  // --stats' restore_ms runs from it
};

class ApiVm final : public api::VmControl {
 public:
  ApiVm(std::shared_ptr<VmHandle> handle, VirtConfig base)
      : handle_(std::move(handle)), base_(std::move(base)) {}

  Result<void> start(const VirtConfig& config) override {
    return launch({config, nullptr, false, {}});
  }
  Result<void> create_snapshot(const api::SnapshotFiles& files) override {
    auto created = handle_->snapshot({files.state, files.memory, files.diff});
    if (!created) return created.take_error();
    return {};
  }
  Result<void> load_snapshot(const api::SnapshotFiles& files, bool resume) override {
    const auto started = std::chrono::steady_clock::now();
    auto loaded = snapshot::load(files.state, files.memory);
    if (!loaded) return loaded.take_error();
    auto shared = std::make_shared<const snapshot::Loaded>(std::move(*loaded));
    return launch({snapshot::machine_config(*shared, base_), shared, !resume, started});
  }
  Result<nlohmann::json> migrate(const api::MigrateRequest& request) override {
    migration::SendOptions options;
    auto to = migration::parse_address(request.destination);
    if (!to) return make_error(fmt::format("destination: {}", to.error().message));
    options.to = *to;
    options.ticket = request.ticket;
    options.max_rounds = request.max_rounds;
    options.downtime_target = std::chrono::milliseconds(request.downtime_ms);
    const migration::SendStats s = TRY(handle_->migrate(options));
    return nlohmann::json{{"rounds", s.rounds},         {"bytes_sent", s.bytes_sent},
                          {"pages_sent", s.pages_sent}, {"final_pages", s.final_pages},
                          {"total_ms", s.total_ms},     {"downtime_ms", s.downtime_ms}};
  }
  Result<void> launch(Launch what) {
    std::unique_lock<std::mutex> lock(mu_);
    if (pending_ || handle_->state() != VmHandle::State::kNotStarted) {
      return make_error("the VM was already started");
    }
    pending_ = std::move(what);
    failure_.reset();
    cv_.notify_all();
    // Built, or failed (start may then be tried again), or ended at once.
    cv_.wait(lock, [&] { return failure_.has_value() || started_; });
    if (failure_) return make_error(*failure_);
    return {};
  }
  Result<void> pause() override { return handle_->pause(); }
  Result<void> resume() override { return handle_->resume(); }
  api::VmState state() const override {
    switch (handle_->state()) {
      case VmHandle::State::kNotStarted: return api::VmState::kNotStarted;
      case VmHandle::State::kPaused: return api::VmState::kPaused;
      // A guest that ended is reported as started: Firecracker's process would be gone.
      case VmHandle::State::kRunning:
      case VmHandle::State::kEnded: return api::VmState::kRunning;
    }
    return api::VmState::kRunning;
  }
  nlohmann::json stats() override {
    const std::string s = handle_->stats_json();
    return s.empty() ? nlohmann::json::object() : nlohmann::json::parse(s);
  }
  Result<void> shutdown() override {
    handle_->request_poweroff();
    return {};
  }
  Result<void> reboot() override {
    handle_->request_reboot();
    return {};
  }
  Result<void> set_balloon_target(uint32_t amount_mib) override {
    return handle_->with_balloon([&](virtio::VirtioBalloon& b, uint64_t ram_bytes) {
      b.set_target_pages(
          static_cast<uint32_t>(std::min<uint64_t>(uint64_t{amount_mib} << 8, ram_bytes >> 12)));
    });
  }
  Result<void> set_balloon_stats_interval(unsigned seconds) override {
    bool set = false;
    TRY_VOID(handle_->with_balloon([&](virtio::VirtioBalloon& b, uint64_t) {
      set = b.set_stats_interval(std::chrono::seconds(seconds));
    }));
    if (!set) return make_error("Cannot enable/disable the statistics after boot.");
    return {};
  }
  Result<nlohmann::json> balloon_statistics() override {
    nlohmann::json j;
    TRY_VOID(handle_->with_balloon([&](virtio::VirtioBalloon& b, uint64_t) {
      j = balloon_json(b);
      // Firecracker's fields only; --stats shows the others.
      for (const char* extra :
           {"released_pages", "inflate_chains", "deflate_chains", "stats_reports"}) {
        j.erase(extra);
      }
      j["stats_polling_interval_s"] = b.stats_interval().count();
    }));
    return j;
  }

  // The VM thread: the next configuration to run, once the API (or the command line) gives it;
  // nullopt when asked to terminate first.
  std::optional<Launch> wait_for_start() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!pending_) {
      if (g_terminate.load(std::memory_order_relaxed)) return std::nullopt;
      cv_.wait_for(lock, std::chrono::milliseconds(100));
    }
    return pending_;
  }
  // The VM thread: the machine is built and running (called from run_vm's first attach, seen
  // through the handle's state).
  void report_started() {
    std::lock_guard<std::mutex> lock(mu_);
    started_ = true;
    cv_.notify_all();
  }
  void report_failure(std::string why) {
    std::lock_guard<std::mutex> lock(mu_);
    pending_.reset();
    failure_ = std::move(why);
    cv_.notify_all();
  }
  void give(const VmOptions& options) {
    std::lock_guard<std::mutex> lock(mu_);
    pending_ =
        Launch{options.machine, options.restore, options.restore_paused, options.restore_started};
  }

 private:
  std::shared_ptr<VmHandle> handle_;
  VirtConfig base_;  // the command line's: a restore takes its engine settings
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<Launch> pending_;
  std::optional<std::string> failure_;
  bool started_ = false;
};

}  // namespace

int serve_vm(const ApiVmOptions& options) {
  auto handle = std::make_shared<VmHandle>();
  ApiVm vm(handle, options.vm.machine);
  api::FirecrackerApiOptions api_options;
  api_options.base = options.vm.machine;
  api_options.host_files = options.host_files;
  api::FirecrackerApi api(vm, api_options);
  http::Router router;
  api.add_routes(router);
  http::ServerOptions server_options;
  server_options.unix_path = options.socket_path;
  auto server = http::Server::start(std::move(router), server_options);
  if (!server) {
    fmt::print(stderr, "vessel: --api-sock: {}\n", server.error().message);
    return kExitBadInput;
  }

  struct sigaction sa {};
  sa.sa_handler = on_terminate;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);

  // Firecracker writes a metrics line every 60 s once PUT /metrics is done: a thread of the
  // API's role looks once a second.
  std::mutex tick_mu;
  std::condition_variable tick_cv;
  bool ticking = true;
  std::thread ticker([&] {
    enter_thread_role(ThreadRole::kApi);
    std::unique_lock lock(tick_mu);
    while (!tick_cv.wait_for(lock, std::chrono::seconds(1), [&] { return !ticking; })) {
      lock.unlock();
      api.tick();
      lock.lock();
    }
  });

  if (options.start_now) {
    vm.give(options.vm);
  } else {
    // A load or a start request is to come: its harts' memory is met now, not then.
    VirtMachine::warm_up(options.vm.machine);
  }
  int status = kExitOk;
  for (;;) {
    std::optional<Launch> launch = vm.wait_for_start();
    if (!launch) {  // terminated before any start
      status = 128 + g_terminate.load(std::memory_order_relaxed);
      break;
    }
    VmOptions run = options.vm;
    run.machine = launch->config;
    run.restore = launch->restore;
    run.restore_paused = launch->paused;
    run.restore_started = launch->restore_started;
    run.handle = handle;
    run.terminate_signal = &g_terminate;
    // run_vm builds the machine first: watch for it to be running (or for the run to end).
    std::atomic<bool> done{false};
    std::thread watcher([&] {
      enter_thread_role(ThreadRole::kApi);
      while (!done.load()) {
        if (handle->state() != VmHandle::State::kNotStarted) {
          vm.report_started();
          return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    });
    status = run_vm(run);
    done = true;
    watcher.join();
    if (handle->state() == VmHandle::State::kNotStarted) {
      // The machine could not be built: the API says why and may try again.
      vm.report_failure(handle->start_error());
      if (options.start_now) break;  // the command line's own configuration is wrong
      continue;
    }
    vm.report_started();
    break;
  }
  api.log(api::LogLevelFc::kInfo, "vmm", fmt::format("The microVM ended (exit status {})", status));
  {
    std::lock_guard lock(tick_mu);
    ticking = false;
  }
  tick_cv.notify_all();
  ticker.join();
  (*server)->stop();
  return status;
}

}  // namespace vessel
