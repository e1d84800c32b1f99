#include "cli/daemon_cli.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "api/firecracker/vm_resources.hpp"
#include "api/http/client.hpp"
#include "base/files.hpp"
#include "board/virt.hpp"
#include "cli/fail.hpp"
#include "daemon/daemon.hpp"
#include "daemon/snapshot_store.hpp"
#include "daemon/state_dir.hpp"
#include "daemon/vm_definition.hpp"
#include "host/block/nbd.hpp"
#include "host/console_client.hpp"
#include "host/console_log.hpp"
#include "vmm/vm.hpp"

namespace vessel::cli {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A request refused by the daemon (or by the VM behind it).
constexpr int kExitRefused = 1;
// Long enough for a stop (the daemon's grace period, then SIGKILL) or a start that waits for
// the machine to be built.
constexpr auto kRequestTimeout = std::chrono::seconds(60);

void add_state_dir(CLI::App* app, std::string& dir) {
  app->add_option("--state-dir", dir,
                  "The daemon's state directory (default: $VESSEL_STATE_DIR, else "
                  "$XDG_STATE_HOME/vessel, else ~/.local/state/vessel)");
}

// The daemon on the state dir's socket: one request, its answer, or an error saying that no
// daemon runs there.
struct DaemonClient {
  std::string dir;

  Result<http::ClientResponse> request(http::Method method, const std::string& target,
                                       const std::optional<json>& body = std::nullopt) const {
    const std::string socket = dir + "/daemon.sock";
    struct stat st {};
    if (stat(socket.c_str(), &st) != 0) {
      return make_error(
          fmt::format("no daemon is running on {} (start one with `vessel daemon "
                      "--state-dir {}`)",
                      dir, dir));
    }
    auto r = http::Client::unix_socket(socket, kRequestTimeout).request(method, target, body);
    if (!r && r.error().message.find("cannot connect") != std::string::npos) {
      return make_error(
          fmt::format("no daemon is answering on {} (start one with `vessel daemon "
                      "--state-dir {}`)",
                      socket, dir));
    }
    return r;
  }
};

// Either the answer's body (2xx) or the exit status after printing the daemon's error.
Result<json> expect_ok(const Result<http::ClientResponse>& r) {
  if (!r) return make_error(r.error().message);
  if (r->status / 100 == 2) return r->body;
  if (r->body.is_object() && r->body.contains("error") && r->body["error"].is_string()) {
    return make_error(r->body["error"].get<std::string>());
  }
  return make_error(fmt::format("the daemon answered {}: {}", r->status, r->text));
}

std::string human_uptime(double seconds) {
  const auto s = static_cast<uint64_t>(seconds);
  if (s >= 86400) return fmt::format("{}d{:02}h", s / 86400, s % 86400 / 3600);
  if (s >= 3600) return fmt::format("{}h{:02}m", s / 3600, s % 3600 / 60);
  if (s >= 60) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}s", s);
}

std::string human_bytes(double bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  size_t unit = 0;
  while (bytes >= 1024 && unit + 1 < std::size(kUnits)) {
    bytes /= 1024;
    ++unit;
  }
  return unit == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", bytes, kUnits[unit]);
}

std::string field_or_dash(const json& j, const char* key, const char* format = "{:.1f}") {
  if (!j.contains(key) || !j[key].is_number()) return "-";
  return fmt::format(fmt::runtime(format), j[key].get<double>());
}

// One line of `vessel stats`'s table.
void print_field(const char* label, const std::string& value) {
  fmt::print("{:<20}{}\n", label, value);
}

// `vessel stats`'s lines for the translator's counters (the stats' "jit" object).
void print_jit(const json& jit) {
  auto number = [&](const char* key) { return jit.value(key, uint64_t{0}); };
  const auto line = &print_field;
  line("blocks translated", std::to_string(number("blocks_translated")));
  line("JIT code", fmt::format("{} emitted, {} in use ({} per hart)",
                               human_bytes(static_cast<double>(number("code_bytes"))),
                               human_bytes(static_cast<double>(number("cache_used"))),
                               human_bytes(static_cast<double>(number("cache_bytes")))));
  line("translate time", fmt::format("{:.1f} ms", jit.value("translate_ms", 0.0)));
  line("block exits",
       fmt::format("{} chained, {} unchained", number("chained_exits"), number("unchained_exits")));
  const json calls = jit.value("helper_calls", json::object());
  std::string helpers;
  for (const char* kind : rv::kHelperKindNames) {
    if (!calls.contains(kind)) continue;
    helpers += fmt::format("{}{} {}", helpers.empty() ? "" : ", ", kind, calls[kind].dump());
  }
  line("helper calls", helpers);
}

