// Who may use the TCP port, decided from a request's head before it reaches a handler.
//
// A token proves who sent a request only when a browser cannot have attached it by itself.
// The bearer header cannot be (a page sets it only after a CORS preflight this server never
// grants), nor can a token in the URL (the page would have to know it). The cookie is attached
// by the browser to any request for 127.0.0.1, including one that a page on another origin
// makes: SameSite does not help, since every port of 127.0.0.1 is the same site. So a request
// that authenticates with the cookie, and every WebSocket upgrade (which no CORS protects),
// must also come from this server's own page:
//   Host    127.0.0.1, localhost or [::1], any port (an SSH tunnel may change it): a page whose
//           own name resolves to 127.0.0.1 (DNS rebinding) sends its own name here;
//   Origin  absent (a client that is not a browser) or exactly http://HOST, the page this
//           server served at that address;
// and a cookie request that changes something (any method but GET and HEAD) must carry the
// X-Vessel-Request header, which a page on another origin cannot send without a preflight.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace vessel::http {

struct ServerOptions;

// The request as the guard sees it; empty fields were not sent.
struct RequestHead {
  std::string_view method;
  std::string_view target;  // path and query
  std::string_view host;
  std::optional<std::string_view> origin;
  std::string_view authorization;
  std::string_view cookie;
  std::string_view vessel_request;  // X-Vessel-Request
  bool upgrade = false;
};

struct GuardVerdict {
  int status = 0;  // 0: on to the handler; 401 or 403 otherwise
  std::string message;
  bool set_cookie = false;  // the token came in the URL: the answer gives the page its cookie
  // The request gave the token (status 0 also lets a public path through without it).
  bool authenticated = false;
};

inline constexpr std::string_view kVesselRequestHeader = "X-Vessel-Request";

// For TCP: `is_public` says the path is served without a token (the web console's files).
GuardVerdict check_tcp_request(const ServerOptions& options, bool is_public,
                               const RequestHead& req);

}  // namespace vessel::http
