// PUT /vessel/migrate (a Vessel extension): the started VM migrated live to a destination
// that waits for it (`vessel run --incoming`, or a daemon's incoming VM), docs/migration.md.
// The request lasts as long as the migration; its answer is the migration's figures.
#include <fmt/format.h>

#include "api/firecracker/firecracker_api.hpp"
#include "api/http/json_fields.hpp"

namespace vessel::api {

using http::JsonFields;
using http::Request;
using http::Response;

Response FirecrackerApi::migrate(const Request& req) {
  auto fields = JsonFields::read(req.body, {"destination", "ticket", "max_rounds", "downtime_ms"});
  if (!fields.ok()) return Response::error(400, fields.error().message);
  auto destination = fields->string("destination");
  if (!destination.ok()) return Response::error(400, destination.error().message);
  auto ticket = fields->optional_string("ticket");
  if (!ticket.ok()) return Response::error(400, ticket.error().message);
  auto rounds = fields->optional_integer("max_rounds", 0, 1000);
  if (!rounds.ok()) return Response::error(400, rounds.error().message);
  auto downtime = fields->optional_integer("downtime_ms", 1, 60'000);
  if (!downtime.ok()) return Response::error(400, downtime.error().message);
  if (destination->empty()) return Response::error(400, "destination: empty");
  if (!started()) return Response::error(400, kFaultBeforeStart);
  MigrateRequest request;
  request.destination = *destination;
  request.ticket = ticket->value_or("");
  if (*rounds) request.max_rounds = static_cast<unsigned>(**rounds);
  if (*downtime) request.downtime_ms = static_cast<unsigned>(**downtime);
  auto done = vm_.migrate(request);
  if (!done) return Response::error(400, done.error().message);
  return Response::json(200, *done);
}

}  // namespace vessel::api
