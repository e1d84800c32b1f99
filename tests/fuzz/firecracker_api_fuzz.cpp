// libFuzzer target: the per-VM API's request validation, from the router's path matching and
// percent-decoding through the JSON body check to every handler's field reading, driven by
// fuzzer-chosen requests against a fake VM (one fresh API per input, so the phase can change
// within an input: boot-source, InstanceStart, then PATCH /vm...).
// Input: records separated by 0xFF (never part of valid JSON). A record's first byte picks a
// route from kRoutes; with its top bit set, the rest is a request path matched against that
// route's method instead of the route's own path, with an empty body. Otherwise the rest is the
// body text.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/firecracker/fake_vm_control.hpp"
#include "api/firecracker/firecracker_api.hpp"
#include "api/http/json_body.hpp"

namespace {

using vessel::http::Method;

struct Route {
  Method method;
  const char* path;
};
constexpr Route kRoutes[] = {
    {Method::kGet, "/"},
    {Method::kGet, "/version"},
    {Method::kGet, "/machine-config"},
    {Method::kPut, "/machine-config"},
    {Method::kPatch, "/machine-config"},
    {Method::kPut, "/boot-source"},
    {Method::kPut, "/drives/rootfs"},
    {Method::kPut, "/drives/data"},
    {Method::kPut, "/network-interfaces/eth0"},
    {Method::kPut, "/network-interfaces/eth1"},
    {Method::kPut, "/actions"},
    {Method::kPatch, "/vm"},
    {Method::kGet, "/vm/config"},
    {Method::kGet, "/vessel/stats"},
    {Method::kDelete, "/drives/rootfs"},
    {Method::kPut, "/mmds"},
    {Method::kPatch, "/mmds"},
    {Method::kGet, "/mmds"},
    {Method::kPut, "/mmds/config"},
    {Method::kPut, "/entropy"},
};
constexpr size_t kNumRoutes = sizeof kRoutes / sizeof kRoutes[0];

void request(vessel::http::Router& router, Method method, std::string_view path,
             std::string_view body) {
  const auto match = router.match(method, path);
  if (match.outcome != vessel::http::Router::Outcome::kFound || match.handler == nullptr) return;
  auto parsed = vessel::http::parse_json_body(body);
  if (!parsed.ok()) return;
  vessel::http::Request req;
  req.method = method;
  req.path = std::string(path);
  req.params = match.params;
  req.body = std::move(*parsed);
  const vessel::http::Response res = (*match.handler)(req);
  // The answer is serialized as the server would (strings may carry the input's bytes).
  if (res.body) { (void)res.body->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vessel::api::FakeVmControl vm;
  vessel::api::FirecrackerApi api(vm, {});
  vessel::http::Router router;
  api.add_routes(router);

  std::string_view input(reinterpret_cast<const char*>(data), size);
  while (!input.empty()) {
    const size_t end = input.find('\xff');
    std::string_view record = input.substr(0, end);
    input.remove_prefix(end == std::string_view::npos ? input.size() : end + 1);
    if (record.empty()) continue;
    const auto selector = static_cast<uint8_t>(record[0]);
    record.remove_prefix(1);
    const Route& route = kRoutes[(selector & 0x7f) % kNumRoutes];
    if (selector & 0x80) {
      request(router, route.method, record, "");
    } else {
      request(router, route.method, route.path, record);
    }
  }
  return 0;
}