// A refusal of the snapshot commands: a bad name or a missing snapshot or VM is the user's
// input (status 2), anything else a refused request (1).
int fail_snapshot(const Result<http::ClientResponse>& r, const std::string& message) {
  const bool input = r && (r->status == 400 || r->status == 404);
  return fail(input ? kExitBadInput : kExitRefused, message);
}

// One line about a snapshot: "web-1: VM web, 128 MiB of RAM, 3.2 MiB on disk".
std::string snapshot_line(const json& s) {
  return fmt::format("{}: VM {}, {} of RAM, {} on disk, taken {}", s.value("name", "?"),
                     s.value("vm", "?"), human_bytes(s.value("memory_bytes", 0.0)),
                     human_bytes(s.value("size_bytes", 0.0)), s.value("created_at", "?"));
}

// One line about a VM after an action: "web: running (pid 1234)".
void print_summary(const json& s) {
  std::string line = fmt::format("{}: {}", s.value("name", "?"), s.value("state", "?"));
  if (s.contains("pid")) line += fmt::format(" (pid {})", s["pid"].get<int64_t>());
  if (s.contains("exit_reason")) line += fmt::format(" ({})", s["exit_reason"].get<std::string>());
  fmt::print("{}\n", line);
}

}  // namespace

DaemonCommands::DaemonCommands(CLI::App& app) {
  daemon_ = app.add_subcommand("daemon",
                               "Run the VM manager: a REST API on STATE_DIR/daemon.sock "
                               "(and a loopback TCP port) that starts and watches VMs");
  add_state_dir(daemon_, state_dir_);
  daemon_->add_option("--listen-tcp", listen_tcp_,
                      "Also serve the API and the web console on 127.0.0.1:PORT (bearer token in "
                      "STATE_DIR/token)");
  daemon_->add_option("--ui-dir", ui_dir_,
                      "The web console's files (default: webui/ next to the binary)");
  daemon_
      ->add_option("--allow-dir", allow_dirs_,
                   "A directory whose files VM definitions may name as kernels, initrds, "
                   "firmware and disks, besides STATE_DIR/images (repeatable)")
      ->allow_extra_args(false);

  daemon_
      ->add_option("--jail", jail_,
                   "Run each VM in a jail (vessel run --jail STATE_DIR/jail; docs/security.md): "
                   "on, off, or auto (on when the daemon runs as root and the host has the "
                   "cgroup controllers)")
      ->capture_default_str();

  create_ = app.add_subcommand("create", "Define a VM for the daemon to run");
  add_state_dir(create_, state_dir_);
  create_->add_option("NAME", name_, "1-32 of A-Z a-z 0-9 _ -")->required();
  // Every option that describes a machine, as `vessel run` takes it (one declaration for
  // both), but --memory's default: a daemon's VM has 128M unless it says.
  create_machine_ =
      std::make_unique<MachineOptions>(create_, fmt::format("{}M", daemon::kDefaultMemoryMib));
  create_machine_->kernel_option()->description(
      "Kernel: Linux Image, Image.gz or ELF (required but with --config)");
  create_->footer(
      "A --net user network runs with loopback=off unless it says (the guest does not reach the "
      "host's 127.0.0.1), and forwards ports of 127.0.0.1 only. Relative paths are made "
      "absolute here; a --config file's are sent as they are, with the file (docs/daemon.md).");

  // Subcommands on one VM: NAME and the state dir.
  auto on_vm = [&](const char* name, const char* help) {
    CLI::App* sub = app.add_subcommand(name, help);
    add_state_dir(sub, state_dir_);
    sub->add_option("NAME", name_, "The VM")->required();
    return sub;
  };
  static constexpr std::pair<const char*, const char*> kActions[] = {
      {"start", "Start a VM"},
      {"stop", "Power a VM off (killed if it has not ended after the grace period)"},
      {"pause", "Pause a VM: its vCPUs and its clock stop"},
      {"resume", "Resume a paused VM"},
      {"reboot", "Reset a VM, as a guest reboot does"}};
  for (auto [action, help] : kActions) actions_.emplace_back(action, on_vm(action, help));

  rm_ = on_vm("rm", "Remove a VM's definition and files");
  rm_->add_flag("--force,-f", force_, "Stop it first if it runs");

  ls_ = app.add_subcommand("ls", "List the VMs");
  add_state_dir(ls_, state_dir_);
  ls_->add_flag("--json", json_, "The API's JSON instead of a table");

  stats_ = on_vm("stats", "A VM's statistics");
  stats_->add_flag("--json", json_, "The API's JSON instead of a table");

  logs_ = app.add_subcommand(
      "logs", "Print a VM's console scrollback, or a console log ring (--console-log) with --file");
  add_state_dir(logs_, state_dir_);
  logs_->add_option("NAME", name_, "The VM");
  logs_->add_option("--bytes", bytes_, "Only the last N bytes");
  logs_->add_option("--file", log_file_, "Print the ring at PATH (PATH.1, then PATH) instead");

  console_ = on_vm("console", "Attach the terminal to a VM's serial console; Ctrl-A x detaches");

  restore_ = on_vm("restore", "Put a VM back at one of its snapshots (its state now is dropped)");
  restore_->add_option("SNAP", snap_, "The snapshot (vessel snapshots NAME lists them)")
      ->required();
  snapshots_ = app.add_subcommand("snapshots", "List the daemon's snapshots and their sizes");
  add_state_dir(snapshots_, state_dir_);
  snapshots_->add_option("NAME", name_, "Only this VM's");
  snapshots_->add_flag("--json", json_, "The API's JSON instead of a table");
  clone_ = app.add_subcommand(
      "clone",
      "Start a new VM from a snapshot, on an overlay of its own over the snapshot's disks");
  add_state_dir(clone_, state_dir_);
  clone_->add_option("SNAP", snap_, "The snapshot")->required();
  clone_->add_option("NEWNAME", name_, "The new VM: 1-32 of A-Z a-z 0-9 _ -")->required();
  clone_
      ->add_option("--hostfwd", hostfwd_,
                   "A port forwarded to the clone, [tcp|udp]::HOSTPORT-:GUESTPORT, in place of "
                   "the snapshot's (repeatable; none: the clone forwards no port)")
      ->allow_extra_args(false);
}

