// `vessel run`: the options, checked and turned into VmOptions, then the VM (vmm/vm.cpp) or
// the per-VM API in front of it (vmm/api_vm.cpp).
#include "cli/run_cli.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <iterator>

#include "api/firecracker/host_files.hpp"
#include "api/firecracker/vm_resources.hpp"
#include "base/files.hpp"
#include "base/log.hpp"
#include "board/virt.hpp"
#include "cli/fail.hpp"
#include "host/net/mmds.hpp"
#include "host/net/net_option.hpp"
#ifdef VESSEL_HAVE_API
#include "vmm/api_vm.hpp"
#endif
#include "vmm/jail.hpp"
#include "vmm/migration/receiver.hpp"
#include "vmm/seccomp.hpp"

namespace vessel::cli {

RunCommand::RunCommand(CLI::App& app)
    : run_(app.add_subcommand("run", "Boot a virtual machine (QEMU riscv64 'virt' board)")),
      machine_(run_, "512M") {
  add_run_options();
  add_host_options();
}

void RunCommand::add_run_options() {
  run_->add_option("--incoming", incoming,
                   "Wait for a live migration's source on tcp:HOST:PORT (or HOST:PORT, or "
                   "unix:PATH) and run the guest it sends (`vessel migrate`, docs/migration.md)");
  run_->add_option("--incoming-ticket", incoming_ticket,
                   "With --incoming: refuse a source whose ticket is not this one")
      ->envname("VESSEL_INCOMING_TICKET");
  run_->add_option("--restore", restore,
                   "Resume a snapshot instead of booting: DIR as `vessel snapshot` or PUT "
                   "/snapshot/create wrote it (vmstate and memory); the machine is the "
                   "snapshot's, the engine options (or --config's) are this run's");
  run_->add_option("--timeout", timeout, "Stop the VM after this many seconds (exit status 124)");
  run_->add_option("--dump-dtb", dump_dtb, "Write the generated device tree blob to FILE and exit");
}

void RunCommand::add_host_options() {
  run_->add_option("--console-socket", console_socket,
                   "Serve the serial console (ttyS0) on a Unix socket for any number of viewers "
                   "(`vessel attach PATH`) instead of the terminal");
  run_->add_option("--console-log", console_log,
                   "Keep the serial console's output on disk: PATH[,size=N], a ring of PATH and "
                   "PATH.1 of at most N bytes together (default 1M)");
  run_->add_option("--metadata", metadata,
                   "As Firecracker's: a JSON object file that fills the metadata service (MMDS "
                   "v2), which the guest reads at http://169.254.169.254/ through a --net user "
                   "with mmds=on");
  run_->add_option(
      "--api-sock", api_sock,
      "Serve the per-VM HTTP API (Firecracker-compatible) on this Unix socket; without "
      "--kernel the VM waits for the API to configure and start it");
  run_->add_option("--api-allow-dir", api_allow_dirs,
                   "With --api-sock: the API may name kernels, initrds, firmware and drives in "
                   "this directory only (repeatable; without it, any file but the kernel's own "
                   "in /proc, /sys and /dev)")
      ->allow_extra_args(false);
  run_->add_option("--exit-status-file", exit_status_file,
                   "Write the exit status to this file when the VM ends (for a supervisor that is "
                   "not the parent, such as a restarted vessel daemon)");
  run_->add_option("--log-file", log_file,
                   "Send Vessel's own messages (stderr) to a file: PATH[,size=N], a ring of PATH "
                   "and PATH.1 of at most N bytes together (default 1M); vessel daemon keeps each "
                   "VM's vmm.log this way");
  run_->add_option("--gdb", gdb,
                   "Serve the GDB remote protocol: tcp:PORT (on 127.0.0.1) or unix:PATH; each hart "
                   "is a thread");
  run_->add_flag("--gdb-wait", gdb_wait,
                 "With --gdb: halt before the first instruction until the debugger continues");
  run_->add_option("--jail", jail_dir,
                   "Run the VM in a jail (needs root; docs/security.md): new namespaces, a root "
                   "under DIR holding only the VM's files, an unprivileged uid, a cgroup with its "
                   "CPU and memory limits");
  run_->add_option("--jail-uid", jail_uid,
                   "With --jail: the VM's uid, unused by any process (default: 900000 + the "
                   "process id)");
  run_->add_option("--jail-gid", jail_gid, "With --jail: the VM's gid (default: its uid)");
  run_->add_option("--jail-cgroup", jail_cgroup,
                   "With --jail: the cgroup version for the limits: auto (v2 with memory and cpu, "
                   "else v1), v2 or v1")
      ->capture_default_str();
  run_->add_option("--seccomp", seccomp,
                   "System-call filters per thread (docs/security.md): enforce (a forbidden call "
                   "ends the VM with one line naming it, status 159), log (it fails with EPERM "
                   "and is reported once; for development) or off")
      ->capture_default_str();
  run_->add_flag("--stats", stats, "Print run statistics as one JSON line on stderr at exit");
  run_->add_flag("-v,--verbose", verbose, "Log more on stderr");
}

std::optional<int> RunCommand::run() {
  if (!run_->parsed()) return std::nullopt;
  if (verbose) vessel::set_log_level(vessel::LogLevel::kInfo);
  VmOptions options;
  if (auto status = build(options)) return *status;
  if (!restore.empty()) {
    if (auto status = apply_restore(options)) return *status;
  }
  if (!incoming.empty()) {
    if (auto status = apply_incoming(options)) return *status;
  }
  if (auto status = enter_jail(options)) return *status;
  // Before any thread of the VM starts (the API's included): each installs its own filter.
  // --dump-dtb runs nothing and needs none.
  auto mode = vessel::seccomp::parse_mode(seccomp);
  if (!mode) return fail(mode.error().message);
  if (auto enabled =
          vessel::seccomp::enable(dump_dtb.empty() ? *mode : vessel::seccomp::Mode::kOff);
      !enabled) {
    return fail(enabled.error().message);
  }
  if (!api_sock.empty()) return serve_api(options);
  if (!exit_status_file.empty()) return fail("--exit-status-file: only with --api-sock");
  if (!options.restore && !options.machine.kernel && options.machine.initrd) {
    return fail("--initrd: an initrd needs a --kernel to go with it");
  }
  if (!options.restore && !options.machine.kernel && !options.machine.firmware) {
    return fail(fmt::format("nothing to run: give --kernel (--firmware {} starts one)",
                            machine_.firmware()));
  }
  return vessel::run_vm(options);
}

std::optional<int> RunCommand::build(VmOptions& options) {
  if (!log_file.empty()) {
    // Before anything else, so that every later message goes there.
    auto spec = vessel::parse_log_ring_option("--log-file", log_file);
    if (!spec) return fail(spec.error().message);
    if (auto r = vessel::redirect_log_file({spec->path, spec->size}); !r) {
      return fail(r.error().message);
    }
  }

  auto config = machine_.config();
  if (!config) return fail(config.error().message);
  static_cast<VmConfig&>(options) = std::move(*config);
  if (!metadata.empty()) {
    const auto& nets = options.machine.nets;
    if (std::none_of(nets.begin(), nets.end(), [](const NetSpec& n) { return n.mmds; })) {
      return fail("--metadata: no --net user,...,mmds=on serves it to the guest");
    }
    auto store = net::load_mmds_file(metadata);
    if (!store) return fail(store.error().message);
    options.machine.mmds = *store;
  }
  if (run_->count("--console-socket") != 0) options.console.socket = console_socket;
  if (run_->count("--console-log") != 0) options.console.log = console_log;
  if (!dump_dtb.empty()) options.dump_dtb = dump_dtb;
  if (timeout < 0) return fail("--timeout: must not be negative");
  options.timeout_seconds = timeout;
  options.stats = stats;
  if (!api_allow_dirs.empty() && api_sock.empty()) {
    return fail("--api-allow-dir: only with --api-sock");
  }
  if (run_->count("--gdb") != 0) options.gdb = gdb;
  if (gdb_wait && !options.gdb) return fail("--gdb-wait: only with --gdb");
  if (options.gdb && options.accel == vessel::Accel::kKvm) {
    return fail("--gdb: not with --accel kvm (the stub halts and steps Vessel's own harts)");
  }
  options.gdb_wait = gdb_wait;
  return std::nullopt;
}

std::optional<int> RunCommand::refuse_machine_options(const char* with) {
  if (auto option = machine_.given_machine_option()) {
    return fail(fmt::format("{}: not with {}", *option, with));
  }
  if (!dump_dtb.empty()) return fail(fmt::format("--dump-dtb: not with {}", with));
  return std::nullopt;
}

std::optional<int> RunCommand::apply_incoming(VmOptions& options) {
  // The machine is the source's: options that would describe another one are refused.
  if (auto status = refuse_machine_options("--incoming")) return status;
  if (!restore.empty()) return fail("--incoming: not with --restore");
  if (options.accel == vessel::Accel::kKvm) return fail("--incoming: not with --accel kvm");
  auto at = migration::parse_address(incoming);
  if (!at) return fail(fmt::format("--incoming: {}", at.error().message));
  auto listener = migration::Listener::listen(*at);
  if (!listener) return fail(fmt::format("--incoming: {}", listener.error().message));
  migration::ReceiveOptions receive;
  receive.ticket = incoming_ticket;
  // The machine --memory, --cpus or --config says: the source's must be it.
  const bool sized = machine_.given("--config");
  if (sized || machine_.given("--memory")) receive.ram_size = options.machine.ram_size;
  if (sized || machine_.given("--cpus")) receive.harts = options.machine.num_harts;
  auto in = migration::receive(*listener, receive);
  if (!in) return fail(in.error().message);
  options.restore_started = std::chrono::steady_clock::now();
  auto shared = std::make_shared<const snapshot::Loaded>(std::move(in->loaded));
  options.machine = snapshot::machine_config(*shared, options.machine);
  options.restore = std::move(shared);
  // The source waits, paused, until the guest runs here (or could not be built).
  auto source = std::make_shared<migration::Channel>(std::move(in->channel));
  options.on_start = [source](const Result<void>& started) {
    if (started) {
      (void)source->send(migration::FrameType::kRunning);
    } else {
      (void)source->send(migration::FrameType::kError,
                         {migration::encode_error(started.error().message)});
    }
    *source = migration::Channel(-1, {});  // closed: the source may end now
  };
  return std::nullopt;
}

std::optional<int> RunCommand::apply_restore(VmOptions& options) {
  // The machine is the snapshot's: options that would describe another one are refused.
  if (auto status = refuse_machine_options("--restore")) return status;
  const std::string dir = restore;
  options.restore_started = std::chrono::steady_clock::now();
  auto loaded =
      snapshot::load(dir + "/" + snapshot::kStateFileName, dir + "/" + snapshot::kMemoryFileName);
  if (!loaded) return fail(loaded.error().message);
  // --memory and --cpus may be given, to say what the snapshot must be.
  if (machine_.given("--memory") && options.machine.ram_size != loaded->config.ram_size) {
    return fail(fmt::format("--memory {}: the snapshot's guest has {}", machine_.memory(),
                            format_size(loaded->config.ram_size)));
  }
  if (machine_.given("--cpus") && options.machine.num_harts != loaded->config.num_harts) {
    return fail(fmt::format("--cpus {}: the snapshot's guest has {}", machine_.cpus(),
                            loaded->config.num_harts));
  }
  auto shared = std::make_shared<const snapshot::Loaded>(std::move(*loaded));
  options.machine = snapshot::machine_config(*shared, options.machine);
  options.restore = std::move(shared);
  return std::nullopt;
}

std::optional<int> RunCommand::enter_jail(const VmOptions& options) {
  if (jail_dir.empty()) {
    for (const char* o : {"--jail-uid", "--jail-gid", "--jail-cgroup"}) {
      if (run_->count(o) != 0) return fail(fmt::format("{}: only with --jail", o));
    }
    return std::nullopt;
  }
  if (!dump_dtb.empty()) return fail("--jail: not with --dump-dtb");
  vessel::jail::JailOptions j;
  j.dir = jail_dir;
  if (run_->count("--jail-uid") != 0) j.uid = jail_uid;
  if (run_->count("--jail-gid") != 0) j.gid = jail_gid;
  j.cgroup = jail_cgroup;
  j.created = {api_sock, exit_status_file};
  if (!log_file.empty()) {
    if (auto spec = vessel::parse_log_ring_option("--log-file", log_file))
      j.created.push_back(spec->path);
  }
  j.allowed_dirs = api_allow_dirs;
  auto plan = vessel::jail::plan(options, j);
  if (!plan) return fail(plan.error().message);
  auto entered = vessel::jail::enter(*plan);
  if (!entered) return fail(entered.error().message);
  return *entered;  // the parent's exit status, or nullopt in the jailed child
}

int RunCommand::serve_api(const VmOptions& options) {
#ifndef VESSEL_HAVE_API
  (void)options;
  return fail("--api-sock: this vessel is built without the API (VESSEL_API=OFF)");
#else
  // The API may supply the kernel; the command line's options are its starting point.
  if (!dump_dtb.empty()) return fail("--dump-dtb: not with --api-sock");
  vessel::ApiVmOptions api;
  // In a jail only the --api-allow-dir directories are there (bound at their host paths), so
  // the API is confined to them even when none is given.
  if (!api_allow_dirs.empty() || !jail_dir.empty()) {
    auto files = vessel::api::HostFilePolicy::confined_to(api_allow_dirs, "--api-allow-dir");
    if (!files) return fail(files.error().message);
    api.host_files = std::move(*files);
    if (!jail_dir.empty()) {
      api.host_files.set_missing_hint(
          "under --jail, the API's files must be in an --api-allow-dir directory, bound into the "
          "jail");
    }
  }
  api.socket_path = api_sock;
  api.start_now = options.machine.kernel.has_value() || options.restore != nullptr;
  api.vm = options;
  const int status = vessel::serve_vm(api);
  if (!exit_status_file.empty()) {
    // Written only by a run that ends by itself: its absence says the process was killed.
    auto written = vessel::write_file_atomically(exit_status_file, fmt::format("{}\n", status));
    if (!written) fmt::print(stderr, "vessel: --exit-status-file: {}\n", written.error().message);
  }
  return status;
#endif
}

}  // namespace vessel::cli
