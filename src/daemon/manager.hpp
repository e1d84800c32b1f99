// The VMs of one state dir and their processes: definitions on disk, starting and stopping,
// pausing and rebooting through each VM's own API, watching the processes (pidfds on an event
// loop, children or not), re-adopting them after a daemon restart, and the figures sampled
// from them. Every method is safe from any thread; the slow ones (those that wait for a VM)
// do not hold up the others.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/firecracker/host_files.hpp"
#include "base/event_loop.hpp"
#include "base/result.hpp"
#include "daemon/process.hpp"
#include "daemon/state_dir.hpp"
#include "daemon/vm_definition.hpp"

namespace vessel::daemon {

enum class VmState { kStopped, kRunning, kPaused, kCrashed, kBroken };
const char* state_name(VmState state);
inline constexpr VmState kAllStates[] = {VmState::kStopped, VmState::kRunning, VmState::kPaused,
                                         VmState::kCrashed, VmState::kBroken};

struct ManagerOptions {
  std::string state_dir;
  std::string vessel_binary;  // what `vessel run` is: the daemon's own binary
  // Where the files a VM definition names may be, besides DIR/images (`--allow-dir`).
  std::vector<std::string> allow_dirs;
  // Non-empty: each VM runs in a jail under this directory (`vessel run --jail`).
  std::string jail_dir;
  // After a stop request, how long the VM has to end before it is killed.
  std::chrono::milliseconds stop_grace{10'000};
  // How often MIPS, CPU% and the VMs' statistics are sampled.
  std::chrono::milliseconds sample_interval{2'000};
};

// What an operation answers: a status and a JSON body, or a status and a one-line error.
struct Answer {
  int status = 200;
  nlohmann::json body;
  std::string error;  // set: the request failed with this message

  static Answer ok(int status, nlohmann::json body) { return {status, std::move(body), {}}; }
  static Answer fail(int status, std::string message) { return {status, {}, std::move(message)}; }
};

// One VM as the metrics see it.
struct VmFigures {
  std::string name;
  VmState state = VmState::kStopped;
  int64_t cpus = 0, memory_mib = 0;
  std::optional<ProcStat> proc;  // the live process
  std::vector<std::pair<unsigned, double>> vcpus;
  nlohmann::json vm_stats;  // the VM's own statistics, last sampled (null when none)
};

class VmManager {
 public:
  // Creates the state dir if needed, takes its lock, loads the definitions and re-adopts the
  // VMs still running.
  static Result<std::unique_ptr<VmManager>> open(ManagerOptions options);
  ~VmManager();
  VmManager(const VmManager&) = delete;
  VmManager& operator=(const VmManager&) = delete;

  Answer list();
  Answer get(const std::string& name);
  Answer create(const std::optional<nlohmann::json>& body);
  Answer remove(const std::string& name, bool force);
  Answer start(const std::string& name);
  Answer stop(const std::string& name);
  Answer pause(const std::string& name);
  Answer resume(const std::string& name);
  Answer reboot(const std::string& name);
  // Live migration (manager_migrate.cpp, docs/migration.md): the VM moved to the daemon at
  // body.to with its token, and removed here once it runs there; and this daemon's side, a
  // VM created from the source's definition and started waiting for the stream.
  Answer migrate(const std::string& name, const std::optional<nlohmann::json>& body);
  Answer incoming(const std::optional<nlohmann::json>& body);
  Answer stats(const std::string& name);
  // Snapshots (manager_snapshot.cpp, snapshot_store.hpp): a Full snapshot of a live VM (body
  // {"snapshot": SNAP}, optional), the VM back at one of its snapshots, a new VM started from
  // one (body {"name", "hostfwd": [RULE...]}), and the list.
  Answer snapshot(const std::string& name, const std::optional<nlohmann::json>& body);
  Answer restore(const std::string& name, const std::optional<nlohmann::json>& body);
  Answer clone(const std::string& snap, const std::optional<nlohmann::json>& body);
  Answer snapshots(const std::optional<std::string>& vm);
  Answer snapshot_info(const std::string& snap);
  std::vector<VmFigures> figures();

  // The VM's files, when it exists; with `live`, only while its process runs (else 404/409).
  Result<VmPaths> paths(const std::string& name, bool live, int* status);

  EventLoop& loop() { return loop_; }
  const ManagerOptions& options() const { return options_; }
  // The files clients may name: DIR/images and --allow-dir, never the rest of DIR.
  const api::HostFilePolicy& host_files() const { return files_; }

  struct Vm;

 private:
  explicit VmManager(ManagerOptions options, StateLock lock, api::HostFilePolicy files);
  Result<void> load();
  void refresh_locked();
  void report_found_locked();
  Result<std::string> orphan_runtime(const Vm& vm);
  void load_definition(Vm& vm);
  void adopt(Vm& vm);
  Result<void> watch(Vm& vm);
  void on_exit(const std::string& name, uint64_t generation);
  nlohmann::json summary(const Vm& vm) const;
  Vm* find_locked(const std::string& name);
  VmPaths paths_of(const std::string& name) const;
  // The VM's API: one request, answered 2xx, else an error naming the VM.
  Result<nlohmann::json> call_vm(const Vm& vm, const char* method, const std::string& path,
                                 const std::optional<nlohmann::json>& body,
                                 std::chrono::milliseconds timeout) const;
  // Marks a live VM busy for a slow operation (409 when it is not live, or busy already).
  Answer begin_operation(Vm* vm, const std::string& name, const char* what);
  Answer stop_locked(std::unique_lock<std::mutex>& lock, Vm& vm);
  // What a migration's destination adds to its `vessel run`: the --incoming options, and the
  // stream's ticket, which goes in the environment (VESSEL_INCOMING_TICKET), where ps and
  // /proc/PID/cmdline do not show it to other users.
  struct Incoming {
    std::vector<std::string> args;
    std::string ticket;
  };
  // Starts the VM's process (from a restore dir when given) and answers once it runs, or at
  // once with `incoming` (a migration's destination); called
  // with the lock held, for a VM that is not live.
  Answer start_locked(std::unique_lock<std::mutex>& lock, Vm& vm,
                      const std::optional<std::string>& restore, const Incoming& incoming = {});
  // SIGKILL for a VM whose state is to be dropped (a restore); waits for its end.
  Result<void> kill_locked(std::unique_lock<std::mutex>& lock, Vm& vm);
  // Pauses (when running), snapshots into the staging dir, stores SNAP, resumes: no lock held.
  Result<nlohmann::json> take_snapshot(const Vm& vm, const std::string& snap, bool running);
  // Writes a definition the daemon made (a restore's, a clone's) to the VM's config.json.
  Result<void> write_definition(Vm& vm, VmDefinition definition);
  // One request to the VM's API for a VM in state `from` (any live state when nullopt), which
  // is in state `to` once it succeeded.
  Answer call_operation(const std::string& name, const char* what, std::optional<VmState> from,
                        VmState to, const char* method, const char* path,
                        const nlohmann::json& body, std::chrono::milliseconds timeout);
  void sampler();
  // start(), or with `incoming` a VM that waits for a migration's stream: answered at once,
  // without waiting for its machine.
  Answer start_process(const std::string& name, const Incoming& incoming);
  struct Launched {
    pid_t pid = 0;
    int pidfd = -1;
    uint64_t start_ticks = 0;
    double started_at = 0;
  };
  // Starts the VM's process and records it in runtime.json (without the lock); on error
  // *status is the HTTP status to answer.
  Result<Launched> launch(const VmDefinition& definition, const VmPaths& paths,
                          const std::optional<std::string>& restore, int* status,
                          const Incoming& incoming = {});

  ManagerOptions options_;
  StateLock lock_;
  const api::HostFilePolicy files_;
  EventLoop loop_;
  std::mutex mu_;
  std::condition_variable changed_;  // a VM's process ended
  std::map<std::string, std::unique_ptr<Vm>> vms_;
  std::thread sampler_;
  std::condition_variable sampler_wake_;
  bool stopping_ = false;
};

}  // namespace vessel::daemon