std::optional<int> DaemonCommands::run() {
  if (daemon_->parsed()) return run_daemon();
  if (create_->parsed()) return create();
  if (rm_->parsed()) return remove();
  if (ls_->parsed()) return list();
  if (stats_->parsed()) return stats();
  if (logs_->parsed()) return logs();
  if (console_->parsed()) return console();
  if (restore_->parsed()) return restore();
  if (snapshots_->parsed()) return list_snapshots();
  if (clone_->parsed()) return clone();
  for (auto& [name, sub] : actions_) {
    if (sub->parsed()) return action(name);
  }
  return std::nullopt;
}

namespace {

Result<std::string> state_dir_of(const std::string& option) {
  return daemon::resolve_state_dir(option);
}

// The daemon runs elsewhere: the files a machine names, made absolute here.
void make_paths_absolute(VirtConfig& m) {
  auto absolute = [](std::string& p) { p = fs::absolute(p).lexically_normal().string(); };
  for (auto* file : {&m.kernel, &m.initrd, &m.firmware, &m.virtio_console_socket}) {
    if (*file) absolute(**file);
  }
  for (block::DiskSpec& d : m.disks) {
    if (!block::is_nbd_uri(d.path)) absolute(d.path);
    if (!d.overlay.empty()) absolute(d.overlay);
  }
  if (m.vsock) absolute(m.vsock->uds_path);
}

}  // namespace

