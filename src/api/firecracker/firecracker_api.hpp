// The per-VM API `vessel run --api-sock PATH` serves: Firecracker's API where it applies to a
// RISC-V machine, plus a few Vessel extensions (docs/api.md, docs/api/vessel-vm.openapi.json).
// It registers its handlers into an http::Router and talks to the VM only through VmControl,
// so it is tested against a fake and knows nothing of sockets.
//
// Phase rules, as Firecracker's: boot-source, machine-config (PUT/PATCH), drives and
// network-interfaces are pre-boot only; PATCH /vm, Reboot and Shutdown need a started VM;
// InstanceStart works once. A request in the wrong phase is a 400 {"fault_message": ...}.
#pragma once

#include <chrono>
#include <mutex>
#include <string>

#include "api/firecracker/api_logger.hpp"
#include "api/firecracker/metrics.hpp"
#include "api/firecracker/vm_control.hpp"
#include "api/firecracker/vm_resources.hpp"
#include "api/http/router.hpp"

namespace vessel::api {

// The fault messages of the phase rules.
inline constexpr const char* kFaultAfterStart =
    "the microVM is already started: this is a pre-boot setting (allowed before InstanceStart "
    "only)";
inline constexpr const char* kFaultBeforeStart =
    "the microVM is not started yet (PUT /actions InstanceStart)";

struct FirecrackerApiOptions {
  std::string instance_id = "anonymous-instance";  // Firecracker's default id
  std::string vmm_version;                         // empty: Vessel's own version
  // What the API starts from: `vessel run`'s other options (firmware, RAM, harts, devices).
  VirtConfig base;
  // Which host files a request may name (`vessel run --api-allow-dir`).
  HostFilePolicy host_files;
};

class FirecrackerApi {
 public:
  FirecrackerApi(VmControl& vm, FirecrackerApiOptions options);

  // Adds every route of the API. `this` must outlive the router's use.
  void add_routes(http::Router& router);
  // The periodic metrics line (every kMetricsPeriod once PUT /metrics is done): the VMM calls
  // this about once a second from a thread of the API's role.
  void tick(std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());
  // A line for the logger (PUT /logger), from the VMM's side (the VM's start and end).
  void log(LogLevelFc level, std::string_view origin, std::string_view message);

 private:
  http::Response describe_instance();
  http::Response version();
  http::Response get_machine_config();
  http::Response put_machine_config(const http::Request& req);
  http::Response patch_machine_config(const http::Request& req);
  http::Response put_boot_source(const http::Request& req);
  // PUT /drives/{drive_id} and /network-interfaces/{iface_id}.
  using PutDevice = Result<void> (VmResources::*)(const std::string&,
                                                  const std::optional<nlohmann::json>&);
  http::Response put_device(const http::Request& req, const char* id_name, PutDevice put);
  http::Response put_action(const http::Request& req);
  http::Response patch_vm(const http::Request& req);
  // PUT /snapshot/create and /snapshot/load (snapshot_api.cpp).
  http::Response create_snapshot(const http::Request& req);
  http::Response load_snapshot(const http::Request& req);
  http::Response migrate(const http::Request& req);
  // A pre-boot setting's answer; a success counts as configuration, after which a snapshot
  // may no longer be loaded (Firecracker's rule).
  http::Response configured(const Result<void>& result);
  http::Response get_vm_config();
  http::Response get_stats();
  // PUT /logger, PUT /metrics (api_outputs.cpp).
  http::Response put_logger(const http::Request& req);
  http::Response put_metrics(const http::Request& req);
  http::Response flush_metrics();
  // The balloon and the entropy device (api_devices.cpp).
  http::Response put_balloon(const http::Request& req);
  http::Response patch_balloon(const http::Request& req);
  http::Response get_balloon();
  http::Response get_balloon_statistics();
  http::Response patch_balloon_statistics(const http::Request& req);
  http::Response put_entropy(const http::Request& req);
  http::Response put_vsock(const http::Request& req);
  // The metadata service (api_mmds.cpp).
  http::Response put_mmds(const http::Request& req);
  http::Response patch_mmds(const http::Request& req);
  http::Response get_mmds();
  http::Response put_mmds_config(const http::Request& req);
  // Counts and logs an answered request (`what`: its metrics name, or nullptr).
  void observe(const http::Request& req, const http::Response& res, const char* what);

  bool started() const;
  // 204, or the error as Firecracker shapes it (400 {"fault_message"}).
  static http::Response answer(const Result<void>& result);

  VmControl& vm_;
  FirecrackerApiOptions options_;
  std::mutex mu_;  // one request at a time, whatever threads the server runs
  VmResources resources_;
  bool configured_ = false;
  ApiMetrics metrics_;
  ApiLogger logger_;
};

// The version GET /version and GET / report.
const char* vessel_version();

}  // namespace vessel::api
