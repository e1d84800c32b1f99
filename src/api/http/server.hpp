// An HTTP/1.1 server for Vessel's JSON APIs, on a Unix socket and/or a TCP port on 127.0.0.1,
// with WebSocket upgrades on chosen routes. Built on Boost.Beast/Asio, which stay out of this
// header. Requests run on the server's own thread(s); stop() (or the destructor) closes every
// connection and joins them.
//
// What a client gets besides its handler's answer (bodies are {"fault_message": "..."}, or
// another field that ServerOptions names):
//   400 malformed HTTP or JSON           401 missing/wrong bearer token (TCP only)
//   404 unknown path                     405 known path, other method (with Allow)
//   408 request not complete in time     413 body over the limit
//   426 plain GET on a WebSocket route   431 header over 8 KiB
//   500 the handler threw                503 too many requests in progress
// After 400, 401, 408, 413, 431 and 503 the server closes the connection; otherwise it is kept
// alive as the client asks.
//
// A connection that does nothing holds nothing a working client needs: idle connections (and
// those without the token) have a budget of their own, whose oldest gives way to a new one,
// and a short deadline for their first request (server_core.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http/router.hpp"
#include "base/result.hpp"

namespace vessel::http {

struct ServerOptions {
  // Created with mode 0600. A socket file nobody answers on is replaced; a live one is an error.
  std::optional<std::string> unix_path;
  // Bound to 127.0.0.1 only; 0 picks a free port (Server::tcp_port() tells which).
  std::optional<uint16_t> tcp_port;
  // Required on TCP as "Authorization: Bearer <token>" (at least 16 characters); the Unix
  // socket relies on its file mode instead.
  std::string token;
  // Browsers can set no header on a WebSocket or on a page they open: with a cookie name, TCP
  // also takes the token as "?token=" in the URL (the answer then sets the cookie) and from
  // that cookie.
  std::string token_cookie;
  // Paths TCP serves without the token (static files): "/x" exactly, "/x/" and all below it.
  std::vector<std::string> public_paths;
  // The field the server's own error answers put the message in.
  std::string error_field = "fault_message";
  size_t body_limit = 64 * 1024;
  // A new connection's first request header must arrive within this.
  std::chrono::milliseconds header_timeout{2'000};
  // The rest of a request (a kept-alive connection's next header, then any body) must arrive
  // within this, and so must the client take a response.
  std::chrono::milliseconds read_timeout{10'000};
  // Connections serving a request that gave the token (any request on the Unix socket) and
  // open WebSockets; a request over it gets 503.
  size_t max_connections = 64;
  // Connections waiting for a request, or serving one without the token (TCP); one more
  // closes the one that has waited longest, so that silent clients cannot keep others out.
  size_t max_idle_connections = 64;
  unsigned threads = 1;
  // A WebSocket with no traffic is pinged, and closed when this passes without an answer.
  std::chrono::milliseconds websocket_idle_timeout{60'000};
};

class Server {
 public:
  // Binds and starts serving; errors are one line naming the socket and the problem.
  static Result<std::unique_ptr<Server>> start(Router router, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Closes the listeners and every connection (WebSocket handlers get on_close), joins the
  // threads and removes the Unix socket file. Idempotent. Not from a handler: it would wait for
  // its own thread (a handler that wants the server gone signals another thread to stop it).
  void stop();
  // The TCP port bound (0 without TCP).
  uint16_t tcp_port() const;

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The Authorization header value carries exactly "Bearer <token>". The comparison takes the
// same time wherever the first difference is.
bool bearer_matches(std::string_view authorization, std::string_view token);

}  // namespace vessel::http