int DaemonCommands::run_daemon() {
  auto dir = state_dir_of(state_dir_);
  if (!dir) return fail(kExitBadInput, "daemon: " + dir.error().message);
  daemon::DaemonOptions options;
  options.state_dir = *dir;
  if (!listen_tcp_.empty()) {
    auto port = daemon::parse_listen_tcp(listen_tcp_);
    if (!port) return fail(kExitBadInput, "daemon: " + port.error().message);
    options.tcp_port = *port;
  }
  if (!ui_dir_.empty()) options.ui_dir = ui_dir_;
  options.allow_dirs = allow_dirs_;
  options.jail = jail_;
  return daemon::run_daemon(options);
}

Result<json> DaemonCommands::definition_of_create() const {
  const MachineOptions& machine = *create_machine_;
  if (machine.given("--config")) {
    // The file is the REST API's body but for the name: the daemon applies its rules to it.
    const std::string& file = machine.config_file();
    const std::string text = TRY(read_small_file(file, 1 << 20));
    json def = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!def.is_object()) return make_error(fmt::format("--config {}: not a JSON object", file));
    if (auto other = machine.given_machine_option()) {
      return make_error(fmt::format("{}: not with --config", *other));
    }
    def["name"] = name_;
    return def;
  }
  if (!machine.given("--kernel")) return make_error("--kernel is required (or --config FILE)");
  VmConfig config = TRY(machine.config());
  make_paths_absolute(config.machine);
  // The daemon's VMs do not reach the host's loopback unless their --net says.
  for (size_t i = 0; i < config.machine.nets.size(); ++i) {
    if (machine.net_options()[i].find("loopback=") == std::string::npos) {
      config.machine.nets[i].host_loopback = false;
    }
  }
  json def = to_json(config);
  def["name"] = name_;
  return def;
}

int DaemonCommands::create() {
  auto dir = state_dir_of(state_dir_);
  if (!dir) return fail(kExitBadInput, dir.error().message);
  auto def = definition_of_create();
  if (!def) return fail(kExitBadInput, def.error().message);
  auto body = expect_ok(DaemonClient{*dir}.request(http::Method::kPost, "/api/v1/vms", *def));
  if (!body) return fail(kExitRefused, body.error().message);
  print_summary(*body);
  return kExitOk;
}

int DaemonCommands::action(const std::string& action) {
  auto dir = state_dir_of(state_dir_);
  if (!dir) return fail(kExitBadInput, dir.error().message);
  auto body = expect_ok(DaemonClient{*dir}.request(
      http::Method::kPost, fmt::format("/api/v1/vms/{}/{}", name_, action)));
  if (!body) return fail(kExitRefused, body.error().message);
  print_summary(*body);
  return kExitOk;
}

int DaemonCommands::remove() {
  auto dir = state_dir_of(state_dir_);
  if (!dir) return fail(kExitBadInput, dir.error().message);
  auto body = expect_ok(DaemonClient{*dir}.request(
      http::Method::kDelete, fmt::format("/api/v1/vms/{}{}", name_, force_ ? "?force=true" : "")));
  if (!body) return fail(kExitRefused, body.error().message);
  fmt::print("{}: removed\n", name_);
  return kExitOk;
}

int DaemonCommands::list() {
  auto dir = state_dir_of(state_dir_);
  if (!dir) return fail(kExitBadInput, dir.error().message);
  auto body = expect_ok(DaemonClient{*dir}.request(http::Method::kGet, "/api/v1/vms"));
  if (!body) return fail(kExitRefused, body.error().message);
  if (json_) {
    fmt::print("{}\n", body->dump(2));
    return kExitOk;
  }
  std::vector<std::array<std::string, 7>> rows = {
      {"NAME", "STATE", "VCPUS", "MEMORY", "UPTIME", "MIPS", "CPU%"}};
  for (const json& vm : *body) {
    rows.push_back(
        {vm.value("name", "?"), vm.value("state", "?"),
         vm.contains("cpus") ? std::to_string(vm["cpus"].get<int64_t>()) : "-",
         vm.contains("memory_mib") ? fmt::format("{}M", vm["memory_mib"].get<int64_t>()) : "-",
         vm.contains("uptime_seconds") ? human_uptime(vm["uptime_seconds"].get<double>()) : "-",
         field_or_dash(vm, "mips"), field_or_dash(vm, "host_cpu_percent")});
  }
  std::array<size_t, 7> width{};
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      // Names and states read left to right, numbers line up on the right.
      if (i > 0) line += "  ";
      line +=
          i < 2 ? fmt::format("{:<{}}", row[i], width[i]) : fmt::format("{:>{}}", row[i], width[i]);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    fmt::print("{}\n", line);
  }
  return kExitOk;
}

