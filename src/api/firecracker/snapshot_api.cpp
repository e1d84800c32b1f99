// PUT /snapshot/create and PUT /snapshot/load, with Firecracker's fields: a Full or Diff
// snapshot of a paused VM into two files, and a VM started from one before anything else is
// configured.
// The files pass HostFilePolicy like every other file a request names.
#include <fmt/format.h>

#include "api/firecracker/firecracker_api.hpp"
#include "api/http/json_fields.hpp"

namespace vessel::api {

using http::JsonFields;
using http::Request;
using http::Response;

Response FirecrackerApi::create_snapshot(const Request& req) {
  // `version` was Firecracker's target snapshot version (deprecated, then removed): Vessel
  // writes the one format it reads.
  auto fields =
      JsonFields::read(req.body, {"snapshot_type", "snapshot_path", "mem_file_path", "version"});
  if (!fields.ok()) return Response::error(400, fields.error().message);
  auto type = fields->optional_string("snapshot_type");
  if (!type.ok()) return Response::error(400, type.error().message);
  auto state = fields->string("snapshot_path");
  if (!state.ok()) return Response::error(400, state.error().message);
  auto memory = fields->string("mem_file_path");
  if (!memory.ok()) return Response::error(400, memory.error().message);
  const std::string kind = type->value_or("Full");
  if (kind != "Full" && kind != "Diff") {
    return Response::error(
        400, fmt::format("snapshot_type: unknown type '{}' (Full or Diff)", http::excerpt(kind)));
  }
  if (!started()) {
    return Response::error(400, "the microVM is not started: there is nothing to snapshot");
  }
  if (vm_.state() != VmState::kPaused) {
    return Response::error(
        400, "the microVM must be paused to snapshot it (PATCH /vm {\"state\": \"Paused\"})");
  }
  auto state_file = options_.host_files.check_new("snapshot_path", *state);
  if (!state_file.ok()) return Response::error(400, state_file.error().message);
  auto memory_file = options_.host_files.check_new("mem_file_path", *memory);
  if (!memory_file.ok()) return Response::error(400, memory_file.error().message);
  if (*state_file == *memory_file) {
    return Response::error(400, "snapshot_path and mem_file_path name the same file");
  }
  return answer(vm_.create_snapshot({*state_file, *memory_file, kind == "Diff"}));
}

Response FirecrackerApi::load_snapshot(const Request& req) {
  auto fields = JsonFields::read(req.body, {"snapshot_path", "mem_backend", "mem_file_path",
                                            "enable_diff_snapshots", "resume_vm"});
  if (!fields.ok()) return Response::error(400, fields.error().message);
  auto state = fields->string("snapshot_path");
  if (!state.ok()) return Response::error(400, state.error().message);
  auto diff = fields->optional_boolean("enable_diff_snapshots");
  if (!diff.ok()) return Response::error(400, diff.error().message);
  auto resume = fields->optional_boolean("resume_vm");
  if (!resume.ok()) return Response::error(400, resume.error().message);
  auto backend = fields->optional_object("mem_backend");
  if (!backend.ok()) return Response::error(400, backend.error().message);
  auto old_path = fields->optional_string("mem_file_path");
  if (!old_path.ok()) return Response::error(400, old_path.error().message);
  // mem_backend {backend_type: File, backend_path}, or the older mem_file_path: one of them.
  if ((*backend != nullptr) == old_path->has_value()) {
    return Response::error(400, "give one of mem_backend and mem_file_path");
  }
  std::string memory;
  if (*backend != nullptr) {
    auto b = JsonFields::read_object(**backend, "mem_backend", {"backend_type", "backend_path"});
    if (!b.ok()) return Response::error(400, b.error().message);
    auto kind = b->string("backend_type");
    if (!kind.ok()) return Response::error(400, kind.error().message);
    if (*kind != "File") {
      return Response::error(400, fmt::format("mem_backend.backend_type: '{}' is not supported "
                                              "(File; Uffd is not)",
                                              http::excerpt(*kind)));
    }
    auto path = b->string("backend_path");
    if (!path.ok()) return Response::error(400, path.error().message);
    memory = *path;
  } else {
    memory = **old_path;
  }
  // enable_diff_snapshots is taken and needs nothing: every VM logs the pages it writes (in
  // software, on a store's way into the soft TLB), so any may take Diff snapshots.
  (void)*diff;
  if (started()) return Response::error(400, "the microVM is already started");
  if (configured_) {
    return Response::error(400,
                           "loading a snapshot is not allowed after configuring the microVM "
                           "(load it first, into a fresh vessel run --api-sock)");
  }
  auto state_file = options_.host_files.check("snapshot_path", *state, HostFileUse::kImage, false);
  if (!state_file.ok()) return Response::error(400, state_file.error().message);
  auto memory_file =
      options_.host_files.check(*backend != nullptr ? "mem_backend.backend_path" : "mem_file_path",
                                memory, HostFileUse::kImage, false);
  if (!memory_file.ok()) return Response::error(400, memory_file.error().message);
  return answer(vm_.load_snapshot({*state_file, *memory_file}, resume->value_or(false)));
}

}  // namespace vessel::api
