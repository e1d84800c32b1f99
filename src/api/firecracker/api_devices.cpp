// The per-VM API's balloon (PUT, PATCH and GET /balloon, GET and PATCH /balloon/statistics) and
// entropy device (PUT /entropy), with Firecracker's phases and fault messages.
#include <fmt/format.h>

#include "api/firecracker/firecracker_api.hpp"
#include "api/http/json_fields.hpp"

namespace vessel::api {

using http::JsonFields;
using http::Request;
using http::Response;

namespace {

// Firecracker's words (BalloonConfigError).
constexpr const char* kNoBalloon = "No balloon device found.";
constexpr const char* kStatsSwitch = "Cannot enable/disable the statistics after boot.";
constexpr const char* kStatsOff = "Statistics for the balloon device are not enabled";

}  // namespace

Response FirecrackerApi::put_balloon(const Request& req) {
  if (started()) return Response::error(400, kFaultAfterStart);
  return configured(resources_.put_balloon(req.body));
}

Response FirecrackerApi::get_balloon() {
  if (!resources_.balloon()) return Response::error(400, kNoBalloon);
  return Response::json(200, VmResources::balloon_json(*resources_.balloon()));
}

Response FirecrackerApi::patch_balloon(const Request& req) {
  auto fields = JsonFields::read(req.body, {"amount_mib"});
  if (!fields.ok()) return Response::error(400, fields.error().message);
  auto mib = fields->integer("amount_mib", 0, UINT32_MAX);
  if (!mib.ok()) return Response::error(400, mib.error().message);
  if (!started()) return Response::error(400, kFaultBeforeStart);
  if (!resources_.balloon()) return Response::error(400, kNoBalloon);
  if (*mib > resources_.mem_size_mib()) {
    return Response::error(400, fmt::format("amount_mib: Amount of pages requested is too large. "
                                            "(the memory is {} MiB)",
                                            resources_.mem_size_mib()));
  }
  const auto amount = static_cast<uint32_t>(*mib);
  Result<void> done = vm_.set_balloon_target(amount);
  if (done.ok()) resources_.set_balloon_amount(amount);
  return answer(done);
}

Response FirecrackerApi::get_balloon_statistics() {
  if (!started()) return Response::error(400, kFaultBeforeStart);
  const auto& balloon = resources_.balloon();
  if (!balloon) return Response::error(400, kNoBalloon);
  if (balloon->stats_interval_s == 0) return Response::error(400, kStatsOff);
  auto stats = vm_.balloon_statistics();
  if (!stats.ok()) return Response::error(400, stats.error().message);
  return Response::json(200, std::move(*stats));
}

Response FirecrackerApi::patch_balloon_statistics(const Request& req) {
  auto fields = JsonFields::read(req.body, {"stats_polling_interval_s"});
  if (!fields.ok()) return Response::error(400, fields.error().message);
  auto seconds = fields->integer("stats_polling_interval_s", 0, UINT16_MAX);
  if (!seconds.ok()) return Response::error(400, seconds.error().message);
  if (!started()) return Response::error(400, kFaultBeforeStart);
  const auto& balloon = resources_.balloon();
  if (!balloon) return Response::error(400, kNoBalloon);
  // Statistics on at boot stay on, off stay off: only the interval changes.
  if (balloon->stats_interval_s == 0 || *seconds == 0) return Response::error(400, kStatsSwitch);
  const auto interval = static_cast<unsigned>(*seconds);
  Result<void> done = vm_.set_balloon_stats_interval(interval);
  if (done.ok()) resources_.set_balloon_stats_interval(interval);
  return answer(done);
}

Response FirecrackerApi::put_vsock(const Request& req) {
  if (started()) return Response::error(400, kFaultAfterStart);
  return configured(resources_.put_vsock(req.body));
}

Response FirecrackerApi::put_entropy(const Request& req) {
  if (started()) return Response::error(400, kFaultAfterStart);
  return configured(resources_.put_entropy(req.body));
}

}  // namespace vessel::api