int DaemonCommands::stats() {
  auto dir = state_dir_of(state_dir_);
  if (!dir) return fail(kExitBadInput, dir.error().message);
  auto body = expect_ok(
      DaemonClient{*dir}.request(http::Method::kGet, fmt::format("/api/v1/vms/{}/stats", name_)));
  if (!body) return fail(kExitRefused, body.error().message);
  if (json_) {
    fmt::print("{}\n", body->dump(2));
    return kExitOk;
  }
  const json& s = *body;
  const auto line = &print_field;
  line("name", s.value("name", "?"));
  line("state", s.value("state", "?"));
  if (s.contains("pid")) line("pid", std::to_string(s["pid"].get<int64_t>()));
  if (s.contains("uptime_seconds")) line("uptime", human_uptime(s["uptime_seconds"]));
  if (s.contains("exit_reason")) line("ended", s["exit_reason"].get<std::string>());
  if (s.contains("instructions")) {
    line("instructions", std::to_string(s["instructions"].get<uint64_t>()));
  }
  if (s.contains("mips")) line("MIPS", field_or_dash(s, "mips"));
  if (s.contains("engine") && s["engine"].is_string())
    line("engine", s["engine"].get<std::string>());
  if (s.contains("jit") && s["jit"].is_object()) print_jit(s["jit"]);
  if (s.contains("guest_seconds"))
    line("guest time", field_or_dash(s, "guest_seconds", "{:.3f} s"));
  if (s.contains("host_cpu_seconds")) {
    line("host CPU", field_or_dash(s, "host_cpu_seconds", "{:.2f} s"));
  }
  if (s.contains("host_cpu_percent")) line("host CPU%", field_or_dash(s, "host_cpu_percent"));
  if (s.contains("rss_bytes")) line("RSS", human_bytes(s["rss_bytes"].get<double>()));
  for (const char* key :
       {"disk_read_bytes", "disk_written_bytes", "net_rx_bytes", "net_tx_bytes"}) {
    if (s.contains(key) && s[key].is_number()) line(key, human_bytes(s[key].get<double>()));
  }
  if (s.contains("vcpu_seconds")) {
    for (const json& v : s["vcpu_seconds"]) {
      line(fmt::format("vcpu{} CPU", v.value("vcpu", 0)).c_str(),
           fmt::format("{:.2f} s", v.value("seconds", 0.0)));
    }
  }
  return kExitOk;
}

int DaemonCommands::logs() {
  if (!log_file_.empty()) {
    if (!name_.empty()) return fail(kExitBadInput, "logs: give NAME or --file, not both");
    auto printed = print_console_log(log_file_, STDOUT_FILENO);
    return printed ? kExitOk : fail(kExitBadInput, "logs: " + printed.error().message);
  }
  if (name_.empty()) return fail(kExitBadInput, "logs: give the VM's NAME (or --file PATH)");
  auto dir = state_dir_of(state_dir_);
  if (!dir) return fail(kExitBadInput, dir.error().message);
  std::string target = fmt::format("/api/v1/vms/{}/logs", name_);
  if (bytes_ != 0) target += fmt::format("?bytes={}", bytes_);
  auto r = DaemonClient{*dir}.request(http::Method::kGet, target);
  if (!r) return fail(kExitRefused, r.error().message);
  if (r->status != 200) {
    auto body = expect_ok(r);
    return fail(kExitRefused, body ? "unexpected answer" : body.error().message);
  }
  std::fwrite(r->text.data(), 1, r->text.size(), stdout);
  return kExitOk;
}

