// The balloon, entropy, logger and metrics endpoints against a fake VM, and the metrics lines.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "api/firecracker/api_test_support.hpp"

namespace vessel::api {
namespace {

using http::Method;
using nlohmann::json;

class DevicesTest : public ApiTestBase {
 protected:
  std::vector<json> lines(const std::string& path) {
    std::ifstream f(path);
    std::vector<json> out;
    for (std::string line; std::getline(f, line);) out.push_back(json::parse(line));
    return out;
  }
};

// ---------------------------------------------------------------------------------- balloon

TEST_F(DevicesTest, BalloonPutGetPatchAndStatistics) {
  expect_fault(call(Method::kGet, "/balloon"), "No balloon device found.");
  expect_done(
      call(Method::kPut, "/balloon",
           json{{"amount_mib", 64}, {"deflate_on_oom", true}, {"stats_polling_interval_s", 5}}));
  EXPECT_EQ(*call(Method::kGet, "/balloon").body,
            (json{{"amount_mib", 64}, {"deflate_on_oom", true}, {"stats_polling_interval_s", 5}}));
  // Post-boot only, and the reverse.
  expect_fault(call(Method::kPatch, "/balloon", json{{"amount_mib", 32}}), "not started");
  expect_fault(call(Method::kGet, "/balloon/statistics"), "not started");
  start();
  ASSERT_TRUE(h.vm.started_with->balloon);
  EXPECT_EQ(h.vm.started_with->balloon->amount_mib, 64U);
  EXPECT_TRUE(h.vm.started_with->balloon->deflate_on_oom);
  EXPECT_EQ(h.vm.started_with->balloon->stats_interval_s, 5U);
  expect_fault(call(Method::kPut, "/balloon", json{{"amount_mib", 1}, {"deflate_on_oom", false}}),
               "already started");

  expect_done(call(Method::kPatch, "/balloon", json{{"amount_mib", 128}}));
  EXPECT_EQ(h.vm.calls.back(), "balloon 128");
  EXPECT_EQ(call(Method::kGet, "/balloon").body->at("amount_mib"), 128);
  // 512 MiB of RAM (VirtConfig's default): more is refused with Firecracker's words.
  expect_fault(call(Method::kPatch, "/balloon", json{{"amount_mib", 513}}),
               "Amount of pages requested is too large.");
  const http::Response st = call(Method::kGet, "/balloon/statistics");
  ASSERT_EQ(st.status, 200) << fault(st);
  EXPECT_EQ(st.body->at("target_mib"), 128);
  EXPECT_EQ(st.body->at("target_pages"), 128 * 256);

  expect_done(call(Method::kPatch, "/balloon/statistics", json{{"stats_polling_interval_s", 2}}));
  EXPECT_EQ(h.vm.calls.back(), "balloon stats 2");
  EXPECT_EQ(call(Method::kGet, "/balloon").body->at("stats_polling_interval_s"), 2);
  // Statistics on at boot cannot be turned off after it.
  expect_fault(call(Method::kPatch, "/balloon/statistics", json{{"stats_polling_interval_s", 0}}),
               "Cannot enable/disable the statistics after boot.");
}

TEST_F(DevicesTest, BalloonWithoutStatisticsAndBadInput) {
  expect_fault(call(Method::kPut, "/balloon", json{{"amount_mib", 1}}),
               "missing required field 'deflate_on_oom'");
  expect_fault(call(Method::kPut, "/balloon", json{{"amount_mib", -1}, {"deflate_on_oom", false}}),
               "amount_mib: -1 is out of range");
  expect_fault(
      call(Method::kPut, "/balloon",
           json{{"amount_mib", 1}, {"deflate_on_oom", false}, {"stats_polling_interval_s", 70000}}),
      "stats_polling_interval_s: 70000 is out of range");
  expect_fault(call(Method::kPut, "/balloon", json{{"amount_mib", 513}, {"deflate_on_oom", false}}),
               "Amount of pages requested is too large.");
  expect_done(call(Method::kPut, "/balloon", json{{"amount_mib", 100}, {"deflate_on_oom", false}}));
  // The memory may not shrink below the balloon (Firecracker's IncompatibleBalloonSize).
  expect_fault(call(Method::kPatch, "/machine-config", json{{"mem_size_mib", 64}}),
               "smaller than the previously set balloon device target size");
  start();
  expect_fault(call(Method::kGet, "/balloon/statistics"),
               "Statistics for the balloon device are not enabled");
  expect_fault(call(Method::kPatch, "/balloon/statistics", json{{"stats_polling_interval_s", 1}}),
               "Cannot enable/disable the statistics after boot.");
}

TEST_F(DevicesTest, PatchBalloonWithoutOneIsRefused) {
  start();
  expect_fault(call(Method::kPatch, "/balloon", json{{"amount_mib", 1}}),
               "No balloon device found.");
}

// ---------------------------------------------------------------------------------- entropy

TEST_F(DevicesTest, EntropyAddsTheRngDevice) {
  VirtConfig base;
  base.rng = false;
  ApiHarness other(base);
  other.call(Method::kPut, "/boot-source", json{{"kernel_image_path", dir.file("Image")}});
  EXPECT_EQ(other.call(Method::kPut, "/entropy", json::object()).status, 204);
  EXPECT_EQ(other.call(Method::kPut, "/actions", json{{"action_type", "InstanceStart"}}).status,
            204);
  EXPECT_TRUE(other.vm.started_with->rng);
  expect_fault(other.call(Method::kPut, "/entropy", json::object()), "already started");
  EXPECT_FALSE(other.vm.started_with->rng_rate_limiter.limits());
}

TEST_F(DevicesTest, EntropyRateLimiter) {
  const auto put = [&](json limiter) {
    return call(Method::kPut, "/entropy", json{{"rate_limiter", std::move(limiter)}});
  };
  expect_fault(put(json{{"bandwidth", {{"size", 1000}}}}), "rate_limiter.bandwidth.refill_time");
  expect_fault(put(json{{"ops", {{"size", -1}, {"refill_time", 1}}}}), "rate_limiter.ops.size");
  expect_fault(put(json{{"bandwidth", {{"size", 1}, {"refill_time", 1}, {"x", 1}}}}),
               "unknown field 'rate_limiter.bandwidth.x'");
  expect_fault(put(json{{"burst", json::object()}}), "unknown field 'rate_limiter.burst'");
  expect_fault(put(json("fast")), "rate_limiter");
  const json limiter = {
      {"bandwidth", {{"size", 1000}, {"one_time_burst", 5000}, {"refill_time", 100}}},
      {"ops", {{"size", 10}, {"one_time_burst", 0}, {"refill_time", 1000}}}};
  expect_done(put(limiter));
  EXPECT_EQ((*call(Method::kGet, "/vm/config").body)["entropy"]["rate_limiter"], limiter);
  start();
  const RateLimiterConfig& got = h.vm.started_with->rng_rate_limiter;
  EXPECT_EQ(got.bandwidth, (TokenBucketConfig{1000, 5000, 100}));
  EXPECT_EQ(got.ops, (TokenBucketConfig{10, 0, 1000}));
}

TEST_F(DevicesTest, ABootSourceWithoutInitrdKeepsTheCommandLinesInitrd) {
  VirtConfig base;
  base.initrd = dir.file("initrd");
  ApiHarness other(base);
  other.call(Method::kPut, "/boot-source", json{{"kernel_image_path", dir.file("Image")}});
  EXPECT_EQ(other.call(Method::kPut, "/actions", json{{"action_type", "InstanceStart"}}).status,
            204);
  EXPECT_EQ(other.vm.started_with->initrd, base.initrd);
}

// ------------------------------------------------------------------------------------ vsock

TEST_F(DevicesTest, VsockTakesACidAndASocketPath) {
  const std::string sock = dir.at("v.sock");
  expect_fault(call(Method::kPut, "/vsock", json{{"guest_cid", 2}, {"uds_path", sock}}),
               "guest_cid: 2 is out of range");
  expect_fault(
      call(Method::kPut, "/vsock", json{{"guest_cid", 3}, {"uds_path", dir.at("no/v.sock")}}),
      "no such directory");
  expect_fault(call(Method::kPut, "/vsock", json{{"guest_cid", 3}, {"uds_path", dir.file("f")}}),
               "exists and is not a socket");
  expect_fault(call(Method::kPut, "/vsock", json{{"guest_cid", 3}, {"uds_path", "/proc/v.sock"}}),
               "uds_path:");
  expect_done(call(Method::kPut, "/vsock",
                   json{{"vsock_id", "vsock0"}, {"guest_cid", 42}, {"uds_path", sock}}));
  start();
  ASSERT_TRUE(h.vm.started_with->vsock);
  EXPECT_EQ(h.vm.started_with->vsock->guest_cid, 42U);
  EXPECT_EQ(h.vm.started_with->vsock->uds_path, sock);
  expect_fault(call(Method::kPut, "/vsock", json{{"guest_cid", 3}, {"uds_path", sock}}),
               "already started");
}

// ----------------------------------------------------------------------- machine-config extras

TEST_F(DevicesTest, HarmlessMachineConfigFieldsAreAccepted) {
  expect_done(call(Method::kPut, "/machine-config",
                   json{{"vcpu_count", 2},
                        {"mem_size_mib", 256},
                        {"smt", false},
                        {"track_dirty_pages", false},
                        {"huge_pages", "None"},
                        {"cpu_template", "None"}}));
  expect_fault(call(Method::kPatch, "/machine-config", json{{"smt", true}}),
               "Enabling simultaneous multithreading is not supported on riscv64.");
}

// --------------------------------------------------------------------------- logger, metrics

TEST_F(DevicesTest, LoggerWritesFirecrackerShapedLines) {
  const std::string log = dir.file("fc.log");
  expect_fault(call(Method::kPut, "/logger", json{{"log_path", dir.at("missing.log")}}),
               "log_path:");
  expect_fault(call(Method::kPut, "/logger", json{{"log_path", log}, {"level", "Loud"}}),
               "level: unknown variant `Loud`");
  expect_done(call(
      Method::kPut, "/logger",
      json{
          {"log_path", log}, {"level", "debug"}, {"show_level", true}, {"show_log_origin", true}}));
  expect_fault(call(Method::kPut, "/logger", json{{"log_path", log}}), "already configured");
  call(Method::kGet, "/machine-config");
  start();
  std::ifstream f(log);
  std::stringstream text;
  text << f.rdbuf();
  const std::string s = text.str();
  EXPECT_NE(s.find("[test-vm:api:INFO:vmm] Running vessel v"), std::string::npos) << s;
  EXPECT_NE(s.find(":INFO:api_server::request] The API server received a Get request on "
                   "\"/machine-config\"."),
            std::string::npos)
      << s;
  EXPECT_NE(s.find(":ERROR:api_server::request] Received Error. Status code: 400. Message: "
                   "log_path: the logger is already configured"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("The microVM started"), std::string::npos) << s;
}

TEST_F(DevicesTest, LoggerLevelAndModuleFilter) {
  const std::string log = dir.file("fc.log");
  expect_done(
      call(Method::kPut, "/logger", json{{"log_path", log}, {"level", "Info"}, {"module", "vmm"}}));
  call(Method::kGet, "/");
  start();
  std::ifstream f(log);
  std::stringstream text;
  text << f.rdbuf();
  EXPECT_EQ(text.str().find("API server"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find("] The microVM started"), std::string::npos) << text.str();
}

TEST_F(DevicesTest, MetricsCountRequestsAndDevicesSinceTheLastLine) {
  const std::string path = dir.file("metrics.json");
  std::ofstream(path, std::ios::trunc).close();
  expect_fault(call(Method::kPut, "/metrics", json{{"metrics_path", dir.at("nope")}}),
               "metrics_path:");
  expect_done(call(Method::kPut, "/metrics", json{{"metrics_path", path}}));
  expect_fault(call(Method::kPut, "/metrics", json{{"metrics_path", path}}),
               "Reinitialization of metrics not allowed.");
  call(Method::kPut, "/machine-config", json{{"vcpu_count", 0}});
  start();
  expect_done(call(Method::kPut, "/actions", json{{"action_type", "FlushMetrics"}}));
  call(Method::kGet, "/");
  call(Method::kGet, "/");
  expect_done(call(Method::kPut, "/actions", json{{"action_type", "FlushMetrics"}}));

  const std::vector<json> got = lines(path);
  ASSERT_EQ(got.size(), 2U);
  const json& first = got[0];
  EXPECT_TRUE(first.contains("utc_timestamp_ms"));
  EXPECT_EQ(first["put_api_requests"]["metrics_count"], 3);
  EXPECT_EQ(first["put_api_requests"]["metrics_fails"], 2);
  EXPECT_EQ(first["put_api_requests"]["machine_cfg_fails"], 1);
  EXPECT_EQ(first["put_api_requests"]["boot_source_count"], 1);
  EXPECT_EQ(first["put_api_requests"]["actions_count"], 1);  // the start; not yet this flush
  // The second line: what happened since the first.
  const json& second = got[1];
  EXPECT_EQ(second["get_api_requests"]["instance_info_count"], 2);
  EXPECT_EQ(second["put_api_requests"]["metrics_count"], 0);
  EXPECT_EQ(second["put_api_requests"]["actions_count"], 1);
  EXPECT_GE(second["utc_timestamp_ms"].get<int64_t>(), first["utc_timestamp_ms"].get<int64_t>());
}

TEST_F(DevicesTest, MetricsAreWrittenEveryMinute) {
  const std::string path = dir.file("metrics.json");
  std::ofstream(path, std::ios::trunc).close();
  const auto t0 = std::chrono::steady_clock::now();
  h.api->tick(t0 + std::chrono::hours(1));  // not configured: nothing
  expect_done(call(Method::kPut, "/metrics", json{{"metrics_path", path}}));
  h.api->tick(std::chrono::steady_clock::now() + std::chrono::seconds(30));
  EXPECT_EQ(lines(path).size(), 0U);
  h.api->tick(std::chrono::steady_clock::now() + std::chrono::seconds(61));
  EXPECT_EQ(lines(path).size(), 1U);
}

TEST(Metrics, VmGroupsAndDeltas) {
  const json before{{"disk_read_bytes", 100}, {"disk_reads", 2},
                    {"net_tx_frames", 5},     {"uart_bytes_out", 40},
                    {"mmio_reads", 7},        {"balloon", {{"inflate_chains", 3}}}};
  const json after{{"disk_read_bytes", 300}, {"disk_reads", 3},
                   {"net_tx_frames", 9},     {"uart_bytes_out", 41},
                   {"mmio_reads", 7},        {"balloon", {{"inflate_chains", 4}}}};
  const json d = metric_deltas(vm_metric_groups(after), vm_metric_groups(before));
  EXPECT_EQ(d["block"]["read_bytes"], 200);
  EXPECT_EQ(d["block"]["read_count"], 1);
  EXPECT_EQ(d["net"]["tx_packets_count"], 4);
  EXPECT_EQ(d["uart"]["write_count"], 1);
  EXPECT_EQ(d["vcpu"]["exit_mmio_read"], 0);
  EXPECT_EQ(d["balloon"]["inflate_count"], 1);
  EXPECT_TRUE(vm_metric_groups(json::object()).empty());
  // A total that went back (a reboot's new machine) counts from zero.
  EXPECT_EQ(metric_deltas(json{{"g", {{"c", 3}}}}, json{{"g", {{"c", 10}}}})["g"]["c"], 3);
}

TEST_F(DevicesTest, MetricsToAFifoWithoutAReaderIsRefused) {
  const std::string fifo = dir.at("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  expect_fault(call(Method::kPut, "/metrics", json{{"metrics_path", fifo}}), "metrics_path:");
}

}  // namespace
}  // namespace vessel::api
