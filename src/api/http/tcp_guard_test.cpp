// The TCP port's guard (tcp_guard.hpp): the token, and the checks that keep a page on another
// origin from using a browser's cookie (cross-site request forgery, DNS rebinding, another
// localhost port).
#include "api/http/tcp_guard.hpp"

#include <gtest/gtest.h>

#include "api/http/server.hpp"

namespace vessel::http {
namespace {

constexpr const char* kGuardToken = "0123456789abcdef0123";

ServerOptions options() {
  ServerOptions o;
  o.tcp_port = 8080;
  o.token = kGuardToken;
  o.token_cookie = "vessel_token";
  o.public_paths = {"/", "/ui/"};
  return o;
}

// RequestHead holds views: what they look at lives as long as the test.
const std::string kCookie = std::string("vessel_token=") + kGuardToken;
const std::string kBearer = std::string("Bearer ") + kGuardToken;

// What the web console's page sends from http://127.0.0.1:8080.
RequestHead from_page(std::string_view method, std::string_view target) {
  RequestHead r;
  r.method = method;
  r.target = target;
  r.host = "127.0.0.1:8080";
  r.origin = "http://127.0.0.1:8080";
  r.cookie = kCookie;
  return r;
}

GuardVerdict check(const RequestHead& r, bool is_public = false) {
  return check_tcp_request(options(), is_public, r);
}

TEST(TcpGuard, TheConsoleFromAnotherOriginIsRefused) {
  RequestHead r = from_page("GET", "/api/v1/vms/web/console");
  r.upgrade = true;
  EXPECT_EQ(check(r).status, 0);
  for (const char* origin : {"http://evil.example", "http://127.0.0.1:3000", "null",
                             "https://127.0.0.1:8080", "http://127.0.0.1:8080.evil.example"}) {
    r.origin = origin;
    const GuardVerdict v = check(r);
    EXPECT_EQ(v.status, 403) << origin;
    EXPECT_NE(v.message.find(std::string("Origin '") + origin + "'"), std::string::npos)
        << v.message;
  }
  // Not even with the bearer token or the token in the URL: a page can open any WebSocket.
  r.origin = "http://evil.example";
  r.cookie = "";
  r.authorization = kBearer;
  EXPECT_EQ(check(r).status, 403);
  r.authorization = "";
  const std::string with_token = std::string("/api/v1/vms/web/console?token=") + kGuardToken;
  r.target = with_token;
  EXPECT_EQ(check(r).status, 403);
}

TEST(TcpGuard, ARebindingNameIsRefused) {
  RequestHead r = from_page("GET", "/api/v1/vms");
  r.host = "evil.example:8080";
  r.origin = "http://evil.example:8080";  // same-origin for the browser, after DNS rebinding
  const GuardVerdict v = check(r);
  EXPECT_EQ(v.status, 403);
  EXPECT_NE(v.message.find("Host 'evil.example:8080'"), std::string::npos) << v.message;
  for (const char* host : {"", "127.0.0.1.evil.example", "localhost:80:80", "localhost:x",
                           "[::2]:8080", "127.0.0.2:8080"}) {
    r.host = host;
    r.origin.reset();
    EXPECT_EQ(check(r).status, 403) << host;
  }
}

TEST(TcpGuard, TheConsolesOwnAddressesAndTunnelsPass) {
  for (const char* host :
       {"127.0.0.1:8080", "localhost:8080", "LocalHost:9000", "[::1]:8080", "localhost"}) {
    RequestHead r = from_page("POST", "/api/v1/vms/web/start");
    r.host = host;
    const std::string origin = std::string("http://") + host;
    r.origin = origin;
    r.vessel_request = "1";
    EXPECT_EQ(check(r).status, 0) << host;
    r.upgrade = true;
    r.method = "GET";
    EXPECT_EQ(check(r).status, 0) << host;
    r.origin.reset();  // a client that is not a browser
    EXPECT_EQ(check(r).status, 0) << host;
  }
}

TEST(TcpGuard, ACookieChangesNothingWithoutTheHeader) {
  for (const char* method : {"POST", "PUT", "PATCH", "DELETE"}) {
    // A text/plain form POST from another localhost port is "simple": no preflight, and the
    // browser attaches the cookie. Without an Origin (older browsers) only the header tells.
    RequestHead r = from_page(method, "/api/v1/vms");
    r.origin.reset();
    const GuardVerdict v = check(r);
    EXPECT_EQ(v.status, 403) << method;
    EXPECT_NE(v.message.find("X-Vessel-Request"), std::string::npos) << v.message;
    r.origin = "http://127.0.0.1:3000";
    EXPECT_EQ(check(r).status, 403) << method;
    r = from_page(method, "/api/v1/vms");
    r.vessel_request = "1";
    EXPECT_EQ(check(r).status, 0) << method;
  }
  EXPECT_EQ(check(from_page("GET", "/api/v1/vms")).status, 0);
}

TEST(TcpGuard, BearerClientsAreUnaffected) {
  RequestHead r;
  r.method = "POST";
  r.target = "/api/v1/vms";
  r.host = "anything:1";
  r.origin = "http://elsewhere";
  r.authorization = kBearer;
  EXPECT_EQ(check(r).status, 0);
  r.authorization = "Bearer wrong";
  EXPECT_EQ(check(r).status, 401);
}

TEST(TcpGuard, TheTokenInTheUrlSetsTheCookie) {
  RequestHead r;
  r.method = "GET";
  const std::string with_token = std::string("/?token=") + kGuardToken;
  r.target = with_token;
  r.host = "127.0.0.1:8080";
  GuardVerdict v = check(r, true);
  EXPECT_EQ(v.status, 0);
  EXPECT_TRUE(v.set_cookie);
  // Only for this server's own name.
  r.host = "evil.example:8080";
  EXPECT_EQ(check(r, true).status, 403);
  // The page's files need nothing; the API needs the token.
  r = RequestHead{};
  r.method = "GET";
  r.target = "/ui/app.js";
  r.host = "evil.example";
  v = check(r, true);
  EXPECT_EQ(v.status, 0);
  EXPECT_FALSE(v.set_cookie);
  r.target = "/api/v1/vms";
  EXPECT_EQ(check(r).status, 401);
}

}  // namespace
}  // namespace vessel::http
