// The per-VM API's metadata service: PUT, PATCH and GET /mmds (the data store, at any time; the
// guest sees a change with its next request) and PUT /mmds/config (pre-boot: which interfaces
// serve it, the version, the address), with Firecracker's fault messages.
#include "api/firecracker/firecracker_api.hpp"

namespace vessel::api {

using http::Request;
using http::Response;

namespace {

// The body PUT and PATCH take: a JSON object, as Firecracker's API document has it.
Result<const nlohmann::json*> object_body(const Request& req) {
  if (!req.body) return make_error("a JSON object body is required");
  if (!req.body->is_object()) return make_error("the MMDS data store must be a JSON object");
  return &*req.body;
}

}  // namespace

Response FirecrackerApi::put_mmds(const Request& req) {
  auto body = object_body(req);
  if (!body.ok()) return Response::error(400, body.error().message);
  return answer(resources_.mmds().put(**body));
}

Response FirecrackerApi::patch_mmds(const Request& req) {
  auto body = object_body(req);
  if (!body.ok()) return Response::error(400, body.error().message);
  return answer(resources_.mmds().patch(**body));
}

Response FirecrackerApi::get_mmds() { return Response::json(200, resources_.mmds().get()); }

Response FirecrackerApi::put_mmds_config(const Request& req) {
  if (started()) return Response::error(400, kFaultAfterStart);
  return configured(resources_.put_mmds_config(req.body));
}

}  // namespace vessel::api
