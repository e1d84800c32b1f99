#include "cli/snapshot_cli.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "api/http/client.hpp"
#include "cli/daemon_cli.hpp"
#include "vmm/snapshot/snapshot.hpp"
#include "vmm/vm.hpp"

namespace vessel::cli {

namespace {

// Writing a large guest's memory file takes longer than an ordinary request.
constexpr auto kSnapshotTimeout = std::chrono::minutes(5);

int snapshot_fail(const std::string& message) {
  fmt::print(stderr, "vessel: snapshot: {}\n", message);
  return kExitBadInput;
}

// 2xx, or the server's one-line error.
Result<http::ClientResponse> call(const http::Client& client, http::Method method,
                                  std::string_view target, const nlohmann::json& body) {
  auto r = client.request(method, target, body);
  if (!r) return r;
  if (r->status / 100 != 2) {
    const std::string why = r->body.is_object() && r->body.contains("fault_message")
                                ? r->body["fault_message"].get<std::string>()
                                : r->text;
    return make_error(fmt::format("{} {}: {}", http::method_name(method), target, why));
  }
  return r;
}

}  // namespace

SnapshotCommand::SnapshotCommand(CLI::App& app) {
  cmd_ = app.add_subcommand("snapshot",
                            "Snapshot a running VM: through its API socket into DIR (restore "
                            "it with `vessel run --restore DIR`), or the daemon's VM NAME as "
                            "SNAP (vessel restore, vessel clone)");
  cmd_->add_option("--api-sock", api_sock, "The VM's API socket (vessel run --api-sock)");
  cmd_->add_option("NAME_OR_DIR", args,
                   "DIR (with --api-sock: where the snapshot goes, created if missing), or NAME "
                   "[SNAP] (the daemon's VM, and the snapshot's name)")
      ->required()
      ->expected(1, 2);
  cmd_->add_option("--state-dir", state_dir, "The daemon's state directory (as `vessel ls`)");
  cmd_->add_flag("--stay-paused", stay_paused, "Leave the VM paused after the snapshot");
  cmd_->add_flag("--diff", diff,
                 "A Diff snapshot: only the memory pages written since the VM's last snapshot "
                 "(or its restore); layer it onto that one with `vessel rebase-snap`");
  rebase_ = app.add_subcommand(
      "rebase-snap",
      "Layer a Diff snapshot's memory file onto its base's, as Firecracker's rebase-snap: then "
      "the base file with the Diff's vmstate is a whole snapshot to restore");
  rebase_->add_option("--base-file", base_file, "The base snapshot's memory file (written to)")
      ->required();
  rebase_->add_option("--diff-file", diff_file, "The Diff snapshot's memory file")->required();
}

std::optional<int> SnapshotCommand::run() {
  if (rebase_->parsed()) {
    if (auto r = snapshot::apply_diff(base_file, diff_file); !r) {
      fmt::print(stderr, "vessel: rebase-snap: {}\n", r.error().message);
      return kExitBadInput;
    }
    return kExitOk;
  }
  return snapshot();
}

std::optional<int> SnapshotCommand::snapshot() {
  if (!cmd_->parsed()) return std::nullopt;
  if (api_sock.empty()) {
    if (stay_paused || diff) return snapshot_fail("--stay-paused and --diff: only with --api-sock");
    return daemon_snapshot(state_dir, args[0],
                           args.size() > 1 ? std::optional<std::string>(args[1]) : std::nullopt);
  }
  if (args.size() != 1) return snapshot_fail("with --api-sock, give one DIR");
  if (!state_dir.empty()) return snapshot_fail("--state-dir: not with --api-sock");
  const std::string& dir = args[0];
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return snapshot_fail(fmt::format("{}: {}", dir, ec.message()));
  const std::string absolute = std::filesystem::absolute(dir, ec).lexically_normal().string();
  const http::Client client = http::Client::unix_socket(api_sock, kSnapshotTimeout);
  auto info = call(client, http::Method::kGet, "/", nullptr);
  if (!info) return snapshot_fail(info.error().message);
  const bool was_running = info->body.value("state", "") == "Running";
  if (was_running) {
    if (auto r = call(client, http::Method::kPatch, "/vm", {{"state", "Paused"}}); !r) {
      return snapshot_fail(r.error().message);
    }
  }
  const nlohmann::json request = {{"snapshot_type", diff ? "Diff" : "Full"},
                                  {"snapshot_path", absolute + "/" + snapshot::kStateFileName},
                                  {"mem_file_path", absolute + "/" + snapshot::kMemoryFileName}};
  auto created = call(client, http::Method::kPut, "/snapshot/create", request);
  // The VM goes on whether or not the snapshot was written.
  if (was_running && !stay_paused) {
    if (auto r = call(client, http::Method::kPatch, "/vm", {{"state", "Resumed"}}); !r) {
      return snapshot_fail(r.error().message);
    }
  }
  if (!created) return snapshot_fail(created.error().message);
  return kExitOk;
}

}  // namespace vessel::cli
