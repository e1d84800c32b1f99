// VmManager's snapshots: taking one of a live VM, putting a VM back at one, cloning new VMs
// from one, and listing them (docs/snapshot.md, "The daemon's snapshots"). The files are
// snapshot_store's; this is the VMs' side: their states, their processes, their definitions.
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>

#include "api/http/json_fields.hpp"
#include "base/files.hpp"
#include "base/log.hpp"
#include "daemon/manager.hpp"
#include "daemon/manager_vm.hpp"
#include "daemon/snapshot_store.hpp"
#include "vmm/snapshot/snapshot.hpp"

namespace vessel::daemon {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace manager_detail;

namespace {

// Writing a large guest's memory file and copying its disks takes longer than a request.
constexpr auto kSnapshotTimeout = std::chrono::minutes(5);

// 404 for a snapshot that does not exist, 400 for a name that cannot be one.
std::optional<Answer> snapshot_missing(const std::string& state_dir, const std::string& snap,
                                       json* info = nullptr) {
  if (auto ok = check_snapshot_name(snap); !ok) return Answer::fail(400, ok.error().message);
  auto found = read_snapshot(state_dir, snap);
  if (!found) {
    const bool exists = access((snapshots_root(state_dir) + "/" + snap).c_str(), F_OK) == 0;
    return Answer::fail(exists ? 500 : 404, found.error().message);
  }
  if (info != nullptr) *info = std::move(*found);
  return std::nullopt;
}

}  // namespace

Result<json> VmManager::take_snapshot(const Vm& vm, const std::string& snap, bool running) {
  const std::string staging = vm.paths.staging();
  for (const char* f : {snapshot::kStateFileName, snapshot::kMemoryFileName}) {
    unlink((staging + "/" + f).c_str());  // an earlier attempt's
  }
  if (running) { TRY(call_vm(vm, "PATCH", "/vm", json{{"state", "Paused"}}, kPauseTimeout)); }
  auto stored = [&]() -> Result<json> {
    TRY(call_vm(vm, "PUT", "/snapshot/create",
                json{{"snapshot_type", "Full"},
                     {"snapshot_path", staging + "/" + snapshot::kStateFileName},
                     {"mem_file_path", staging + "/" + snapshot::kMemoryFileName}},
                kSnapshotTimeout));
    json info{{"vm", vm.name}, {"created_at", utc_timestamp()}};
    if (vm.definition) info["definition"] = vm.definition->to_json();
    auto entry = store_snapshot(options_.state_dir, snap, staging, std::move(info));
    if (!entry) return make_error(fmt::format("VM '{}': {}", vm.name, entry.error().message));
    return entry;
  }();
  if (!stored) {  // an attempt's files are not kept (the memory file is the guest's RAM)
    for (const char* f : {snapshot::kStateFileName, snapshot::kMemoryFileName}) {
      unlink((staging + "/" + f).c_str());
    }
  }
  // The VM goes on whether or not the snapshot was made.
  if (running) {
    if (auto r = call_vm(vm, "PATCH", "/vm", json{{"state", "Resumed"}}, kVmCallTimeout); !r) {
      log(LogLevel::kWarn, "{}", r.error().message);
    }
  }
  return stored;
}

Answer VmManager::snapshot(const std::string& name, const std::optional<json>& body) {
  std::string snap = default_snapshot_name(name);
  if (body && !body->is_null()) {
    auto fields = http::JsonFields::read(body, {"snapshot"});
    if (!fields) return Answer::fail(400, fields.error().message);
    auto given = fields->optional_string("snapshot");
    if (!given) return Answer::fail(400, given.error().message);
    if (*given) snap = **given;
  }
  if (auto ok = check_snapshot_name(snap); !ok) return Answer::fail(400, ok.error().message);
  std::unique_lock lock(mu_);
  Vm* vm = find_locked(name);
  if (Answer a = begin_operation(vm, name, "snapshot"); !a.error.empty()) return a;
  if (read_snapshot(options_.state_dir, snap)) {
    vm->busy = false;
    return Answer::fail(409, fmt::format("snapshot '{}' exists", snap));
  }
  const bool running = vm->state == VmState::kRunning;
  lock.unlock();
  auto entry = take_snapshot(*vm, snap, running);
  lock.lock();
  vm->busy = false;
  if (!entry) {
    // Made meanwhile by another request of the same name: its snapshot stands.
    const bool exists = read_snapshot(options_.state_dir, snap).ok();
    return Answer::fail(exists ? 409 : 500, entry.error().message);
  }
  log(LogLevel::kInfo, "VM '{}': snapshot '{}' taken", name, snap);
  return Answer::ok(201, std::move(*entry));
}

Result<void> VmManager::kill_locked(std::unique_lock<std::mutex>& lock, Vm& vm) {
  vm.stop_requested = true;
  const uint64_t generation = vm.generation;
  signal_pidfd(vm.pidfd, SIGKILL);
  if (!changed_.wait_for(lock, kKillWait,
                         [&] { return vm.generation != generation || !vm.live(); })) {
    return make_error(fmt::format("VM '{}' (pid {}) did not end after SIGKILL", vm.name, vm.pid));
  }
  return {};
}

Result<void> VmManager::write_definition(Vm& vm, VmDefinition definition) {
  TRY_VOID(write_file_atomically(vm.paths.config(), definition.to_json().dump(2) + "\n", 0600));
  vm.config_id = file_id(vm.paths.config());
  vm.definition = std::move(definition);
  vm.broken.clear();
  return {};
}

Answer VmManager::restore(const std::string& name, const std::optional<json>& body) {
  auto fields = http::JsonFields::read(body, {"snapshot"});
  if (!fields) return Answer::fail(400, fields.error().message);
  auto snap = fields->string("snapshot");
  if (!snap) return Answer::fail(400, snap.error().message);
  json info;
  if (auto missing = snapshot_missing(options_.state_dir, *snap, &info)) return *missing;
  if (info.value("vm", "") != name) {
    return Answer::fail(400, fmt::format("snapshot '{}' is of VM '{}', not '{}': clone it instead",
                                         *snap, info.value("vm", "?"), name));
  }
  std::unique_lock lock(mu_);
  Vm* vm = find_locked(name);
  if (vm == nullptr) return no_such_vm(name);
  if (vm->busy || !vm->definition) {
    return Answer::fail(
        409, fmt::format("VM '{}': {}", name,
                         vm->busy ? "another operation on it is in progress" : vm->broken));
  }
  vm->busy = true;
  // Its state now is what the restore drops: no shutdown, the guest would write its disks.
  if (vm->live()) {
    if (auto killed = kill_locked(lock, *vm); !killed) {
      vm->busy = false;
      return Answer::fail(500, killed.error().message);
    }
  }
  VmDefinition def = *vm->definition;
  lock.unlock();
  VirtConfig& machine = def.config.machine;
  auto disks = prepare_restore(options_.state_dir, *snap, vm->paths, machine.nets);
  lock.lock();
  vm->busy = false;
  if (!disks) return Answer::fail(400, disks.error().message);
  machine.disks = std::move(*disks);
  machine.num_harts = info.value("cpus", machine.num_harts);
  machine.ram_size = info.value("memory_mib", machine.ram_size >> 20) << 20;
  if (auto w = write_definition(*vm, std::move(def)); !w)
    return Answer::fail(500, w.error().message);
  log(LogLevel::kInfo, "VM '{}': restoring snapshot '{}'", name, *snap);
  return start_locked(lock, *vm, restore_dir(vm->paths));
}

Answer VmManager::clone(const std::string& snap, const std::optional<json>& body) {
  json info;
  if (auto missing = snapshot_missing(options_.state_dir, snap, &info)) return *missing;
  auto fields = http::JsonFields::read(body, {"name", "hostfwd"});
  if (!fields) return Answer::fail(400, fields.error().message);
  auto name = fields->string("name");
  if (!name) return Answer::fail(400, name.error().message);
  if (auto ok = check_vm_name(*name); !ok) return Answer::fail(400, ok.error().message);
  auto hostfwd = fields->optional_strings("hostfwd");
  if (!hostfwd) return Answer::fail(400, hostfwd.error().message);
  auto source = parse_vm_definition(info.value("definition", json()));
  if (!source) {
    return Answer::fail(
        500, fmt::format("snapshot '{}': its definition: {}", snap, source.error().message));
  }
  VmDefinition def = std::move(*source);
  def.name = *name;
  def.created_at = utc_timestamp();
  auto nets =
      replace_hostfwd(def.config.machine.nets, hostfwd->value_or(std::vector<std::string>{}));
  if (!nets) return Answer::fail(400, nets.error().message);
  def.config.machine.nets = std::move(*nets);
  // The new rules are checked as any definition's are.
  if (auto checked = parse_vm_definition(def.to_json()); !checked) {
    return Answer::fail(400, checked.error().message);
  }
  std::unique_lock lock(mu_);
  if (find_locked(*name) != nullptr) {
    return Answer::fail(409, fmt::format("VM '{}': a VM of that name exists", *name));
  }
  const std::string vms = options_.state_dir + "/vms";
  if (auto made = create_vm_dir(vms, *name, def.to_json().dump(2) + "\n"); !made) {
    return Answer::fail(500, made.error().message);
  }
  auto vm = std::make_unique<Vm>();
  vm->name = *name;
  vm->paths = paths_of(*name);
  auto disks = prepare_restore(options_.state_dir, snap, vm->paths, def.config.machine.nets);
  if (!disks) {
    if (auto removed = remove_vm_dir(vms, *name); !removed) {
      log(LogLevel::kWarn, "{}", removed.error().message);
    }
    return Answer::fail(400, disks.error().message);
  }
  def.config.machine.disks = std::move(*disks);
  if (auto w = write_definition(*vm, std::move(def)); !w)
    return Answer::fail(500, w.error().message);
  Vm& added = *vms_.emplace(*name, std::move(vm)).first->second;
  log(LogLevel::kInfo, "VM '{}' cloned from snapshot '{}'", *name, snap);
  Answer started = start_locked(lock, added, restore_dir(added.paths));
  if (started.error.empty()) started.status = 201;
  return started;
}

Answer VmManager::snapshots(const std::optional<std::string>& vm) {
  if (vm) {
    if (auto ok = check_vm_name(*vm); !ok) return Answer::fail(400, ok.error().message);
  }
  return Answer::ok(200, list_snapshots(options_.state_dir, vm));
}

Answer VmManager::snapshot_info(const std::string& snap) {
  json info;
  if (auto missing = snapshot_missing(options_.state_dir, snap, &info)) return *missing;
  return Answer::ok(200, std::move(info));
}

}  // namespace vessel::daemon
