// Firecracker's metrics (PUT /metrics): one JSON object a line, written to a file or named pipe
// the client created, every 60 s and on the FlushMetrics action. Each counter is what happened
// since the line before, as Firecracker's are; `utc_timestamp_ms` says when.
//
// The groups are Firecracker's names over Vessel's own counters, only where one means what the
// other does: the API's requests (get_, put_ and patch_api_requests), the disks (block), the
// network devices (net), the console UART (uart), device register accesses by the harts
// (vcpu's exit_mmio_read and exit_mmio_write: a Vessel hart's MMIO access is what a KVM exit
// for MMIO is), the balloon, and the metrics' and log's own losses (logger). A group with no
// counterpart in Vessel is left out rather than reported as zeros.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "api/firecracker/line_sink.hpp"
#include "api/http/router.hpp"

namespace vessel::api {

// Firecracker's flush period.
inline constexpr std::chrono::seconds kMetricsPeriod{60};

class ApiMetrics {
 public:
  ApiMetrics();

  // A request was answered: counted as `<what>_count` in its method's group, and as
  // `<what>_fails` too when refused (GET has no failure counters in Firecracker).
  void count_request(http::Method method, std::string_view what, bool failed);
  // Lines the logger could not write (its sink's losses), reported as missed_log_count.
  void set_missed_log_count(uint64_t n) { missed_log_ = n; }

  // Once per process, as Firecracker allows.
  Result<void> configure(const std::string& path);
  bool configured() const { return sink_.is_open(); }
  // Writes one line; `vm_stats` is VmControl::stats() (empty before the start). False when
  // the line could not be written (counted, and reported on the next).
  bool flush(const nlohmann::json& vm_stats, std::chrono::steady_clock::time_point now);
  // Flushes when the period has passed since the last line (or the configuration).
  bool flush_if_due(const nlohmann::json& vm_stats, std::chrono::steady_clock::time_point now);
  bool due(std::chrono::steady_clock::time_point now) const;

  // The line flush() would write now, and what it counts from (for tests: it moves nothing).
  nlohmann::json totals(const nlohmann::json& vm_stats) const;

 private:
  std::map<std::string, nlohmann::json> requests_;  // group -> {counter: total}
  uint64_t missed_log_ = 0;
  uint64_t metrics_fails_ = 0;
  nlohmann::json last_;  // the totals the previous line was counted from
  LineSink sink_;
  std::chrono::steady_clock::time_point last_flush_{};
};

// Firecracker's groups over `vessel run --stats`'s figures (cumulative).
nlohmann::json vm_metric_groups(const nlohmann::json& vm_stats);
// `now - before` for every counter of every group (absent in `before`: as is).
nlohmann::json metric_deltas(const nlohmann::json& now, const nlohmann::json& before);

}  // namespace vessel::api
