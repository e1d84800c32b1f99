// The server and client over real sockets: routing and errors end to end, limits, the bearer
// token on TCP, the Unix socket's rules, slow and concurrent clients, keep-alive, WebSocket echo
// and stop().
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "api/http/client.hpp"
#include "api/http/scratch_dir.hpp"
#include "api/http/server.hpp"

namespace vessel::http {
namespace {

namespace net = boost::asio;
namespace bws = boost::beast::websocket;
using namespace std::chrono_literals;

constexpr const char* kToken = "0123456789abcdef0123456789abcdef";

Router test_router() {
  Router r;
  r.add(Method::kGet, "/hello", [](const Request&) {
    return Response::json(200, {{"hello", "world"}});
  });
  r.add(Method::kPut, "/items/{item_id}", [](const Request& req) {
    return Response::json(
        200,
        {{"id", req.param("item_id")}, {"body", req.body.value_or(nullptr)}, {"query", req.query}});
  });
  r.add(Method::kPatch, "/items/{item_id}", [](const Request&) { return Response::no_content(); });
  r.add(Method::kGet, "/throw",
        [](const Request&) -> Response { throw std::runtime_error("handler bug"); });
  r.add(Method::kGet, "/sleep", [](const Request&) {
    std::this_thread::sleep_for(300ms);
    return Response::json(200, {{"slept", true}});
  });
  return r;
}

template <class Stream>
std::string read_frame(bws::stream<Stream>& ws);

// A raw client for what the Client does not do: partial requests, pipelining, headers.
class Raw {
 public:
  explicit Raw(const std::string& unix_path) {
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, unix_path.c_str(), sizeof addr.sun_path - 1);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  explicit Raw(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Raw() { close(fd_); }
  bool connected() const { return connected_; }

  void send(std::string_view bytes) {
    ASSERT_EQ(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }

  // Everything until the peer closes (or 10 s pass: the test then fails on what it got).
  std::string read_to_end() {
    std::string out;
    while (read_some(out, 10'000) > 0) {}
    return out;
  }

  // One response: the header, then Content-Length bytes of body.
  std::string read_response() {
    std::string out = std::move(rest_);
    rest_.clear();
    size_t header_end;
    while ((header_end = out.find("\r\n\r\n")) == std::string::npos) {
      if (read_some(out, 10'000) <= 0) return out;
    }
    size_t length = 0;
    const size_t at = out.find("Content-Length: ");
    if (at != std::string::npos && at < header_end) length = std::stoul(out.substr(at + 16));
    const size_t total = header_end + 4 + length;
    while (out.size() < total) {
      if (read_some(out, 10'000) <= 0) return out;
    }
    rest_ = out.substr(total);
    out.resize(total);
    return out;
  }

  // True when the peer has closed: a read gives EOF (or a reset) within 10 s.
  bool closed_by_peer() {
    std::string ignored;
    return read_some(ignored, 10'000) <= 0;
  }

 private:
  ssize_t read_some(std::string& out, int timeout_ms) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return -1;
    char buf[4096];
    const ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n > 0) out.append(buf, static_cast<size_t>(n));
    return n;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string rest_;
};

struct Echo {
  std::mutex mu;
  std::condition_variable cv;
  int opened = 0, closed = 0;
  std::shared_ptr<WebSocket> last;

  Router router() {
    Router r = test_router();
    r.add_websocket("/echo", [this](const Request&, std::shared_ptr<WebSocket> ws) {
      {
        std::lock_guard lock(mu);
        ++opened;
        last = ws;
      }
      ws->send(std::vector<uint8_t>{'h', 'i'});  // before the handshake completes: queued
      WebSocketCallbacks cb;
      std::weak_ptr<WebSocket> weak = ws;
      cb.on_message = [weak](std::span<const uint8_t> bytes) {
        if (auto w = weak.lock()) w->send(bytes);
      };
      cb.on_close = [this] {
        std::lock_guard lock(mu);
        ++closed;
        cv.notify_all();
      };
      return std::variant<WebSocketCallbacks, Response>(std::move(cb));
    });
    r.add_websocket("/refuse", [](const Request&, std::shared_ptr<WebSocket>) {
      return std::variant<WebSocketCallbacks, Response>(Response::error(409, "console busy"));
    });
    return r;
  }
  bool wait_closed(int n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, 10s, [&] { return closed >= n; });
  }
};

struct Fixture : ::testing::Test {
  ScratchDir dir;
  std::string sock = dir.at("api.sock");
  Echo echo;  // before the server, which may call it until it stops
  std::unique_ptr<Server> server;

  void start(ServerOptions options = {}, Router router = test_router()) {
    if (!options.unix_path && !options.tcp_port) options.unix_path = sock;
    auto s = Server::start(std::move(router), std::move(options));
    ASSERT_TRUE(s.ok()) << s.error().message;
    server = std::move(*s);
  }
  ClientResponse call(Method m, std::string_view target,
                      const std::optional<nlohmann::json>& body = std::nullopt) {
    auto r = Client::unix_socket(sock).request(m, target, body);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : ClientResponse{};
  }
};

using ServerTest = Fixture;

TEST_F(ServerTest, RoutesWithParametersAndBodies) {
  start();
  ClientResponse r = call(Method::kGet, "/hello");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, (nlohmann::json{{"hello", "world"}}));

  r = call(Method::kPut, "/items/disk%2D1?verbose=1", nlohmann::json{{"size", 3}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body["id"], "disk-1");
  EXPECT_EQ(r.body["body"], (nlohmann::json{{"size", 3}}));
  EXPECT_EQ(r.body["query"], "verbose=1");

  r = call(Method::kPatch, "/items/x", nlohmann::json::object());
  EXPECT_EQ(r.status, 204);
  EXPECT_TRUE(r.text.empty());
}

TEST_F(ServerTest, ErrorsHaveTheFaultMessageShape) {
  start();
  ClientResponse r = call(Method::kGet, "/nowhere");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body["fault_message"], "no such resource: /nowhere");

  r = call(Method::kDelete, "/items/x");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.body["fault_message"], "DELETE is not allowed on /items/x (allowed: PUT, PATCH)");

  Raw raw(sock);
  raw.send("POST /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string response = raw.read_response();
  EXPECT_NE(response.find("HTTP/1.1 405"), std::string::npos) << response;
  EXPECT_NE(response.find("Allow: GET\r\n"), std::string::npos) << response;
}

TEST_F(ServerTest, UnknownMethodIsNotAllowedOnAKnownPath) {
  start();
  Raw raw(sock);
  raw.send("BREW /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(raw.read_response().find("HTTP/1.1 405"), std::string::npos);
  raw.send("BREW /nowhere HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(raw.read_response().find("HTTP/1.1 404"), std::string::npos);
}

TEST_F(ServerTest, MalformedJsonIs400) {
  start();
  Raw raw(sock);
  raw.send("PUT /items/a HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\n{\"a\": 1,]");
  const std::string response = raw.read_to_end();  // 400 closes the connection
  EXPECT_NE(response.find("HTTP/1.1 400"), std::string::npos) << response;
  EXPECT_NE(response.find("malformed JSON body"), std::string::npos) << response;
}

TEST_F(ServerTest, NumberOverflowIs400AndTheServerGoesOn) {
  start();
  Raw raw(sock);
  raw.send("PUT /items/a HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n[1e999999]");
  EXPECT_NE(raw.read_to_end().find("HTTP/1.1 400"), std::string::npos);
  EXPECT_EQ(call(Method::kGet, "/hello").status, 200);
}

TEST_F(ServerTest, MalformedHttpIs400) {
  start();
  Raw raw(sock);
  raw.send("GET /hello HTTP/1.1\r\nHost x\r\n\r\n");
  const std::string response = raw.read_to_end();
  EXPECT_NE(response.find("HTTP/1.1 400"), std::string::npos) << response;
}

TEST_F(ServerTest, BodyOverTheLimitIs413) {
  ServerOptions o;
  o.body_limit = 1024;
  start(o);
  const std::string big = "\"" + std::string(2000, 'x') + "\"";
  ClientResponse r = call(Method::kPut, "/items/a", nlohmann::json::parse(big));
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.body["fault_message"], "request body over the limit of 1024 bytes");

  // Chunked, so the length is only known while reading.
  Raw raw(sock);
  raw.send("PUT /items/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
  raw.send("7d0\r\n" + big.substr(0, 2000) + "\r\n");
  EXPECT_NE(raw.read_to_end().find("HTTP/1.1 413"), std::string::npos);

  // At the limit is fine.
  r = call(Method::kPut, "/items/a", std::string(1000, 'y'));
  EXPECT_EQ(r.status, 200);
}

TEST_F(ServerTest, HeaderOverTheLimitIs431) {
  start();
  Raw raw(sock);
  raw.send("GET /hello HTTP/1.1\r\nX-Big: " + std::string(10000, 'a') + "\r\n\r\n");
  EXPECT_NE(raw.read_to_end().find("HTTP/1.1 431"), std::string::npos);
}

TEST_F(ServerTest, HandlerExceptionIs500AndTheServerGoesOn) {
  start();
  ClientResponse r = call(Method::kGet, "/throw");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body["fault_message"], "internal error");  // nothing of the exception's text
  EXPECT_EQ(call(Method::kGet, "/hello").status, 200);
}

TEST_F(ServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  start();
  Raw raw(sock);
  // Two pipelined requests, then a third after the answers.
  raw.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  for (int i = 0; i < 2; ++i) {
    const std::string response = raw.read_response();
    EXPECT_NE(response.find("HTTP/1.1 200"), std::string::npos) << i << ": " << response;
    EXPECT_NE(response.find("{\"hello\":\"world\"}"), std::string::npos) << response;
  }
  raw.send("PATCH /items/z HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
  const std::string no_content = raw.read_response();
  EXPECT_NE(no_content.find("HTTP/1.1 204"), std::string::npos);
  EXPECT_EQ(no_content.find("Content-Length"), std::string::npos) << no_content;
  raw.send("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(raw.read_response().find("HTTP/1.1 200"), std::string::npos);
  EXPECT_TRUE(raw.closed_by_peer());
}

TEST_F(ServerTest, ExpectContinueGetsA100First) {
  start();
  Raw raw(sock);
  raw.send("PUT /items/a HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_NE(raw.read_response().find("HTTP/1.1 100 Continue"), std::string::npos);
  raw.send("{\"a\":1}");
  const std::string response = raw.read_response();
  EXPECT_NE(response.find("HTTP/1.1 200"), std::string::npos) << response;
  EXPECT_NE(response.find("\"body\":{\"a\":1}"), std::string::npos) << response;
}

TEST_F(ServerTest, SlowClientGets408AndIsClosed) {
  ServerOptions o;
  o.read_timeout = 200ms;
  start(o);
  Raw slow(sock);
  slow.send("PUT /items/a HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"partial");
  const std::string response = slow.read_to_end();
  EXPECT_NE(response.find("HTTP/1.1 408"), std::string::npos) << response;
  EXPECT_NE(response.find("Connection: close"), std::string::npos) << response;

  Raw header_only(sock);
  header_only.send("GET /hello HTTP/1.1\r\nHost:");
  EXPECT_NE(header_only.read_to_end().find("HTTP/1.1 408"), std::string::npos);

  // A connection that never says anything is closed without an answer.
  Raw silent(sock);
  EXPECT_EQ(silent.read_to_end(), "");
  // And the server still answers others.
  EXPECT_EQ(call(Method::kGet, "/hello").status, 200);
}

TEST_F(ServerTest, ConcurrentClients) {
  std::atomic<int> served{0};
  Router r;
  r.add(Method::kPut, "/count/{n}", [&](const Request& req) {
    ++served;
    return Response::json(200, {{"n", req.param("n")}, {"echo", *req.body}});
  });
  ServerOptions o;
  o.threads = 2;
  start(o, std::move(r));
  constexpr int kThreads = 8, kEach = 25;
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const Client client = Client::unix_socket(sock);
      for (int i = 0; i < kEach; ++i) {
        const std::string n = std::to_string(t * 1000 + i);
        auto res = client.request(Method::kPut, "/count/" + n, nlohmann::json{{"i", i}});
        if (res.ok() && res->status == 200 && res->body["n"] == n && res->body["echo"]["i"] == i) {
          ++good;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(good.load(), kThreads * kEach);
  EXPECT_EQ(served.load(), kThreads * kEach);
}

// As 256 silent connections once did to the daemon's TCP port: connections that send nothing,
// far more than max_connections, on both sockets. A client with the token (or on the Unix
// socket) is still answered at once, not after the silent ones time out.
TEST_F(ServerTest, IdleConnectionsDoNotLockOutOthers) {
  ServerOptions o;
  o.unix_path = sock;
  o.tcp_port = 0;
  o.token = kToken;
  start(o);
  const uint16_t port = server->tcp_port();
  std::vector<std::unique_ptr<Raw>> idle;
  for (size_t i = 0; i < 2 * o.max_connections + 8; ++i) {
    idle.push_back(std::make_unique<Raw>(port));
    idle.push_back(std::make_unique<Raw>(sock));
    ASSERT_TRUE(idle[idle.size() - 2]->connected() && idle.back()->connected());
  }
  // Accepted in the order they connected: these come after every idle one.
  const auto begin = std::chrono::steady_clock::now();
  auto tcp = Client::tcp(port, kToken).request(Method::kGet, "/hello");
  ASSERT_TRUE(tcp.ok()) << tcp.error().message;
  EXPECT_EQ(tcp->status, 200) << tcp->text;
  EXPECT_EQ(call(Method::kGet, "/hello").status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - begin, o.header_timeout / 2);
}

TEST_F(ServerTest, IdleConnectionsOverTheirBudgetCloseTheOldest) {
  ServerOptions o;
  o.max_idle_connections = 2;
  start(o);
  Raw oldest(sock), next(sock);
  // Both accepted (and waiting) before the third: a request on `next` proves it, and leaves
  // it waiting again for its next request, now the newer of the two.
  next.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(next.read_response().find("HTTP/1.1 200"), std::string::npos);
  Raw newest(sock);
  newest.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(newest.read_response().find("HTTP/1.1 200"), std::string::npos);
  EXPECT_EQ(oldest.read_to_end(), "");  // closed without an answer
  next.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(next.read_response().find("HTTP/1.1 200"), std::string::npos);
}

TEST_F(ServerTest, ARequestHeaderMustArriveSoon) {
  ServerOptions o;
  o.header_timeout = 200ms;
  start(o);
  const auto begin = std::chrono::steady_clock::now();
  Raw silent(sock), partial(sock);
  partial.send("GET /hello HTTP/1.1\r\nHost:");
  EXPECT_EQ(silent.read_to_end(), "");
  EXPECT_NE(partial.read_to_end().find("HTTP/1.1 408"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - begin, o.read_timeout / 2);

  // A kept-alive connection has read_timeout for its next request.
  Raw kept(sock);
  kept.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(kept.read_response().find("HTTP/1.1 200"), std::string::npos);
  std::this_thread::sleep_for(3 * o.header_timeout);
  kept.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(kept.read_response().find("HTTP/1.1 200"), std::string::npos);
}

// max_connections bounds the requests in progress and the WebSockets, not idle connections.
TEST_F(ServerTest, BusyConnectionsOverTheCapAreRefusedWith503) {
  ServerOptions o;
  o.max_connections = 2;
  o.unix_path = sock;
  o.tcp_port = 0;
  o.token = kToken;
  start(o, echo.router());
  Raw waiting(sock);
  net::io_context ioc;
  std::vector<std::unique_ptr<bws::stream<net::local::stream_protocol::socket>>> sockets;
  for (int i = 0; i < 2; ++i) {
    auto& ws = *sockets.emplace_back(
        std::make_unique<bws::stream<net::local::stream_protocol::socket>>(ioc));
    ws.next_layer().connect(net::local::stream_protocol::endpoint(sock));
    ws.handshake("localhost", "/echo");
    EXPECT_EQ(read_frame(ws), "hi");
  }
  waiting.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string refused = waiting.read_to_end();
  EXPECT_NE(refused.find("HTTP/1.1 503"), std::string::npos) << refused;
  EXPECT_NE(refused.find("too many requests in progress"), std::string::npos) << refused;
  // Without the token on TCP the answer is 401 still: nothing about the server before it.
  auto r = Client::tcp(server->tcp_port(), "").request(Method::kGet, "/hello");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 401);
  sockets[0]->close(bws::close_code::normal);
  EXPECT_TRUE(echo.wait_closed(1));
  EXPECT_EQ(call(Method::kGet, "/hello").status, 200);
}

TEST_F(ServerTest, ClientTimesOut) {
  start();
  auto r = Client::unix_socket(sock, 50ms).request(Method::kGet, "/sleep");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, sock + ": no complete answer within 50 ms");
}

TEST_F(ServerTest, ClientNamesAServerThatIsNotThere) {
  auto r = Client::unix_socket(dir.at("absent.sock")).request(Method::kGet, "/");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("absent.sock: cannot connect"), std::string::npos)
      << r.error().message;
}

// ------------------------------------------------------------------------- Unix socket rules

TEST_F(ServerTest, UnixSocketIsPrivateAndRemovedAtStop) {
  start();
  struct stat st {};
  ASSERT_EQ(lstat(sock.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600U);
  server->stop();
  EXPECT_NE(lstat(sock.c_str(), &st), 0);
  server->stop();  // twice is fine
}

TEST_F(ServerTest, StaleSocketIsReplacedLiveOneIsAnError) {
  {
    // A socket file with nobody behind it, as a killed server leaves.
    const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, sock.c_str(), sizeof addr.sun_path - 1);
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    close(fd);
  }
  start();
  EXPECT_EQ(call(Method::kGet, "/hello").status, 200);

  ServerOptions o;
  o.unix_path = sock;
  auto second = Server::start(test_router(), o);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().message, sock + ": another server is listening on this socket");
  // The first one is untouched.
  EXPECT_EQ(call(Method::kGet, "/hello").status, 200);
}

TEST_F(ServerTest, OtherFilesAreNotReplaced) {
  const std::string file = dir.file("notes.txt");
  ServerOptions o;
  o.unix_path = file;
  auto s = Server::start(test_router(), o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, file + ": exists and is not a socket; refusing to replace it");
  EXPECT_TRUE(std::filesystem::exists(file));
}

TEST(ServerOptionsTest, BadOptionsAreRefused) {
  EXPECT_FALSE(Server::start(test_router(), ServerOptions{}).ok());
  ServerOptions o;
  o.tcp_port = 0;
  o.token = "short";
  auto s = Server::start(test_router(), o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "api server: TCP needs a bearer token of at least 16 characters");
  o.unix_path = "/tmp/" + std::string(200, 'x');
  o.tcp_port.reset();
  s = Server::start(test_router(), o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("not a usable Unix socket path"), std::string::npos);
}

// ---------------------------------------------------------------------------------- TCP auth

TEST(BearerMatches, ExactTokenOnly) {
  EXPECT_TRUE(bearer_matches("Bearer secret-token", "secret-token"));
  EXPECT_FALSE(bearer_matches("Bearer secret-tokem", "secret-token"));
  EXPECT_FALSE(bearer_matches("Bearer secret-token2", "secret-token"));
  EXPECT_FALSE(bearer_matches("Bearer secret", "secret-token"));
  EXPECT_FALSE(bearer_matches("bearer secret-token", "secret-token"));
  EXPECT_FALSE(bearer_matches("secret-token", "secret-token"));
  EXPECT_FALSE(bearer_matches("", "secret-token"));
  EXPECT_FALSE(bearer_matches("Bearer ", ""));
}

TEST_F(ServerTest, TcpNeedsTheTokenOnEveryRequest) {
  ServerOptions o;
  o.tcp_port = 0;
  o.token = kToken;
  start(o);
  const uint16_t port = server->tcp_port();
  ASSERT_NE(port, 0);

  auto good = Client::tcp(port, kToken).request(Method::kGet, "/hello");
  ASSERT_TRUE(good.ok()) << good.error().message;
  EXPECT_EQ(good->status, 200);

  // Wrong token, no token, and an unknown path: the same 401 that says nothing more.
  for (const auto& [token, path] : std::vector<std::pair<std::string, std::string>>{
           {"0123456789abcdef0123456789abcdeX", "/hello"},
           {"", "/hello"},
           {"", "/nowhere"},
           {std::string(kToken) + "0", "/hello"}}) {
    auto r = Client::tcp(port, token).request(Method::kGet, path);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->status, 401) << token << " " << path;
    EXPECT_EQ(r->text, R"({"fault_message":"unauthorized"})");
  }

  // The token is checked before the body is read, and on each request of a connection.
  Raw raw(port);
  ASSERT_TRUE(raw.connected());
  raw.send(std::string("GET /hello HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ") + kToken +
           "\r\n\r\n");
  EXPECT_NE(raw.read_response().find("HTTP/1.1 200"), std::string::npos);
  raw.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string refused = raw.read_to_end();
  EXPECT_NE(refused.find("HTTP/1.1 401"), std::string::npos) << refused;
  EXPECT_NE(refused.find("WWW-Authenticate: Bearer"), std::string::npos) << refused;
}

TEST_F(ServerTest, TcpListensOnLoopbackOnly) {
  ServerOptions o;
  o.tcp_port = 0;
  o.token = kToken;
  start(o);
  // The same port on another local address of this host is not served.
  auto r = Client::tcp(server->tcp_port(), kToken, 2s, "127.0.0.2").request(Method::kGet, "/hello");
  EXPECT_FALSE(r.ok());
}

// ---------------------------------------------------------------------------------- WebSocket

template <class Stream>
std::string read_frame(bws::stream<Stream>& ws) {
  boost::beast::flat_buffer b;
  ws.read(b);
  EXPECT_TRUE(ws.got_binary());
  return boost::beast::buffers_to_string(b.data());
}

TEST_F(ServerTest, WebSocketEchoesBinaryFrames) {
  start({}, echo.router());
  net::io_context ioc;
  bws::stream<net::local::stream_protocol::socket> ws(ioc);
  ws.next_layer().connect(net::local::stream_protocol::endpoint(sock));
  ws.handshake("localhost", "/echo");
  ws.binary(true);
  EXPECT_EQ(read_frame(ws), "hi");

  std::string payload(100'000, '\0');
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 7);
  payload.resize(60'000);  // under the 64 KiB message limit
  ws.write(net::buffer(payload));
  EXPECT_EQ(read_frame(ws), payload);
  ws.write(net::buffer(std::string("\x00\xff", 2)));
  EXPECT_EQ(read_frame(ws), std::string("\x00\xff", 2));

  ws.close(bws::close_code::normal);
  EXPECT_TRUE(echo.wait_closed(1));
}

// The status line a WebSocket upgrade request gets (Beast 1.74's client does not hand back a
// declined handshake's response, so this asks by hand).
std::string upgrade_answer(Raw& raw, const std::string& path, const std::string& extra = "") {
  raw.send("GET " + path +
           " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
           extra + "\r\n");
  const std::string response = raw.read_response();
  return response.substr(0, response.find("\r\n"));
}

TEST_F(ServerTest, WebSocketRefusalAndPlainGet) {
  start({}, echo.router());
  Raw refused(sock);
  EXPECT_EQ(upgrade_answer(refused, "/refuse"), "HTTP/1.1 409 Conflict");
  Raw not_ws(sock);
  EXPECT_EQ(upgrade_answer(not_ws, "/hello"), "HTTP/1.1 400 Bad Request");
  Raw nowhere(sock);
  EXPECT_EQ(upgrade_answer(nowhere, "/nowhere"), "HTTP/1.1 404 Not Found");
  Raw accepted(sock);
  EXPECT_EQ(upgrade_answer(accepted, "/echo"), "HTTP/1.1 101 Switching Protocols");
  // A plain GET on a WebSocket route.
  EXPECT_EQ(call(Method::kGet, "/echo").status, 426);
}

TEST_F(ServerTest, WebSocketOnTcpNeedsTheToken) {
  ServerOptions o;
  o.tcp_port = 0;
  o.token = kToken;
  start(o, echo.router());
  Raw anonymous(server->tcp_port());
  EXPECT_EQ(upgrade_answer(anonymous, "/echo"), "HTTP/1.1 401 Unauthorized");
  Raw wrong(server->tcp_port());
  EXPECT_EQ(upgrade_answer(wrong, "/echo", "Authorization: Bearer 0123456789abcdef\r\n"),
            "HTTP/1.1 401 Unauthorized");
  EXPECT_EQ(echo.opened, 0);

  net::io_context ioc;
  bws::stream<net::ip::tcp::socket> ws(ioc);
  ws.next_layer().connect({net::ip::address_v4::loopback(), server->tcp_port()});
  ws.set_option(bws::stream_base::decorator([](bws::request_type& req) {
    req.set(boost::beast::http::field::authorization, std::string("Bearer ") + kToken);
  }));
  ws.handshake("localhost", "/echo");
  ws.binary(true);
  EXPECT_EQ(read_frame(ws), "hi");
  ws.write(net::buffer(std::string("ping")));
  EXPECT_EQ(read_frame(ws), "ping");
  ws.close(bws::close_code::normal);
  EXPECT_TRUE(echo.wait_closed(1));
}

TEST_F(ServerTest, StopClosesOpenConnectionsAndWebSockets) {
  start({}, echo.router());
  Raw idle(sock);
  idle.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(idle.read_response().find("HTTP/1.1 200"), std::string::npos);

  net::io_context ioc;
  bws::stream<net::local::stream_protocol::socket> ws(ioc);
  ws.next_layer().connect(net::local::stream_protocol::endpoint(sock));
  ws.handshake("localhost", "/echo");
  EXPECT_EQ(read_frame(ws), "hi");

  server->stop();
  EXPECT_TRUE(echo.wait_closed(1));
  EXPECT_TRUE(idle.closed_by_peer());
  // A handle kept past the server's end does nothing.
  std::shared_ptr<WebSocket> kept;
  {
    std::lock_guard lock(echo.mu);
    kept = echo.last;
  }
  server.reset();
  kept->send(std::vector<uint8_t>{1, 2, 3});
  kept->close();
}

}  // namespace
}  // namespace vessel::http
