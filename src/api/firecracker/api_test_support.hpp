// What the per-VM API's tests share: an API over a fake VM, called through its router without
// sockets, and scratch files for the paths a request names.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "api/firecracker/fake_vm_control.hpp"
#include "api/firecracker/firecracker_api.hpp"
#include "api/http/scratch_dir.hpp"

namespace vessel::api {

using http::ScratchDir;

struct ApiHarness {
  explicit ApiHarness(VirtConfig base = {}, HostFilePolicy files = {}) {
    FirecrackerApiOptions options;
    options.base = std::move(base);
    options.host_files = std::move(files);
    options.instance_id = "test-vm";
    api = std::make_unique<FirecrackerApi>(vm, options);
    api->add_routes(router);
  }

  http::Response call(http::Method method, const std::string& path,
                      std::optional<nlohmann::json> body = std::nullopt) {
    const http::Router::Match m = router.match(method, path);
    if (m.outcome != http::Router::Outcome::kFound || m.handler == nullptr) {
      return http::Response::error(m.outcome == http::Router::Outcome::kNotFound ? 404 : 405, "");
    }
    http::Request req;
    req.method = method;
    req.path = path;
    req.params = m.params;
    req.body = std::move(body);
    return (*m.handler)(req);
  }

  FakeVmControl vm;
  std::unique_ptr<FirecrackerApi> api;
  http::Router router;
};

// A test over an API of its own, with scratch files for the paths its requests name.
class ApiTestBase : public ::testing::Test {
 protected:
  http::Response call(http::Method m, const std::string& path,
                      std::optional<nlohmann::json> body = std::nullopt) {
    return h.call(m, path, std::move(body));
  }
  // A boot source, then InstanceStart (both must succeed).
  void start();

  ScratchDir dir;
  ApiHarness h;
};

inline std::string fault(const http::Response& r) {
  if (!r.body || !r.body->contains("fault_message")) return "";
  return (*r.body)["fault_message"].get<std::string>();
}

// A 400 whose message contains `part`.
inline void expect_fault(const http::Response& r, const std::string& part) {
  EXPECT_EQ(r.status, 400) << fault(r);
  EXPECT_NE(fault(r).find(part), std::string::npos)
      << "'" << fault(r) << "' lacks '" << part << "'";
}

// A 204 without a body.
inline void expect_done(const http::Response& r) {
  EXPECT_EQ(r.status, 204) << fault(r);
  EXPECT_FALSE(r.body.has_value());
}

inline void ApiTestBase::start() {
  expect_done(call(http::Method::kPut, "/boot-source",
                   nlohmann::json{{"kernel_image_path", dir.file("Image")}}));
  expect_done(
      call(http::Method::kPut, "/actions", nlohmann::json{{"action_type", "InstanceStart"}}));
}

}  // namespace vessel::api
