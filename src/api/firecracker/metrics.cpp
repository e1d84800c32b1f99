#include "api/firecracker/metrics.hpp"

#include <fmt/format.h>

#include <chrono>
#include <initializer_list>
#include <utility>

namespace vessel::api {

namespace {

// The request counters Firecracker reports, by group, that Vessel's API has a route for.
struct RequestGroup {
  const char* group;
  http::Method method;
  std::initializer_list<const char*> names;
  bool fails;
};
const RequestGroup kRequestGroups[] = {
    {"get_api_requests",
     http::Method::kGet,
     {"instance_info", "machine_cfg", "mmds", "vmm_version"},
     false},
    {"put_api_requests",
     http::Method::kPut,
     {"actions", "boot_source", "drive", "logger", "machine_cfg", "metrics", "network", "vsock",
      "mmds"},
     true},
    {"patch_api_requests", http::Method::kPatch, {"machine_cfg", "mmds"}, true},
};

uint64_t counter(const nlohmann::json& stats, const char* key) {
  const auto it = stats.find(key);
  // Parsed JSON holds a non-negative integer as unsigned, a literal one as signed.
  if (it == stats.end() || !it->is_number_integer() || it->get<int64_t>() < 0) return 0;
  return it->get<uint64_t>();
}

// Each group: {Firecracker's name, the --stats field counted}.
using Mapping = std::initializer_list<std::pair<const char*, const char*>>;
nlohmann::json group_of(const nlohmann::json& stats, Mapping mapping) {
  nlohmann::json g = nlohmann::json::object();
  for (const auto& [name, key] : mapping) g[name] = counter(stats, key);
  return g;
}

}  // namespace

nlohmann::json vm_metric_groups(const nlohmann::json& vm_stats) {
  nlohmann::json j = nlohmann::json::object();
  if (vm_stats.empty()) return j;
  j["block"] = group_of(vm_stats, {{"read_bytes", "disk_read_bytes"},
                                   {"write_bytes", "disk_written_bytes"},
                                   {"read_count", "disk_reads"},
                                   {"write_count", "disk_writes"},
                                   {"flush_count", "disk_flushes"}});
  j["net"] = group_of(vm_stats, {{"rx_bytes_count", "net_rx_bytes"},
                                 {"tx_bytes_count", "net_tx_bytes"},
                                 {"rx_packets_count", "net_rx_frames"},
                                 {"tx_packets_count", "net_tx_frames"}});
  j["uart"] =
      group_of(vm_stats, {{"write_count", "uart_bytes_out"}, {"read_count", "uart_bytes_in"}});
  j["vcpu"] =
      group_of(vm_stats, {{"exit_mmio_read", "mmio_reads"}, {"exit_mmio_write", "mmio_writes"}});
  if (const auto b = vm_stats.find("balloon"); b != vm_stats.end()) {
    j["balloon"] = group_of(*b, {{"inflate_count", "inflate_chains"},
                                 {"deflate_count", "deflate_chains"},
                                 {"stats_updates_count", "stats_reports"}});
  }
  return j;
}

nlohmann::json metric_deltas(const nlohmann::json& now, const nlohmann::json& before) {
  nlohmann::json out = now;
  for (auto& [group, counters] : out.items()) {
    if (!counters.is_object() || !before.contains(group)) continue;
    const nlohmann::json& was = before[group];
    for (auto& [name, value] : counters.items()) {
      if (!value.is_number_unsigned() || !was.contains(name)) continue;
      const uint64_t a = value.get<uint64_t>(), b = was[name].get<uint64_t>();
      // A total that went back (a counter of a machine a reboot replaced): count from zero.
      value = a >= b ? a - b : a;
    }
  }
  return out;
}

ApiMetrics::ApiMetrics() {
  for (const RequestGroup& g : kRequestGroups) {
    nlohmann::json counters = nlohmann::json::object();
    for (const char* name : g.names) {
      counters[fmt::format("{}_count", name)] = uint64_t{0};
      if (g.fails) counters[fmt::format("{}_fails", name)] = uint64_t{0};
    }
    requests_[g.group] = std::move(counters);
  }
}

void ApiMetrics::count_request(http::Method method, std::string_view what, bool failed) {
  for (const RequestGroup& g : kRequestGroups) {
    if (g.method != method) continue;
    nlohmann::json& counters = requests_[g.group];
    const std::string count = fmt::format("{}_count", what);
    if (!counters.contains(count)) return;  // not one of Firecracker's counters
    counters[count] = counters[count].get<uint64_t>() + 1;
    if (failed && g.fails) {
      const std::string fails = fmt::format("{}_fails", what);
      counters[fails] = counters[fails].get<uint64_t>() + 1;
    }
  }
}

Result<void> ApiMetrics::configure(const std::string& path) {
  // Firecracker's words (MetricsConfigError, "Reinitialization of metrics not allowed.").
  if (sink_.is_open()) return make_error("metrics_path: Reinitialization of metrics not allowed.");
  TRY_VOID(sink_.open("metrics_path", path));
  last_flush_ = std::chrono::steady_clock::now();
  return {};
}

nlohmann::json ApiMetrics::totals(const nlohmann::json& vm_stats) const {
  nlohmann::json j = vm_metric_groups(vm_stats);
  for (const auto& [group, counters] : requests_) j[group] = counters;
  j["logger"] = {{"missed_metrics_count", sink_.missed()},
                 {"metrics_fails", metrics_fails_},
                 {"missed_log_count", missed_log_}};
  return j;
}

bool ApiMetrics::flush(const nlohmann::json& vm_stats, std::chrono::steady_clock::time_point now) {
  if (!sink_.is_open()) return false;
  const nlohmann::json total = totals(vm_stats);
  nlohmann::json line = metric_deltas(total, last_);
  line["utc_timestamp_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
  last_flush_ = now;
  if (!sink_.write_line(line.dump())) {
    ++metrics_fails_;
    return false;  // the next line counts from the same totals: nothing is lost but the line
  }
  last_ = total;
  return true;
}

bool ApiMetrics::due(std::chrono::steady_clock::time_point now) const {
  return sink_.is_open() && now - last_flush_ >= kMetricsPeriod;
}

bool ApiMetrics::flush_if_due(const nlohmann::json& vm_stats,
                              std::chrono::steady_clock::time_point now) {
  return due(now) && flush(vm_stats, now);
}

}  // namespace vessel::api
