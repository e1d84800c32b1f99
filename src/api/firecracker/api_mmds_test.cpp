// The metadata service's endpoints against a fake VM: PUT, PATCH and GET /mmds at any time (on
// the store the machine is built with, so the guest sees each change), PUT /mmds/config's rules
// and what the machine gets from it.
#include <gtest/gtest.h>

#include <string>

#include "api/firecracker/api_test_support.hpp"

namespace vessel::api {
namespace {

using http::Method;
using nlohmann::json;

class MmdsApiTest : public ApiTestBase {
 protected:
  void user_net(const std::string& id) {
    expect_done(call(Method::kPut, "/network-interfaces/" + id,
                     json{{"iface_id", id}, {"vessel_user_net", json::object()}}));
  }
};

TEST_F(MmdsApiTest, PutPatchGetBeforeAndAfterTheStart) {
  auto r = call(Method::kGet, "/mmds");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(*r.body, json::object()) << "{} until the first PUT, as Firecracker answers";
  expect_fault(call(Method::kPatch, "/mmds", json{{"a", 1}}),
               "The MMDS data store is not initialized.");
  expect_done(call(Method::kPut, "/mmds", json{{"latest", {{"meta-data", {{"id", "i-1"}}}}}}));
  user_net("eth0");
  expect_done(call(Method::kPut, "/mmds/config", json{{"network_interfaces", {"eth0"}}}));
  start();
  // After the start, on the very store the machine serves to the guest.
  ASSERT_TRUE(h.vm.started_with && h.vm.started_with->mmds);
  const net::MmdsStore& store = *h.vm.started_with->mmds;
  expect_done(call(Method::kPatch, "/mmds",
                   json{{"latest", {{"meta-data", {{"id", nullptr}, {"zone", "z1"}}}}}}));
  EXPECT_EQ(store.lookup("/latest/meta-data/zone"), json("z1"));
  EXPECT_FALSE(store.lookup("/latest/meta-data/id").has_value()) << "null deletes (RFC 7396)";
  r = call(Method::kGet, "/mmds");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(*r.body, json::parse(R"({"latest": {"meta-data": {"zone": "z1"}}})"));
  expect_done(call(Method::kPut, "/mmds", json{{"v", 2}}));
  EXPECT_EQ(store.get(), (json{{"v", 2}}));
}

TEST_F(MmdsApiTest, BodiesAndTheSizeLimit) {
  expect_fault(call(Method::kPut, "/mmds", json::array()), "JSON object");
  expect_fault(call(Method::kPut, "/mmds"), "JSON object");
  expect_fault(
      call(Method::kPut, "/mmds", json{{"blob", std::string(net::kMmdsMaxStoreBytes, 'x')}}),
      "The MMDS patch request doesn't fit.");
  expect_done(call(Method::kPut, "/mmds", json{{"a", "small"}}));
  expect_fault(
      call(Method::kPatch, "/mmds", json{{"b", std::string(net::kMmdsMaxStoreBytes - 8, 'x')}}),
      "The MMDS patch request doesn't fit.");
  expect_fault(call(Method::kPatch, "/mmds", json("text")), "JSON object");
  EXPECT_EQ(*call(Method::kGet, "/mmds").body, (json{{"a", "small"}}))
      << "a refusal changes nothing";
}

TEST_F(MmdsApiTest, ConfigRules) {
  expect_fault(call(Method::kPut, "/mmds/config", json::object()), "network_interfaces");
  expect_fault(call(Method::kPut, "/mmds/config", json{{"network_interfaces", json::array()}}),
               "The list of network interface IDs that allow forwarding MMDS requests is empty.");
  expect_fault(call(Method::kPut, "/mmds/config", json{{"network_interfaces", {"eth0"}}}),
               "does not correspond to any existing network interface");
  expect_done(call(Method::kPut, "/network-interfaces/tap0",
                   json{{"iface_id", "tap0"}, {"host_dev_name", "vtap0"}}));
  expect_fault(call(Method::kPut, "/mmds/config", json{{"network_interfaces", {"tap0"}}}),
               "user-mode");
  user_net("eth0");
  const json ok = {{"network_interfaces", {"eth0"}}};
  auto with = [&](const char* key, json value) {
    json body = ok;
    body[key] = std::move(value);
    return call(Method::kPut, "/mmds/config", body);
  };
  expect_fault(with("version", "V3"), "version");
  expect_fault(with("ipv4_address", "10.0.2.2"), "The MMDS IPv4 address is not link local.");
  expect_fault(with("ipv4_address", "169.254.0.9"), "not link local");
  expect_fault(with("ipv4_address", "169.254.1"), "not an IPv4 address");
  expect_fault(with("imds_compat", "yes"), "imds_compat");
  expect_fault(with("mtu", 1), "unknown field 'mtu'");
  expect_done(call(Method::kPut, "/mmds/config",
                   json{{"network_interfaces", {"eth0"}},
                        {"version", "V2"},
                        {"ipv4_address", "169.254.170.2"},
                        {"imds_compat", true}}));
  auto config = call(Method::kGet, "/vm/config");
  EXPECT_EQ((*config.body)["mmds-config"],
            json::parse(R"({"version": "V2", "network_interfaces": ["eth0"],
                            "ipv4_address": "169.254.170.2", "imds_compat": true})"));
  start();
  ASSERT_TRUE(h.vm.started_with);
  const VirtConfig& machine = *h.vm.started_with;
  ASSERT_EQ(machine.nets.size(), 2u);
  EXPECT_EQ(machine.nets[0].kind, NetSpec::Kind::kTap);
  EXPECT_EQ(machine.nets[0].ifname, "vtap0");
  EXPECT_FALSE(machine.nets[0].mmds);
  EXPECT_EQ(machine.nets[1].kind, NetSpec::Kind::kUser);
  EXPECT_TRUE(machine.nets[1].mmds);
  EXPECT_EQ(machine.mmds->version(), net::MmdsVersion::kV2);
  EXPECT_EQ(machine.mmds->address(), 0xa9feaa02u);
  EXPECT_TRUE(machine.mmds->imds_compat());
  expect_fault(call(Method::kPut, "/mmds/config", ok), "microVM");
}

TEST_F(MmdsApiTest, VersionDefaultsToFirecrackersAndTheFileStoreIsShared) {
  VirtConfig base;
  base.mmds = std::make_shared<net::MmdsStore>();
  ASSERT_TRUE(base.mmds->put(json{{"from", "file"}}).ok());
  ApiHarness with_file(base);
  auto r = with_file.call(Method::kGet, "/mmds");
  EXPECT_EQ(*r.body, (json{{"from", "file"}})) << "--metadata's document";
  expect_done(with_file.call(Method::kPatch, "/mmds", json{{"more", 1}}));
  EXPECT_EQ(base.mmds->get()["more"], 1);
  user_net("eth0");
  expect_done(call(Method::kPut, "/mmds/config", json{{"network_interfaces", {"eth0"}}}));
  start();
  EXPECT_EQ(h.vm.started_with->mmds->version(), net::MmdsVersion::kV1);
  EXPECT_TRUE(h.vm.started_with->nets[0].mmds);
}

}  // namespace
}  // namespace vessel::api
