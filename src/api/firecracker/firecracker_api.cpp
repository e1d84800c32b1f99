#include "api/firecracker/firecracker_api.hpp"

#include <fmt/format.h>

#include "api/http/json_fields.hpp"

#ifndef VESSEL_VERSION
#error "VESSEL_VERSION comes from the build (project version)"
#endif

namespace vessel::api {

using http::JsonFields;
using http::Method;
using http::Request;
using http::Response;

namespace {

const char* state_name(VmState state) {
  switch (state) {
    case VmState::kNotStarted: return "Not started";
    case VmState::kRunning: return "Running";
    case VmState::kPaused: return "Paused";
  }
  return "Not started";
}

}  // namespace

const char* vessel_version() { return VESSEL_VERSION; }

FirecrackerApi::FirecrackerApi(VmControl& vm, FirecrackerApiOptions options)
    : vm_(vm),
      options_(std::move(options)),
      resources_(options_.base, options_.host_files),
      logger_(options_.instance_id) {
  if (options_.vmm_version.empty()) options_.vmm_version = vessel_version();
}

void FirecrackerApi::add_routes(http::Router& router) {
  // Every handler runs under the one lock (the VM and the resources change together), and is
  // counted (`what`: its name in Firecracker's request metrics) and logged.
  const auto add = [this, &router](Method method, const char* path, const char* what,
                                   auto handler) {
    router.add(method, path, [this, handler, what](const Request& req) {
      std::lock_guard lock(mu_);
      Response res = handler(req);
      observe(req, res, what);
      return res;
    });
  };
  add(Method::kGet, "/", "instance_info", [this](const Request&) { return describe_instance(); });
  add(Method::kGet, "/version", "vmm_version", [this](const Request&) { return version(); });
  add(Method::kGet, "/machine-config", "machine_cfg",
      [this](const Request&) { return get_machine_config(); });
  add(Method::kPut, "/machine-config", "machine_cfg",
      [this](const Request& r) { return put_machine_config(r); });
  add(Method::kPatch, "/machine-config", "machine_cfg",
      [this](const Request& r) { return patch_machine_config(r); });
  add(Method::kPut, "/boot-source", "boot_source",
      [this](const Request& r) { return put_boot_source(r); });
  add(Method::kPut, "/drives/{drive_id}", "drive",
      [this](const Request& r) { return put_device(r, "drive_id", &VmResources::put_drive); });
  add(Method::kPut, "/network-interfaces/{iface_id}", "network", [this](const Request& r) {
    return put_device(r, "iface_id", &VmResources::put_network_interface);
  });
  add(Method::kPut, "/actions", "actions", [this](const Request& r) { return put_action(r); });
  add(Method::kPatch, "/vm", nullptr, [this](const Request& r) { return patch_vm(r); });
  add(Method::kPut, "/snapshot/create", nullptr,
      [this](const Request& r) { return create_snapshot(r); });
  add(Method::kPut, "/snapshot/load", nullptr,
      [this](const Request& r) { return load_snapshot(r); });
  add(Method::kPut, "/vessel/migrate", nullptr, [this](const Request& r) { return migrate(r); });
  add(Method::kGet, "/vm/config", nullptr, [this](const Request&) { return get_vm_config(); });
  add(Method::kGet, "/vessel/stats", nullptr, [this](const Request&) { return get_stats(); });
  add(Method::kPut, "/logger", "logger", [this](const Request& r) { return put_logger(r); });
  add(Method::kPut, "/metrics", "metrics", [this](const Request& r) { return put_metrics(r); });
  add(Method::kPut, "/balloon", nullptr, [this](const Request& r) { return put_balloon(r); });
  add(Method::kPatch, "/balloon", nullptr, [this](const Request& r) { return patch_balloon(r); });
  add(Method::kGet, "/balloon", nullptr, [this](const Request&) { return get_balloon(); });
  add(Method::kGet, "/balloon/statistics", nullptr,
      [this](const Request&) { return get_balloon_statistics(); });
  add(Method::kPatch, "/balloon/statistics", nullptr,
      [this](const Request& r) { return patch_balloon_statistics(r); });
  add(Method::kPut, "/entropy", nullptr, [this](const Request& r) { return put_entropy(r); });
  add(Method::kPut, "/vsock", "vsock", [this](const Request& r) { return put_vsock(r); });
  add(Method::kPut, "/mmds", "mmds", [this](const Request& r) { return put_mmds(r); });
  add(Method::kPatch, "/mmds", "mmds", [this](const Request& r) { return patch_mmds(r); });
  add(Method::kGet, "/mmds", "mmds", [this](const Request&) { return get_mmds(); });
  add(Method::kPut, "/mmds/config", "mmds",
      [this](const Request& r) { return put_mmds_config(r); });
}

bool FirecrackerApi::started() const { return vm_.state() != VmState::kNotStarted; }

Response FirecrackerApi::answer(const Result<void>& result) {
  if (!result.ok()) return Response::error(400, result.error().message);
  return Response::no_content();
}

Response FirecrackerApi::configured(const Result<void>& result) {
  if (result.ok()) configured_ = true;
  return answer(result);
}

Response FirecrackerApi::describe_instance() {
  // vessel_engine: what the harts run (or will run, before InstanceStart).
  return Response::json(200, {{"id", options_.instance_id},
                              {"state", state_name(vm_.state())},
                              {"vmm_version", options_.vmm_version},
                              {"app_name", "vessel"},
                              {"vessel_engine", rv::engine_name(resources_.engine())}});
}

Response FirecrackerApi::version() {
  return Response::json(200, {{"firecracker_version", options_.vmm_version}});
}

Response FirecrackerApi::get_machine_config() {
  return Response::json(200, resources_.machine_config_json());
}

Response FirecrackerApi::put_machine_config(const Request& req) {
  if (started()) return Response::error(400, kFaultAfterStart);
  return configured(resources_.put_machine_config(req.body));
}

Response FirecrackerApi::patch_machine_config(const Request& req) {
  if (started()) return Response::error(400, kFaultAfterStart);
  return configured(resources_.patch_machine_config(req.body));
}

Response FirecrackerApi::put_boot_source(const Request& req) {
  if (started()) return Response::error(400, kFaultAfterStart);
  return configured(resources_.put_boot_source(req.body));
}

Response FirecrackerApi::put_device(const Request& req, const char* id_name, PutDevice put) {
  if (started()) return Response::error(400, kFaultAfterStart);
  const std::string& id = req.param(id_name);
  if (!valid_id(id)) {
    return Response::error(
        400, fmt::format("{}: 1 to 64 characters of A-Z, a-z, 0-9, '_' and '-'", id_name));
  }
  return configured((resources_.*put)(id, req.body));
}

Response FirecrackerApi::put_action(const Request& req) {
  auto fields = JsonFields::read(req.body, {"action_type"});
  if (!fields.ok()) return Response::error(400, fields.error().message);
  auto type = fields->string("action_type");
  if (!type.ok()) return Response::error(400, type.error().message);

  if (*type == "InstanceStart") {
    if (started()) return Response::error(400, "the microVM is already started");
    auto config = resources_.virt_config();
    if (!config.ok()) return Response::error(400, config.error().message);
    Result<void> done = vm_.start(*config);
    if (done.ok()) logger_.log(LogLevelFc::kInfo, "vmm", "The microVM started");
    return answer(done);
  }
  if (*type == "FlushMetrics") return flush_metrics();
  if (*type == "SendCtrlAltDel") {
    return Response::error(400,
                           "SendCtrlAltDel is not supported on riscv64 (the machine has no "
                           "keyboard controller); Vessel's Reboot and Shutdown actions are");
  }
  if (*type == "Reboot" || *type == "Shutdown") {
    if (!started()) return Response::error(400, kFaultBeforeStart);
    return answer(*type == "Reboot" ? vm_.reboot() : vm_.shutdown());
  }
  return Response::error(400, fmt::format("action_type: unknown action '{}' (known: "
                                          "InstanceStart, SendCtrlAltDel, FlushMetrics, Reboot, "
                                          "Shutdown)",
                                          http::excerpt(*type)));
}

Response FirecrackerApi::patch_vm(const Request& req) {
  auto fields = JsonFields::read(req.body, {"state"});
  if (!fields.ok()) return Response::error(400, fields.error().message);
  auto state = fields->string("state");
  if (!state.ok()) return Response::error(400, state.error().message);
  if (*state != "Paused" && *state != "Resumed") {
    return Response::error(
        400, fmt::format("state: unknown state '{}' (Paused or Resumed)", http::excerpt(*state)));
  }
  if (!started()) return Response::error(400, kFaultBeforeStart);
  // Pausing a paused VM (or resuming a running one) is already done.
  if (*state == "Paused") {
    return vm_.state() == VmState::kPaused ? Response::no_content() : answer(vm_.pause());
  }
  return vm_.state() == VmState::kRunning ? Response::no_content() : answer(vm_.resume());
}

Response FirecrackerApi::get_vm_config() {
  return Response::json(200, resources_.full_config_json());
}

Response FirecrackerApi::get_stats() {
  if (!started()) return Response::error(400, kFaultBeforeStart);
  return Response::json(200, vm_.stats());
}

}  // namespace vessel::api
