#include "api/http/tcp_guard.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "api/http/router.hpp"
#include "api/http/server.hpp"

namespace vessel::http {

namespace {

enum class Credential { kNone, kBearer, kUrl, kCookie };

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool cookie_matches(std::string_view cookies, const ServerOptions& o) {
  // Cookie: a=1; b=2
  while (!cookies.empty()) {
    const size_t semi = cookies.find(';');
    std::string_view item = cookies.substr(0, semi);
    cookies = semi == std::string_view::npos ? std::string_view{} : cookies.substr(semi + 1);
    while (item.starts_with(' ')) item.remove_prefix(1);
    const size_t eq = item.find('=');
    if (eq != std::string_view::npos && item.substr(0, eq) == o.token_cookie &&
        bearer_matches("Bearer " + std::string(item.substr(eq + 1)), o.token)) {
      return true;
    }
  }
  return false;
}

Credential credential_of(const ServerOptions& o, const RequestHead& req) {
  if (bearer_matches(req.authorization, o.token)) return Credential::kBearer;
  if (o.token_cookie.empty()) return Credential::kNone;
  const size_t q = req.target.find('?');
  if (q != std::string_view::npos) {
    if (auto given = query_param(req.target.substr(q + 1), "token");
        given && bearer_matches("Bearer " + *given, o.token)) {
      return Credential::kUrl;
    }
  }
  return cookie_matches(req.cookie, o) ? Credential::kCookie : Credential::kNone;
}

// "127.0.0.1", "localhost" or "[::1]", with or without ":PORT".
bool loopback_host(std::string_view host) {
  const std::string h = lower(host);
  std::string_view name = h, port;
  const size_t colon = h.starts_with('[') ? h.find(':', h.find(']')) : h.find(':');
  if (colon != std::string::npos) {
    name = std::string_view(h).substr(0, colon);
    port = std::string_view(h).substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return false;
    }
  }
  return name == "127.0.0.1" || name == "localhost" || name == "[::1]";
}

GuardVerdict refuse(std::string message) { return {403, std::move(message), false}; }

}  // namespace

GuardVerdict check_tcp_request(const ServerOptions& options, bool is_public,
                               const RequestHead& req) {
  const Credential via = credential_of(options, req);
  if (via == Credential::kNone && !is_public) return {401, "unauthorized", false};
  const bool browser_may_have_sent = via == Credential::kCookie || via == Credential::kUrl;
  if (browser_may_have_sent || req.upgrade) {
    if (!loopback_host(req.host)) {
      return refuse(
          fmt::format("Host '{}' is not this daemon's address (127.0.0.1 or localhost)", req.host));
    }
    if (req.origin && lower(*req.origin) != "http://" + lower(req.host)) {
      return refuse(
          fmt::format("Origin '{}' is not this daemon's page (http://{})", *req.origin, req.host));
    }
  }
  const bool changes_state = req.method != "GET" && req.method != "HEAD";
  if (via == Credential::kCookie && changes_state && req.vessel_request.empty()) {
    return refuse(
        fmt::format("{} with the cookie needs the {} header (a page on another origin "
                    "cannot send it)",
                    req.method, kVesselRequestHeader));
  }
  return {0, {}, via == Credential::kUrl, via != Credential::kNone};
}

bool bearer_matches(std::string_view authorization, std::string_view token) {
  constexpr std::string_view kScheme = "Bearer ";
  if (token.empty() || authorization.substr(0, kScheme.size()) != kScheme) return false;
  const std::string_view given = authorization.substr(kScheme.size());
  // Every byte of the token is compared whatever the input, so the time depends on the token's
  // length only.
  unsigned diff = given.size() == token.size() ? 0 : 1;
  for (size_t i = 0; i < token.size(); ++i) {
    const char g = i < given.size() ? given[i] : '\0';
    diff |= static_cast<unsigned>(static_cast<unsigned char>(g ^ token[i]));
  }
  return diff == 0;
}

}  // namespace vessel::http
