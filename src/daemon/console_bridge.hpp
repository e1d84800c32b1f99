// GET /api/v1/vms/{name}/console: a WebSocket joined to the VM's console socket
// (--console-socket), binary frames both ways. Each bridge is one more viewer of the console;
// its socket is served on the manager's event loop.
#pragma once

#include <memory>
#include <string>

#include "api/http/router.hpp"
#include "base/event_loop.hpp"
#include "base/result.hpp"

namespace vessel::daemon {

// Connects to `socket_path` and relays between it and `ws` until either side ends. The
// callbacks go to the server for the WebSocket.
Result<http::WebSocketCallbacks> bridge_console(EventLoop& loop, const std::string& socket_path,
                                                std::shared_ptr<http::WebSocket> ws);

}  // namespace vessel::daemon
