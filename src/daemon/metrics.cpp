#include "daemon/metrics.hpp"

#include <fmt/format.h>

#include <functional>
#include <optional>

namespace vessel::daemon {

namespace {

// Label values as the text format wants them: backslash, quote and newline escaped.
std::string escape(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::optional<double> stat_number(const VmFigures& vm, const char* key) {
  if (!vm.vm_stats.is_object() || !vm.vm_stats.contains(key)) return std::nullopt;
  const auto& v = vm.vm_stats[key];
  if (!v.is_number()) return std::nullopt;
  return v.get<double>();
}

class Writer {
 public:
  explicit Writer(const std::vector<VmFigures>& vms) : vms_(vms) {}

  // One metric family: a value per VM, or none for a VM where `value` gives none.
  void family(const char* name, const char* type, const char* help,
              const std::function<std::optional<double>(const VmFigures&)>& value) {
    header(name, type, help);
    for (const VmFigures& vm : vms_) {
      if (auto v = value(vm)) sample(name, fmt::format("name=\"{}\"", escape(vm.name)), *v);
    }
  }
  void header(const char* name, const char* type, const char* help) {
    out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  }
  void sample(const char* name, const std::string& labels, double value) {
    out_ += fmt::format("{}{{{}}} {}\n", name, labels, value);
  }
  std::string take() { return std::move(out_); }

 private:
  const std::vector<VmFigures>& vms_;
  std::string out_;
};

}  // namespace

std::string render_metrics(const std::vector<VmFigures>& vms) {
  Writer w(vms);
  w.header("vessel_vm_state", "gauge",
           "1 for the state the VM is in (stopped, running, paused, crashed, broken), 0 for the "
           "others");
  for (const VmFigures& vm : vms) {
    for (VmState s : kAllStates) {
      w.sample("vessel_vm_state",
               fmt::format("name=\"{}\",state=\"{}\"", escape(vm.name), state_name(s)),
               vm.state == s ? 1 : 0);
    }
  }
  auto defined = [](int64_t v) { return v > 0 ? std::optional<double>(double(v)) : std::nullopt; };
  w.family("vessel_vm_vcpus", "gauge", "vCPUs the VM is defined with",
           [&](const VmFigures& vm) { return defined(vm.cpus); });
  w.family("vessel_vm_memory_bytes", "gauge", "Guest RAM the VM is defined with",
           [&](const VmFigures& vm) { return defined(vm.memory_mib * (int64_t{1} << 20)); });
  w.family("vessel_vm_host_cpu_seconds_total", "counter",
           "Host CPU time (user and system) the VM's process has used",
           [](const VmFigures& vm) -> std::optional<double> {
             if (!vm.proc) return std::nullopt;
             return double(vm.proc->utime_ticks + vm.proc->stime_ticks) / clock_ticks_per_second();
           });
  w.family("vessel_vm_rss_bytes", "gauge", "Resident memory of the VM's process",
           [](const VmFigures& vm) -> std::optional<double> {
             if (!vm.proc) return std::nullopt;
             return double(vm.proc->rss_pages * page_size());
           });
  w.header("vessel_vm_vcpu_seconds_total", "counter",
           "Host CPU time of each vCPU thread (vcpuN) of the VM's process");
  for (const VmFigures& vm : vms) {
    for (auto [index, seconds] : vm.vcpus) {
      w.sample("vessel_vm_vcpu_seconds_total",
               fmt::format("name=\"{}\",vcpu=\"{}\"", escape(vm.name), index), seconds);
    }
  }
  // From the VM's own statistics, as last sampled.
  struct FromStats {
    const char* metric;
    const char* type;
    const char* key;
    const char* help;
  };
  static constexpr FromStats kFromStats[] = {
      {"vessel_vm_instructions_total", "counter", "instructions",
       "Guest instructions retired, over every hart and reboot"},
      {"vessel_vm_guest_seconds", "gauge", "guest_seconds",
       "Guest time (mtime); it stands still while the VM is paused"},
      {"vessel_vm_disk_read_bytes_total", "counter", "disk_read_bytes",
       "Bytes the guest read from its virtio disks"},
      {"vessel_vm_disk_written_bytes_total", "counter", "disk_written_bytes",
       "Bytes the guest wrote to its virtio disks"},
      {"vessel_vm_net_rx_bytes_total", "counter", "net_rx_bytes",
       "Bytes of frames delivered to the guest's virtio-net devices"},
      {"vessel_vm_net_tx_bytes_total", "counter", "net_tx_bytes",
       "Bytes of frames the guest sent through its virtio-net devices"},
  };
  for (const FromStats& f : kFromStats) {
    w.family(f.metric, f.type, f.help, [&](const VmFigures& vm) -> std::optional<double> {
      if (!vm.proc) return std::nullopt;
      return stat_number(vm, f.key);
    });
  }
  return w.take();
}

}  // namespace vessel::daemon
