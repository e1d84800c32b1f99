#include "cli/migrate_cli.hpp"

#include <fmt/format.h>

#include <chrono>

#include "api/http/client.hpp"
#include "daemon/state_dir.hpp"
#include "vmm/vm.hpp"

namespace vessel::cli {

namespace {

// A migration's request lasts as long as the migration: a large guest dirtying memory over a
// slow link takes minutes.
constexpr auto kMigrateTimeout = std::chrono::minutes(30);
// The migration failed (the VM runs on where it was), as opposed to wrong input (2).
constexpr int kExitFailed = 1;

int migrate_fail(int status, const std::string& message) {
  fmt::print(stderr, "vessel: migrate: {}\n", message);
  return status;
}

// The error of a refused request: Firecracker's fault_message, the daemon's error, or the text.
std::string refusal(const http::ClientResponse& r) {
  for (const char* key : {"fault_message", "error"}) {
    if (r.body.is_object() && r.body.contains(key) && r.body[key].is_string()) {
      return r.body[key].get<std::string>();
    }
  }
  return fmt::format("answered {}: {}", r.status, r.text);
}

void print_figures(const nlohmann::json& j, bool as_json) {
  if (as_json) {
    fmt::print("{}\n", j.dump());
    return;
  }
  fmt::print("migrated: {} rounds, {:.1f} MiB sent, {:.1f} ms in all, {:.1f} ms down\n",
             j.value("rounds", 0), j.value("bytes_sent", 0.0) / (1 << 20), j.value("total_ms", 0.0),
             j.value("downtime_ms", 0.0));
}

}  // namespace

MigrateCommand::MigrateCommand(CLI::App& app) {
  cmd_ = app.add_subcommand(
      "migrate",
      "Move a running VM live to another Vessel: a daemon's VM NAME to the daemon at --to "
      "HOST:PORT, or the VM of --api-sock to a `vessel run --incoming` at --to ADDR");
  cmd_->add_option("NAME", name, "The daemon's VM to move (not with --api-sock)");
  cmd_->add_option("--to", to,
                   "Where to: the destination daemon's HOST:PORT (its --listen-tcp), or with "
                   "--api-sock the destination's --incoming address (tcp:HOST:PORT, unix:PATH)")
      ->required();
  cmd_->add_option("--api-sock", api_sock, "The VM's API socket (vessel run --api-sock)");
  cmd_->add_option("--to-token", token,
                   "The destination daemon's bearer token (its STATE_DIR/token)")
      ->envname("VESSEL_TO_TOKEN");
  cmd_->add_option("--state-dir", state_dir,
                   "The source daemon's state directory (default: $VESSEL_STATE_DIR, else "
                   "$XDG_STATE_HOME/vessel, else ~/.local/state/vessel)");
  cmd_->add_option("--max-rounds", max_rounds,
                   "Rounds of dirty pages after the first pass, at most, before the "
                   "stop-and-copy")
      ->capture_default_str();
  cmd_->add_option("--downtime-ms", downtime_ms,
                   "Stop and copy once what is left can be sent in about this long")
      ->capture_default_str();
  cmd_->add_flag("--json", json, "Print the migration's figures as one JSON object");
}

std::optional<int> MigrateCommand::run() {
  if (!cmd_->parsed()) return std::nullopt;
  if (api_sock.empty() == name.empty()) {
    return migrate_fail(kExitBadInput, "give either NAME (a daemon's VM) or --api-sock SOCK");
  }
  if (max_rounds > 1000) return migrate_fail(kExitBadInput, "--max-rounds: at most 1000");
  if (downtime_ms == 0 || downtime_ms > 60'000) {
    return migrate_fail(kExitBadInput, "--downtime-ms: from 1 to 60000");
  }
  return api_sock.empty() ? through_daemon() : through_api_socket();
}

int MigrateCommand::through_api_socket() {
  if (!token.empty() || !state_dir.empty()) {
    return migrate_fail(kExitBadInput,
                        "--to-token and --state-dir are for a daemon's VM, not --api-sock");
  }
  const nlohmann::json body = {
      {"destination", to}, {"max_rounds", max_rounds}, {"downtime_ms", downtime_ms}};
  auto r = http::Client::unix_socket(api_sock, kMigrateTimeout)
               .request(http::Method::kPut, "/vessel/migrate", body);
  if (!r) return migrate_fail(kExitFailed, r.error().message);
  if (r->status / 100 != 2) return migrate_fail(kExitFailed, refusal(*r));
  print_figures(r->body, json);
  return kExitOk;
}

int MigrateCommand::through_daemon() {
  auto dir = daemon::resolve_state_dir(state_dir);
  if (!dir) return migrate_fail(kExitBadInput, dir.error().message);
  if (token.empty()) {
    return migrate_fail(
        kExitBadInput,
        "--to-token: the destination daemon's token is needed (or $VESSEL_TO_TOKEN)");
  }
  const nlohmann::json body = {
      {"to", to}, {"token", token}, {"max_rounds", max_rounds}, {"downtime_ms", downtime_ms}};
  auto r = http::Client::unix_socket(*dir + "/daemon.sock", kMigrateTimeout)
               .request(http::Method::kPost, fmt::format("/api/v1/vms/{}/migrate", name), body);
  if (!r) return migrate_fail(kExitFailed, r.error().message);
  if (r->status / 100 != 2)
    return migrate_fail(r->status == 400 ? kExitBadInput : kExitFailed, refusal(*r));
  print_figures(r->body, json);
  return kExitOk;
}

}  // namespace vessel::cli
