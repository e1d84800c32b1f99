// HTTP connections of the server; internal to it (server.cpp).
#pragma once

#include <memory>

#include "api/http/server_core.hpp"
#include "api/http/websocket_session.hpp"

namespace vessel::http {

// Serves requests on an accepted connection until it closes, handing it to start_websocket
// when one upgrades. With `require_token` (TCP) every request must pass tcp_guard.hpp's check.
// Defined for Unix and TCP sockets.
template <class Protocol>
void serve_http(const std::shared_ptr<Core>& core, StreamSocket<Protocol> socket,
                bool require_token);

}  // namespace vessel::http
