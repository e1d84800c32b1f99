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

constexpr const char* kAfterStart =
    "the microVM is already started: this is a pre-boot setting (allowed before InstanceStart "
    "only)";
constexpr const char* kBeforeStart = "the microVM is not started yet (PUT /actions InstanceStart)";

}  // namespace

const char* vessel_version() { return VESSEL_VERSION; }

FirecrackerApi::FirecrackerApi(VmControl& vm, FirecrackerApiOptions options)
    : vm_(vm), options_(std::move(options)), resources_(options_.base, options_.host_files) {
  if (options_.vmm_version.empty()) options_.vmm_version = vessel_version();
}

void FirecrackerApi::add_routes(http::Router& router) {
  // Every handler runs under the one lock: the VM and the resources change together.
  const auto locked = [this](auto member) {
    return [this, member](const Request& req) {
      std::lock_guard lock(mu_);
      return member(req);
    };
  };
  router.add(Method::kGet, "/", locked([this](const Request&) { return describe_instance(); }));
  router.add(Method::kGet, "/version", locked([this](const Request&) { return version(); }));
  router.add(Method::kGet, "/machine-config",
             locked([this](const Request&) { return get_machine_config(); }));
  router.add(Method::kPut, "/machine-config",
             locked([this](const Request& r) { return put_machine_config(r); }));
  router.add(Method::kPatch, "/machine-config",
             locked([this](const Request& r) { return patch_machine_config(r); }));
  router.add(Method::kPut, "/boot-source",
             locked([this](const Request& r) { return put_boot_source(r); }));
  router.add(Method::kPut, "/drives/{drive_id}", locked([this](const Request& r) {
               return put_device(r, "drive_id", &VmResources::put_drive);
             }));
  router.add(Method::kPut, "/network-interfaces/{iface_id}", locked([this](const Request& r) {
               return put_device(r, "iface_id", &VmResources::put_network_interface);
             }));
  router.add(Method::kPut, "/actions", locked([this](const Request& r) { return put_action(r); }));
  router.add(Method::kPatch, "/vm", locked([this](const Request& r) { return patch_vm(r); }));
  router.add(Method::kPut, "/snapshot/create",
             locked([this](const Request& r) { return create_snapshot(r); }));
  router.add(Method::kPut, "/snapshot/load",
             locked([this](const Request& r) { return load_snapshot(r); }));
  router.add(Method::kGet, "/vm/config",
             locked([this](const Request&) { return get_vm_config(); }));
  router.add(Method::kGet, "/vessel/stats", locked([this](const Request&) { return get_stats(); }));
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
  if (started()) return Response::error(400, kAfterStart);
  return configured(resources_.put_machine_config(req.body));
}

Response FirecrackerApi::patch_machine_config(const Request& req) {
  if (started()) return Response::error(400, kAfterStart);
  return configured(resources_.patch_machine_config(req.body));
}

Response FirecrackerApi::put_boot_source(const Request& req) {
  if (started()) return Response::error(400, kAfterStart);
  return configured(resources_.put_boot_source(req.body));
}

Response FirecrackerApi::put_device(const Request& req, const char* id_name, PutDevice put) {
  if (started()) return Response::error(400, kAfterStart);
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
    return answer(vm_.start(*config));
  }
  if (*type == "FlushMetrics") {
    // Vessel has no metrics sink to flush (GET /vessel/stats reads them): nothing to do.
    return Response::no_content();
  }
  if (*type == "SendCtrlAltDel") {
    return Response::error(400,
                           "SendCtrlAltDel is not supported on riscv64 (the machine has no "
                           "keyboard controller); Vessel's Reboot and Shutdown actions are");
  }
  if (*type == "Reboot" || *type == "Shutdown") {
    if (!started()) return Response::error(400, kBeforeStart);
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
  if (!started()) return Response::error(400, kBeforeStart);
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
  if (!started()) return Response::error(400, kBeforeStart);
  return Response::json(200, vm_.stats());
}

}  // namespace vessel::api
