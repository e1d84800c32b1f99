// The per-VM API's outputs: PUT /logger, PUT /metrics and FlushMetrics, and what every request
// leaves in them.
#include <fmt/format.h>

#include "api/firecracker/firecracker_api.hpp"
#include "api/http/json_fields.hpp"

namespace vessel::api {

using http::JsonFields;
using http::Request;
using http::Response;

namespace {

const char* method_label(http::Method m) {
  switch (m) {
    case http::Method::kGet: return "Get";
    case http::Method::kPut: return "Put";
    case http::Method::kPatch: return "Patch";
    case http::Method::kPost: return "Post";
    case http::Method::kDelete: return "Delete";
  }
  return "?";
}

}  // namespace

void FirecrackerApi::observe(const Request& req, const Response& res, const char* what) {
  const bool failed = res.status >= 400;
  if (what != nullptr) metrics_.count_request(req.method, what, failed);
  logger_.log(LogLevelFc::kInfo, "api_server::request",
              fmt::format("The API server received a {} request on \"{}\".",
                          method_label(req.method), req.path));
  if (failed && res.body && res.body->contains("fault_message")) {
    logger_.log(LogLevelFc::kError, "api_server::request",
                fmt::format("Received Error. Status code: {}. Message: {}", res.status,
                            (*res.body)["fault_message"].get<std::string>()));
  }
  metrics_.set_missed_log_count(logger_.missed());
}

void FirecrackerApi::log(LogLevelFc level, std::string_view origin, std::string_view message) {
  std::lock_guard lock(mu_);
  logger_.log(level, origin, message);
}

void FirecrackerApi::tick(std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(mu_);
  if (!metrics_.due(now)) return;
  const nlohmann::json stats = started() ? vm_.stats() : nlohmann::json::object();
  if (metrics_.flush(stats, now))
    logger_.log(LogLevelFc::kDebug, "logger::metrics", "Metrics flushed");
}

Response FirecrackerApi::put_logger(const Request& req) {
  if (started()) return Response::error(400, kFaultAfterStart);
  auto config = parse_logger_config(req.body, options_.host_files);
  if (!config.ok()) return Response::error(400, config.error().message);
  return answer(logger_.configure(*config, options_.vmm_version));
}

Response FirecrackerApi::put_metrics(const Request& req) {
  if (started()) return Response::error(400, kFaultAfterStart);
  auto fields = JsonFields::read(req.body, {"metrics_path"});
  if (!fields.ok()) return Response::error(400, fields.error().message);
  auto path = fields->string("metrics_path");
  if (!path.ok()) return Response::error(400, path.error().message);
  auto resolved = options_.host_files.check("metrics_path", *path, HostFileUse::kOutput, true);
  if (!resolved.ok()) return Response::error(400, resolved.error().message);
  return answer(metrics_.configure(*resolved));
}

Response FirecrackerApi::flush_metrics() {
  // Without PUT /metrics there is nowhere to write: done, as Firecracker answers.
  if (!metrics_.configured()) return Response::no_content();
  const nlohmann::json stats = started() ? vm_.stats() : nlohmann::json::object();
  if (!metrics_.flush(stats, std::chrono::steady_clock::now())) {
    return Response::error(400,
                           "metrics_path: the metrics line could not be written (a full "
                           "pipe, or a file that went away); counted in logger.metrics_fails");
  }
  logger_.log(LogLevelFc::kDebug, "logger::metrics", "Metrics flushed");
  return Response::no_content();
}

}  // namespace vessel::api
