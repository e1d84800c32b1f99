// VmManager's figures: a VM's /stats (its own statistics, /proc's and its vCPU threads'), the
// figures the metrics endpoint reads, and the sampler thread that keeps CPU and MIPS current.
#include <algorithm>

#include "api/http/client.hpp"
#include "daemon/manager.hpp"
#include "daemon/manager_vm.hpp"

namespace vessel::daemon {

using nlohmann::json;
using namespace manager_detail;

Answer VmManager::stats(const std::string& name) {
  std::unique_lock lock(mu_);
  Vm* vm = find_locked(name);
  if (vm == nullptr) return no_such_vm(name);
  json out = summary(*vm);
  if (!vm->live()) return Answer::ok(200, std::move(out));
  const pid_t pid = vm->pid;
  const uint64_t generation = vm->generation;
  json cached = vm->vm_stats;
  lock.unlock();
  auto live = call_vm(*vm, "GET", "/vessel/stats", std::nullopt, kVmCallTimeout);
  auto proc = read_proc_stat(vm_process(pid));
  auto vcpus = vcpu_seconds(vm_process(pid));
  lock.lock();
  const json& vm_stats = live ? *live : cached;
  if (vm_stats.is_object()) {
    for (const auto& [key, value] : vm_stats.items()) {
      // The VM's own "state" is its machine's ("Running"); the summary's is the daemon's. Its
      // "engine" is the one running, which a definition edited since then does not change.
      if (key == "state") {
        out["vm_state"] = value;
      } else if (key == "engine" || !out.contains(key)) {
        out[key] = value;
      }
    }
  }
  if (proc && vm->generation == generation) {
    out["host_cpu_seconds"] =
        static_cast<double>(proc->utime_ticks + proc->stime_ticks) / clock_ticks_per_second();
    out["rss_bytes"] = proc->rss_pages * page_size();
    json v = json::array();
    for (auto [index, seconds] : vm->vcpu_counters.total(std::move(vcpus), vm_stats)) {
      v.push_back({{"vcpu", index}, {"seconds", seconds}});
    }
    out["vcpu_seconds"] = std::move(v);
  }
  return Answer::ok(200, std::move(out));
}

std::vector<VmFigures> VmManager::figures() {
  std::vector<VmFigures> out;
  std::vector<pid_t> pids;
  std::vector<uint64_t> generations;
  {
    std::lock_guard lock(mu_);
    refresh_locked();
    for (const auto& [name, vm] : vms_) {
      VmFigures f;
      f.name = name;
      f.state = vm->shown_state();
      if (vm->definition) {
        f.cpus = vm->definition->config.machine.num_harts;
        f.memory_mib = static_cast<int64_t>(vm->definition->config.machine.ram_size >> 20);
      }
      f.vm_stats = vm->vm_stats;
      out.push_back(std::move(f));
      pids.push_back(vm->pid);
      generations.push_back(vm->generation);
    }
  }
  for (size_t i = 0; i < out.size(); ++i) {
    if (pids[i] <= 0) continue;
    const pid_t vm_pid = vm_process(pids[i]);
    out[i].proc = read_proc_stat(vm_pid);
    out[i].vcpus = vcpu_seconds(vm_pid);
  }
  std::lock_guard lock(mu_);
  for (size_t i = 0; i < out.size(); ++i) {
    Vm* vm = find_locked(out[i].name);
    if (vm == nullptr || vm->generation != generations[i]) continue;
    out[i].vcpus = vm->vcpu_counters.total(std::move(out[i].vcpus), out[i].vm_stats);
  }
  return out;
}

void VmManager::sampler() {
  struct Target {
    std::string name;
    pid_t pid;
    uint64_t generation;
    VmPaths paths;
    bool paused;
    bool ask;  // the VM's statistics are due
  };
  auto seconds_now = [] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  };
  std::unique_lock lock(mu_);
  while (!stopping_) {
    sampler_wake_.wait_for(lock, options_.sample_interval);
    if (stopping_) break;
    const double now = seconds_now();
    std::vector<Target> targets;
    for (const auto& [name, vm] : vms_) {
      if (!vm->live()) continue;
      // Asking a VM wakes it: a quiet one is asked less often (its MIPS hardly change).
      const bool quiet = vm->cpu_percent && *vm->cpu_percent < kQuietCpuPercent;
      const bool ask = vm->stats_at == 0 || !quiet || now - vm->stats_at >= kQuietStatsInterval;
      targets.push_back(
          {name, vm->pid, vm->generation, vm->paths, vm->state == VmState::kPaused, ask});
    }
    lock.unlock();
    for (const Target& t : targets) {
      auto proc = read_proc_stat(vm_process(t.pid));
      std::optional<http::ClientResponse> answer;
      if (t.ask) {
        auto client = http::Client::unix_socket(t.paths.api_socket(), kSampleCallTimeout);
        if (auto r = client.request(http::Method::kGet, "/vessel/stats");
            r && r->status == 200 && r->body.is_object()) {
          answer = std::move(*r);
        }
      }
      const double at = seconds_now();
      std::lock_guard relock(mu_);
      auto it = vms_.find(t.name);
      if (it == vms_.end() || it->second->generation != t.generation || !proc) continue;
      Vm& vm = *it->second;
      const uint64_t ticks = proc->utime_ticks + proc->stime_ticks;
      if (vm.sample_at > 0 && at > vm.sample_at) {
        vm.cpu_percent = static_cast<double>(ticks - std::min(ticks, vm.sample_cpu_ticks)) /
                         clock_ticks_per_second() / (at - vm.sample_at) * 100;
      }
      vm.sample_at = at;
      vm.sample_cpu_ticks = ticks;
      if (!answer) continue;
      const uint64_t instructions = answer->body.value("instructions", uint64_t{0});
      if (vm.stats_at > 0 && at > vm.stats_at) {
        const uint64_t done = instructions - std::min(instructions, vm.stats_instructions);
        vm.mips = t.paused ? 0.0 : static_cast<double>(done) / (at - vm.stats_at) / 1e6;
      }
      vm.vm_stats = std::move(answer->body);
      vm.stats_at = at;
      vm.stats_instructions = instructions;
    }
    lock.lock();
  }
}

}  // namespace vessel::daemon
