#include "api/http/router.hpp"

#include <algorithm>
#include <stdexcept>

namespace vessel::http {

namespace {

bool is_param(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// "{name*}": the rest of the path, one segment or more.
bool is_rest(std::string_view segment) {
  return is_param(segment) && segment.size() > 3 && segment[segment.size() - 2] == '*';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string_view method_name(Method method) {
  switch (method) {
    case Method::kGet: return "GET";
    case Method::kPut: return "PUT";
    case Method::kPatch: return "PATCH";
    case Method::kPost: return "POST";
    case Method::kDelete: return "DELETE";
  }
  return "?";
}

std::optional<Method> parse_method(std::string_view name) {
  for (Method m : {Method::kGet, Method::kPut, Method::kPatch, Method::kPost, Method::kDelete}) {
    if (method_name(m) == name) return m;
  }
  return std::nullopt;
}

const std::string& Request::param(std::string_view name) const {
  static const std::string kNone;
  const auto it = params.find(name);
  return it == params.end() ? kNone : it->second;
}

Response Response::json(int status, nlohmann::json body) {
  return {status, std::move(body), {}, std::nullopt, {}};
}

Response Response::no_content() { return {204, std::nullopt, {}, std::nullopt, {}}; }

Response Response::raw(int status, std::string content_type, std::string text) {
  Response r{status, std::nullopt, {}, std::move(text), std::move(content_type)};
  return r;
}

Response Response::error(int status, std::string message) {
  return error(status, std::move(message), "fault_message");
}

Response Response::error(int status, std::string message, std::string_view field) {
  nlohmann::json body = nlohmann::json::object();
  body[std::string(field)] = std::move(message);
  return {status, std::move(body), {}, std::nullopt, {}};
}

std::optional<std::string> query_param(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    const size_t eq = item.find('=');
    if (item.substr(0, eq) != name) continue;
    if (eq == std::string_view::npos) return std::string();
    std::string value(item.substr(eq + 1));
    std::replace(value.begin(), value.end(), '+', ' ');
    return percent_decode(value);
  }
  return std::nullopt;
}

std::optional<std::vector<std::string_view>> split_path(std::string_view path) {
  if (path.empty() || path.front() != '/') return std::nullopt;
  std::vector<std::string_view> segments;
  if (path.size() == 1) return segments;
  path.remove_prefix(1);
  for (;;) {
    const size_t slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) return segments;
    path.remove_prefix(slash + 1);
  }
}

std::optional<std::string> percent_decode(std::string_view segment) {
  std::string out;
  out.reserve(segment.size());
  for (size_t i = 0; i < segment.size(); ++i) {
    if (segment[i] != '%') {
      out.push_back(segment[i]);
      continue;
    }
    if (i + 2 >= segment.size()) return std::nullopt;
    const int hi = hex_value(segment[i + 1]);
    const int lo = hex_value(segment[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

void Router::add(Method method, std::string pattern, Handler handler) {
  Route route{method, std::move(pattern), {}, std::move(handler), {}};
  add_route(std::move(route));
}

void Router::add_websocket(std::string pattern, WebSocketHandler handler) {
  Route route{Method::kGet, std::move(pattern), {}, {}, std::move(handler)};
  add_route(std::move(route));
}

void Router::add_route(Route route) {
  const auto segments = split_path(route.pattern);
  if (!segments) throw std::invalid_argument("route pattern must start with '/': " + route.pattern);
  for (size_t i = 0; i < segments->size(); ++i) {
    const std::string_view s = (*segments)[i];
    const bool param = is_param(s);
    const bool braces = s.find_first_of("{}") != std::string_view::npos;
    const std::string_view inner = param ? s.substr(1, s.size() - (is_rest(s) ? 3 : 2)) : s;
    if (s.empty() || (braces && !param) ||
        (param && inner.find_first_of("{}/*") != std::string_view::npos) ||
        (is_rest(s) && i + 1 != segments->size())) {
      throw std::invalid_argument("malformed route pattern: " + route.pattern);
    }
    route.segments.emplace_back(s);
  }
  for (const Route& r : routes_) {
    if (r.method == route.method && r.pattern == route.pattern) {
      throw std::invalid_argument("route registered twice: " + std::string(method_name(r.method)) +
                                  " " + r.pattern);
    }
  }
  routes_.push_back(std::move(route));
}

std::vector<Router::RouteInfo> Router::routes() const {
  std::vector<RouteInfo> out;
  out.reserve(routes_.size());
  for (const Route& r : routes_) out.push_back({r.method, r.pattern, bool(r.websocket)});
  return out;
}

Router::Match Router::match(Method method, std::string_view path) const {
  Match result;
  const auto segments = split_path(path);
  if (!segments) return result;

  // The best match per method: the pattern with the most literal segments.
  const Route* best = nullptr;
  int best_literals = -1;
  std::map<std::string, std::string, std::less<>> best_params;
  for (const Route& route : routes_) {
    const bool rest = !route.segments.empty() && is_rest(route.segments.back());
    if (rest ? segments->size() < route.segments.size()
             : route.segments.size() != segments->size()) {
      continue;
    }
    std::map<std::string, std::string, std::less<>> params;
    int literals = 0;
    bool matches = true;
    for (size_t i = 0; i < route.segments.size() && matches; ++i) {
      const std::string& want = route.segments[i];
      const std::string_view got = (*segments)[i];
      if (!is_param(want)) {
        matches = want == got;
        ++literals;
        continue;
      }
      if (is_rest(want)) {
        // Each segment decoded on its own, so that an encoded '/' cannot make a new one.
        std::string joined;
        for (size_t j = i; j < segments->size() && matches; ++j) {
          auto value = percent_decode((*segments)[j]);
          matches =
              !(*segments)[j].empty() && value.has_value() && value->find('/') == std::string::npos;
          if (matches) joined += (j == i ? "" : "/") + *value;
        }
        if (matches) params[want.substr(1, want.size() - 3)] = std::move(joined);
        continue;
      }
      auto value = percent_decode(got);
      matches = !got.empty() && value.has_value();
      if (matches) params[want.substr(1, want.size() - 2)] = std::move(*value);
    }
    if (!matches) continue;
    if (route.method != method) {
      if (std::find(result.allowed.begin(), result.allowed.end(), route.method) ==
          result.allowed.end()) {
        result.allowed.push_back(route.method);
      }
      continue;
    }
    if (literals > best_literals) {
      best = &route;
      best_literals = literals;
      best_params = std::move(params);
    }
  }
  if (best != nullptr) {
    result.outcome = Outcome::kFound;
    result.handler = best->handler ? &best->handler : nullptr;
    result.websocket = best->websocket ? &best->websocket : nullptr;
    result.params = std::move(best_params);
    result.allowed.clear();
  } else if (!result.allowed.empty()) {
    result.outcome = Outcome::kMethodNotAllowed;
  }
  return result;
}

}  // namespace vessel::http