int DaemonCommands::console() {
  auto dir = state_dir_of(state_dir_);
  if (!dir) return fail(kExitBadInput, dir.error().message);
  // Asked first: the daemon runs, the VM exists and runs (or says why not).
  auto body = expect_ok(
      DaemonClient{*dir}.request(http::Method::kGet, fmt::format("/api/v1/vms/{}", name_)));
  if (!body) return fail(kExitRefused, body.error().message);
  const std::string state = body->value("status", json::object()).value("state", "");
  if (state != "running" && state != "paused") {
    return fail(kExitRefused,
                fmt::format("VM '{}' is {}: its console is open only while it runs", name_, state));
  }
  // The VM serves its own console: the terminal talks to its socket, not through the daemon.
  AttachOptions options;
  options.path = daemon::VmPaths{*dir + "/vms/" + name_}.console_socket();
  options.name = name_;
  auto end = attach_console(options);
  if (!end) return fail(kExitRefused, "console: " + end.error().message);
  return kExitOk;
}

}  // namespace vessel::cli

namespace vessel::cli {

int daemon_snapshot(const std::string& state_dir, const std::string& name,
                    const std::optional<std::string>& snap) {
  auto dir = daemon::resolve_state_dir(state_dir);
  if (!dir) return fail(kExitBadInput, dir.error().message);
  if (auto ok = daemon::check_vm_name(name); !ok) return fail(kExitBadInput, ok.error().message);
  if (snap) {
    if (auto ok = daemon::check_snapshot_name(*snap); !ok) {
      return fail(kExitBadInput, ok.error().message);
    }
  }
  const json body = snap ? json{{"snapshot", *snap}} : json::object();
  auto r = DaemonClient{*dir}.request(http::Method::kPost,
                                      fmt::format("/api/v1/vms/{}/snapshot", name), body);
  auto answer = expect_ok(r);
  if (!answer) return fail_snapshot(r, answer.error().message);
  fmt::print("{}\n", snapshot_line(*answer));
  return kExitOk;
}

int DaemonCommands::restore() {
  auto dir = state_dir_of(state_dir_);
  if (!dir) return fail(kExitBadInput, dir.error().message);
  if (auto ok = daemon::check_snapshot_name(snap_); !ok) {
    return fail(kExitBadInput, ok.error().message);
  }
  auto r = DaemonClient{*dir}.request(
      http::Method::kPost, fmt::format("/api/v1/vms/{}/restore", name_), json{{"snapshot", snap_}});
  auto body = expect_ok(r);
  if (!body) return fail_snapshot(r, body.error().message);
  print_summary(*body);
  return kExitOk;
}

int DaemonCommands::list_snapshots() {
  auto dir = state_dir_of(state_dir_);
  if (!dir) return fail(kExitBadInput, dir.error().message);
  std::string target = "/api/v1/snapshots";
  if (!name_.empty()) {
    if (auto ok = daemon::check_vm_name(name_); !ok) {
      return fail(kExitBadInput, ok.error().message);
    }
    target += "?vm=" + name_;
  }
  auto r = DaemonClient{*dir}.request(http::Method::kGet, target);
  auto body = expect_ok(r);
  if (!body) return fail_snapshot(r, body.error().message);
  if (json_) {
    fmt::print("{}\n", body->dump(2));
    return kExitOk;
  }
  fmt::print("{:<24} {:<16} {:>10} {:>10}  {}\n", "SNAPSHOT", "VM", "MEMORY", "ON DISK", "TAKEN");
  for (const json& s : *body) {
    fmt::print("{:<24} {:<16} {:>10} {:>10}  {}\n", s.value("name", "?"), s.value("vm", "?"),
               human_bytes(s.value("memory_bytes", 0.0)), human_bytes(s.value("size_bytes", 0.0)),
               s.value("created_at", "?"));
  }
  return kExitOk;
}

int DaemonCommands::clone() {
  auto dir = state_dir_of(state_dir_);
  if (!dir) return fail(kExitBadInput, dir.error().message);
  if (auto ok = daemon::check_snapshot_name(snap_); !ok) {
    return fail(kExitBadInput, ok.error().message);
  }
  if (auto ok = daemon::check_vm_name(name_); !ok) return fail(kExitBadInput, ok.error().message);
  auto r = DaemonClient{*dir}.request(http::Method::kPost,
                                      fmt::format("/api/v1/snapshots/{}/clone", snap_),
                                      json{{"name", name_}, {"hostfwd", hostfwd_}});
  auto body = expect_ok(r);
  if (!body) return fail_snapshot(r, body.error().message);
  print_summary(*body);
  return kExitOk;
}

}  // namespace vessel::cli
