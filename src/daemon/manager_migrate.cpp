// Live migration between daemons (docs/migration.md). The source daemon asks the destination
// daemon (its TCP API, with its token) for an incoming VM; the destination creates the VM from
// the source's definition, starts `vessel run --incoming` on a Unix socket in the VM's dir and
// opens a one-time relay port to it; the source daemon has its VM's process migrate there
// (PUT /vessel/migrate, with the destination's ticket) and removes the VM only once the guest
// runs at the destination. A failure leaves the VM running here and the destination's VM
// removed.
#include <fmt/format.h>

#include "api/http/client.hpp"
#include "base/log.hpp"
#include "base/random.hpp"
#include "daemon/manager.hpp"
#include "daemon/manager_vm.hpp"
#include "daemon/migration_relay.hpp"
#include "vmm/migration/channel.hpp"

namespace vessel::daemon {

using nlohmann::json;
using namespace manager_detail;

namespace {

// Asking the destination daemon for its VM: it creates and starts one, without a guest yet.
constexpr auto kIncomingTimeout = std::chrono::seconds(30);
// The migration itself: a large guest dirtying memory takes long.
constexpr auto kMigrateTimeout = std::chrono::minutes(30);
// Once the guest runs at the destination, the source's process ends at once.
constexpr auto kSourceEndWait = std::chrono::seconds(10);

struct MigrateRequest {
  migration::Address to;
  std::string token;
  json vm_options;  // max_rounds, downtime_ms for PUT /vessel/migrate
};

Result<MigrateRequest> parse_migrate(const std::optional<json>& body) {
  if (!body || !body->is_object()) return make_error("the body must be a JSON object");
  MigrateRequest r;
  r.vm_options = json::object();
  for (const auto& [key, value] : body->items()) {
    if (key == "to" && value.is_string()) {
      r.to = TRY(migration::parse_address(value.get<std::string>()));
    } else if (key == "token" && value.is_string()) {
      r.token = value.get<std::string>();
    } else if ((key == "max_rounds" || key == "downtime_ms") && value.is_number_unsigned()) {
      r.vm_options[key] = value;
    } else {
      return make_error(fmt::format("'{}': not a field of a migration, or not of its type", key));
    }
  }
  if (r.to.text.empty()) return make_error("to: missing (the destination daemon's HOST:PORT)");
  if (r.to.unix_socket) return make_error("to: a daemon is reached over TCP (HOST:PORT)");
  if (r.token.empty()) return make_error("token: missing (the destination daemon's token)");
  return r;
}

std::string refusal(const http::ClientResponse& r) {
  if (r.body.is_object() && r.body.contains("error") && r.body["error"].is_string()) {
    return r.body["error"].get<std::string>();
  }
  return fmt::format("answered {}: {}", r.status, r.text);
}

}  // namespace

Answer VmManager::incoming(const std::optional<json>& body) {
  if (!options_.jail_dir.empty()) {
    return Answer::fail(409,
                        "migration into a jailed VM is not supported yet (vessel daemon "
                        "--jail off)");
  }
  if (!body || !body->is_object() || !body->contains("definition") || body->size() != 1) {
    return Answer::fail(400, "the body must be {\"definition\": {...}}");
  }
  // Before the VM exists, so that nothing is left behind when there is no ticket.
  auto ticket = random_hex(16);
  if (!ticket) return Answer::fail(500, "a migration ticket: " + ticket.error().message);
  Answer created = create((*body)["definition"]);
  if (!created.error.empty()) return created;
  const std::string name = created.body.value("name", "");
  const std::string socket = paths_of(name).dir + "/incoming.sock";
  Answer started = start_process(name, {{"--incoming", "unix:" + socket}, *ticket});
  auto port = started.error.empty() ? start_migration_relay(socket)
                                    : Result<uint16_t>(make_error(started.error));
  if (!port) {
    (void)remove(name, true);
    return Answer::fail(started.error.empty() ? 500 : started.status,
                        fmt::format("VM '{}': cannot take it in: {}", name, port.error().message));
  }
  log(LogLevel::kInfo, "VM '{}' waits for its migration (relay port {})", name, *port);
  return Answer::ok(201, {{"name", name}, {"port", *port}, {"ticket", *ticket}});
}

Answer VmManager::migrate(const std::string& name, const std::optional<json>& body) {
  auto request = parse_migrate(body);
  if (!request) return Answer::fail(400, request.error().message);
  if (!options_.jail_dir.empty()) {
    return Answer::fail(409,
                        "migrating a jailed VM is not supported yet (vessel daemon "
                        "--jail off)");
  }
  std::unique_lock lock(mu_);
  Vm* vm = find_locked(name);
  if (Answer a = begin_operation(vm, name, "migrate"); !a.error.empty()) return a;
  const VmDefinition def = *vm->definition;
  lock.unlock();

  const auto& to = request->to;
  const http::Client dest = http::Client::tcp(to.port, request->token, kIncomingTimeout, to.host);
  auto fail = [&](int status, const std::string& why) {
    std::lock_guard relock(mu_);
    vm->busy = false;
    return Answer::fail(status, fmt::format("VM '{}' stays here: {}", name, why));
  };
  auto asked =
      dest.request(http::Method::kPost, "/api/v1/incoming", json{{"definition", def.to_json()}});
  if (!asked) return fail(502, fmt::format("the destination daemon: {}", asked.error().message));
  if (asked->status / 100 != 2) {
    return fail(asked->status == 401 ? 401 : 409,
                fmt::format("the destination daemon refused it: {}", refusal(*asked)));
  }
  json call = request->vm_options;
  call["destination"] = fmt::format("tcp:{}:{}", to.host, asked->body.value("port", 0));
  call["ticket"] = asked->body.value("ticket", "");
  auto moved = call_vm(*vm, "PUT", "/vessel/migrate", call,
                       std::chrono::duration_cast<std::chrono::milliseconds>(kMigrateTimeout));
  if (!moved) {
    // The destination's VM never ran the guest: it goes (its process ended, or ends now).
    (void)dest.request(http::Method::kDelete, fmt::format("/api/v1/vms/{}?force=true", name));
    return fail(502, moved.error().message);
  }
  lock.lock();
  // The guest runs at the destination: this VM's process ends by itself, then the VM goes.
  changed_.wait_for(lock, kSourceEndWait, [&] { return !vm->live(); });
  vm->busy = false;
  if (vm->live()) {
    log(LogLevel::kWarn, "VM '{}' migrated but its process (pid {}) still runs", name, vm->pid);
    return Answer::ok(200, *moved);
  }
  if (auto removed = remove_vm_dir(options_.state_dir + "/vms", name); !removed) {
    log(LogLevel::kWarn, "VM '{}' migrated; its dir stays: {}", name, removed.error().message);
  }
  vms_.erase(name);
  log(LogLevel::kInfo, "VM '{}' migrated to {}", name, to.text);
  return Answer::ok(200, *moved);
}

}  // namespace vessel::daemon
