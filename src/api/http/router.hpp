// Requests, responses and the route table of Vessel's HTTP/JSON APIs. Nothing here knows about
// sockets or Boost: a Router can be filled and matched on its own (the per-VM API registers its
// handlers into one; tests and the fuzz target call match() directly), and the Server
// (server.hpp) carries requests to it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace vessel::http {

enum class Method { kGet, kPut, kPatch, kPost, kDelete };

std::string_view method_name(Method method);
std::optional<Method> parse_method(std::string_view name);

struct Request {
  Method method = Method::kGet;
  std::string path;   // the target up to '?', as sent
  std::string query;  // after '?', not decoded
  // Values of the pattern's {name} segments, percent-decoded.
  std::map<std::string, std::string, std::less<>> params;
  // The parsed body; nullopt when the request had none.
  std::optional<nlohmann::json> body;

  // The named parameter ("" when the route has no such parameter).
  const std::string& param(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::optional<nlohmann::json> body;  // nullopt: no body (204, or an empty answer)
  std::vector<std::pair<std::string, std::string>> headers;  // beyond Content-Type and the like
  // A body that is not JSON (text, a file), sent as it is with this Content-Type.
  std::optional<std::string> text;
  std::string content_type;

  static Response json(int status, nlohmann::json body);
  static Response no_content();
  static Response raw(int status, std::string content_type, std::string text);
  // The error shape of the per-VM API (Firecracker's): {"fault_message": "..."}.
  static Response error(int status, std::string message);
  // The same message under another field (the daemon's API says {"error": "..."}).
  static Response error(int status, std::string message, std::string_view field);
};

using Handler = std::function<Response(const Request&)>;

// One upgraded connection, as its handler sees it. send() may be called from any thread, also
// after the peer or the server has gone (it then does nothing).
class WebSocket {
 public:
  virtual ~WebSocket() = default;
  // One binary frame. Frames queued beyond the connection's limit are dropped, as bytes are on a
  // serial line nobody reads fast enough.
  virtual void send(std::span<const uint8_t> bytes) = 0;
  virtual void close() = 0;
};

struct WebSocketCallbacks {
  std::function<void(std::span<const uint8_t>)> on_message;  // each frame, binary or text
  std::function<void()> on_close;                            // once, when the connection ends
};

// Called on the upgrade request: either callbacks (the upgrade goes ahead) or a Response that
// refuses it. The callbacks run on a server thread.
using WebSocketHandler = std::function<std::variant<WebSocketCallbacks, Response>(
    const Request&, std::shared_ptr<WebSocket>)>;

class Router {
 public:
  // Pattern: "/", or "/" followed by segments separated by '/', each either literal text or a
  // whole "{name}" matching one non-empty segment; the last may be "{name*}", matching the rest
  // of the path (one segment or more, each decoded, joined by '/'). Registering a malformed pattern
  // or the same method and pattern twice is a programming error (std::invalid_argument).
  void add(Method method, std::string pattern, Handler handler);
  // GET upgrades to a WebSocket on this pattern.
  void add_websocket(std::string pattern, WebSocketHandler handler);

  struct RouteInfo {
    Method method;
    std::string pattern;
    bool websocket;
  };
  std::vector<RouteInfo> routes() const;

  enum class Outcome { kFound, kNotFound, kMethodNotAllowed };
  struct Match {
    Outcome outcome = Outcome::kNotFound;
    const Handler* handler = nullptr;             // kFound, ordinary route
    const WebSocketHandler* websocket = nullptr;  // kFound, WebSocket route
    std::map<std::string, std::string, std::less<>> params;
    std::vector<Method> allowed;  // kMethodNotAllowed: the methods the path has
  };
  // `path` without the query. When several patterns match, the one with more literal segments
  // wins ("/vm/config" before "/vm/{x}").
  Match match(Method method, std::string_view path) const;

 private:
  struct Route {
    Method method;
    std::string pattern;
    std::vector<std::string> segments;  // "{name}" for a parameter
    Handler handler;
    WebSocketHandler websocket;
  };
  void add_route(Route route);
  std::vector<Route> routes_;
};

// Splits "/a/b" into {"a", "b"} ("/" into {}); nullopt if the path does not start with '/'.
std::optional<std::vector<std::string_view>> split_path(std::string_view path);
// %XX decoding of one path segment; nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view segment);
// The value of `name` in a query string ("a=1&b=2"), percent-decoded ('+' is a space); nullopt
// when it is absent or its escapes are malformed. A name without '=' has the value "".
std::optional<std::string> query_param(std::string_view query, std::string_view name);

}  // namespace vessel::http
