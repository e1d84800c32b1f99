#include "api/http/server.hpp"

#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "api/http/json_body.hpp"
#include "api/http/tcp_guard.hpp"
#include "base/log.hpp"

namespace vessel::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace bws = boost::beast::websocket;
using boost::system::error_code;

namespace {

constexpr size_t kHeaderLimit = 8 * 1024;
// Bytes a WebSocket may have waiting to go out before new frames are dropped.
constexpr size_t kWebSocketQueueLimit = 1 << 20;

std::string_view sv(boost::string_view s) { return {s.data(), s.size()}; }

class WebSocketHandle;

// Everything the connections share. The io_context is not in here: pending handlers hold
// sessions, sessions hold the core, and the server must be able to destroy those handlers.
struct Core {
  Router router;
  ServerOptions options;

  std::mutex mu;
  std::condition_variable idle;
  size_t connections = 0;
  bool stopping = false;

  struct Closable {
    virtual ~Closable() = default;
    virtual void shutdown() = 0;  // any thread: posts the close to the connection's strand
  };
  std::vector<std::weak_ptr<Closable>> open;
  // Detached by stop() before the io_context goes, so no handle posts to it afterwards.
  std::vector<std::weak_ptr<WebSocketHandle>> handles;

  Core(Router r, ServerOptions o) : router(std::move(r)), options(std::move(o)) {}

  // False when the server is stopping or full.
  bool admit(const std::shared_ptr<Closable>& c) {
    std::lock_guard lock(mu);
    if (stopping) return false;
    std::erase_if(open, [](const auto& w) { return w.expired(); });
    open.push_back(c);
    return true;
  }
  bool full() {
    std::lock_guard lock(mu);
    return connections >= options.max_connections;
  }
  // An error the server answers itself, in the shape the options ask for.
  Response error(int status, std::string message) const {
    return Response::error(status, std::move(message), options.error_field);
  }
  bool is_public(std::string_view path) const {
    for (const std::string& p : options.public_paths) {
      if (p.size() > 1 && p.back() == '/' ? path.starts_with(p) : path == p) return true;
    }
    return false;
  }
};

// Counts a connection for as long as its object lives.
class Counted {
 public:
  explicit Counted(std::shared_ptr<Core> core) : core_(std::move(core)) {
    std::lock_guard lock(core_->mu);
    ++core_->connections;
  }
  ~Counted() {
    std::lock_guard lock(core_->mu);
    --core_->connections;
    core_->idle.notify_all();
  }
  Counted(const Counted&) = delete;
  Counted& operator=(const Counted&) = delete;

 protected:
  std::shared_ptr<Core> core_;
};

// ------------------------------------------------------------------------------- WebSocket

template <class Protocol>
class WebSocketSession : public Core::Closable,
                         public Counted,
                         public std::enable_shared_from_this<WebSocketSession<Protocol>> {
 public:
  using Socket = net::basic_stream_socket<Protocol, net::any_io_executor>;

  WebSocketSession(std::shared_ptr<Core> core, Socket socket, WebSocketCallbacks callbacks)
      : Counted(std::move(core)), ws_(std::move(socket)), callbacks_(std::move(callbacks)) {}

  void run(bhttp::request<bhttp::string_body> request) {
    bws::stream_base::timeout timeout{};
    timeout.handshake_timeout = core_->options.read_timeout;
    timeout.idle_timeout = core_->options.websocket_idle_timeout;
    timeout.keep_alive_pings = true;
    ws_.set_option(timeout);
    ws_.read_message_max(core_->options.body_limit);
    ws_.binary(true);
    request_ = std::move(request);
    ws_.async_accept(request_, [self = this->shared_from_this()](error_code ec) {
      if (ec) return self->end();
      self->accepted_ = true;
      self->read();
      if (!self->out_.empty()) self->write();
    });
  }

  void post_send(std::vector<uint8_t> bytes) {
    net::post(ws_.get_executor(),
              [self = this->shared_from_this(), b = std::move(bytes)]() mutable {
                if (self->ended_) return;
                if (self->queued_ + b.size() > kWebSocketQueueLimit)
                  return;  // dropped (see WebSocket)
                self->queued_ += b.size();
                self->out_.push_back(std::move(b));
                if (self->accepted_ && !self->writing_) self->write();
              });
  }

  void post_close() {
    net::post(ws_.get_executor(), [self = this->shared_from_this()] {
      if (self->ended_) return;
      if (!self->accepted_) return self->end();
      self->ws_.async_close(bws::close_code::normal, [self](error_code) { self->end(); });
    });
  }

  void shutdown() override {
    net::post(ws_.get_executor(), [self = this->shared_from_this()] { self->end(); });
  }

 private:
  void read() {
    ws_.async_read(in_, [self = this->shared_from_this()](error_code ec, size_t) {
      if (ec) return self->end();
      const auto data = self->in_.cdata();
      const std::span<const uint8_t> bytes(static_cast<const uint8_t*>(data.data()), data.size());
      try {
        if (self->callbacks_.on_message) self->callbacks_.on_message(bytes);
      } catch (const std::exception& e) {
        log(LogLevel::kWarn, "api: WebSocket handler failed: {}", e.what());
        return self->end();
      }
      self->in_.consume(self->in_.size());
      self->read();
    });
  }

  void write() {
    writing_ = true;
    ws_.async_write(net::buffer(out_.front()),
                    [self = this->shared_from_this()](error_code ec, size_t) {
                      self->writing_ = false;
                      self->queued_ -= self->out_.front().size();
                      self->out_.pop_front();
                      if (ec) return self->end();
                      if (!self->out_.empty()) self->write();
                    });
  }

  void end() {
    if (ended_) return;
    ended_ = true;
    error_code ignored;
    beast::get_lowest_layer(ws_).close(ignored);
    if (callbacks_.on_close) {
      try {
        callbacks_.on_close();
      } catch (const std::exception& e) {
        log(LogLevel::kWarn, "api: WebSocket close handler failed: {}", e.what());
      }
    }
    callbacks_ = {};  // they may hold the handle, which holds us
  }

  bws::stream<Socket> ws_;
  WebSocketCallbacks callbacks_;
  bhttp::request<bhttp::string_body> request_;
  beast::flat_buffer in_;
  std::deque<std::vector<uint8_t>> out_;
  size_t queued_ = 0;
  bool accepted_ = false, writing_ = false, ended_ = false;
};

// What a handler holds: frames sent before the session exists wait here.
class WebSocketHandle : public WebSocket {
 public:
  using SendFn = std::function<void(std::vector<uint8_t>)>;
  using CloseFn = std::function<void()>;

  WebSocketHandle() = default;

  void attach(SendFn send, CloseFn close) {
    std::lock_guard lock(mu_);
    send_ = std::move(send);
    close_ = std::move(close);
    for (auto& frame : pending_) send_(std::move(frame));
    pending_.clear();
    if (close_requested_) close_();
  }
  void detach() {
    std::lock_guard lock(mu_);
    send_ = nullptr;
    close_ = nullptr;
    detached_ = true;
    pending_.clear();
    pending_bytes_ = 0;
  }

  void send(std::span<const uint8_t> bytes) override {
    std::lock_guard lock(mu_);
    std::vector<uint8_t> frame(bytes.begin(), bytes.end());
    if (send_) {
      send_(std::move(frame));
    } else if (!detached_ && pending_bytes_ + frame.size() <= kWebSocketQueueLimit) {
      pending_bytes_ += frame.size();
      pending_.push_back(std::move(frame));
    }
  }
  void close() override {
    std::lock_guard lock(mu_);
    if (close_) {
      close_();
    } else {
      close_requested_ = true;
    }
  }

 private:
  std::mutex mu_;  // held while posting: detach() waits for a send in progress
  SendFn send_;
  CloseFn close_;
  std::vector<std::vector<uint8_t>> pending_;
  size_t pending_bytes_ = 0;
  bool detached_ = false, close_requested_ = false;
};

// ------------------------------------------------------------------------------------ HTTP

template <class Protocol>
class HttpSession : public Core::Closable,
                    public Counted,
                    public std::enable_shared_from_this<HttpSession<Protocol>> {
 public:
  using Socket = net::basic_stream_socket<Protocol, net::any_io_executor>;

  HttpSession(std::shared_ptr<Core> core, Socket socket, bool require_token)
      : Counted(std::move(core)),
        socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        require_token_(require_token) {}

  void run() {
    net::dispatch(socket_.get_executor(), [self = this->shared_from_this()] { self->read(); });
  }

  void shutdown() override {
    net::post(socket_.get_executor(), [self = this->shared_from_this()] { self->close(); });
  }

 private:
  void read() {
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(core_->options.body_limit);
    arm();
    bhttp::async_read_header(
        socket_, buffer_, *parser_,
        [self = this->shared_from_this()](error_code ec, size_t) { self->on_header(ec); });
  }

  void on_header(error_code ec) {
    if (ec) return on_read_error(ec);
    auto& req = parser_->get();
    set_cookie_ = false;
    if (require_token_) {
      // Nothing about the server (not even whether the path exists) before the token.
      GuardVerdict verdict = guard(req);
      if (verdict.status != 0) {
        Response r = core_->error(verdict.status, std::move(verdict.message));
        if (verdict.status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer");
        return send(std::move(r), true);
      }
      set_cookie_ = verdict.set_cookie;
    }
    if (bws::is_upgrade(req)) return upgrade();
    const auto length = parser_->content_length();
    if (length && *length > core_->options.body_limit) return too_large();
    if (parser_->is_done()) return dispatch();
    if (beast::iequals(req[bhttp::field::expect], "100-continue")) {
      auto cont =
          std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, 11);
      return bhttp::async_write(socket_, *cont,
                                [self = this->shared_from_this(), cont](error_code e, size_t) {
                                  if (e) return self->close();
                                  self->read_body();
                                });
    }
    read_body();
  }

  // TCP only (tcp_guard.hpp): the token, and that a browser did not send it on its own.
  GuardVerdict guard(const bhttp::request<bhttp::string_body>& req) const {
    RequestHead head;
    head.method = sv(req.method_string());
    head.target = sv(req.target());
    head.host = sv(req[bhttp::field::host]);
    if (auto it = req.find(bhttp::field::origin); it != req.end()) head.origin = sv(it->value());
    head.authorization = sv(req[bhttp::field::authorization]);
    head.cookie = sv(req[bhttp::field::cookie]);
    head.vessel_request =
        sv(req[beast::string_view(kVesselRequestHeader.data(), kVesselRequestHeader.size())]);
    head.upgrade = bws::is_upgrade(req);
    return check_tcp_request(core_->options,
                             core_->is_public(head.target.substr(0, head.target.find('?'))), head);
  }

  void read_body() {
    bhttp::async_read(socket_, buffer_, *parser_,
                      [self = this->shared_from_this()](error_code ec, size_t) {
                        if (ec) return self->on_read_error(ec);
                        self->dispatch();
                      });
  }

  void on_read_error(error_code ec) {
    disarm();
    if (ec == bhttp::error::body_limit) return too_large();
    if (timed_out_) {
      // A client that sent part of a request is told; an idle keep-alive one is just closed.
      if (parser_->got_some() || buffer_.size() > 0) {
        return send(core_->error(408, "request not received in time"), true);
      }
      return close();
    }
    if (ec == bhttp::error::header_limit) {
      return send(core_->error(431, "request header too large"), true);
    }
    if (ec.category() == error_code(bhttp::error::end_of_stream).category() &&
        ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
      return send(core_->error(400, "malformed HTTP request"), true);
    }
    close();
  }

  void too_large() {
    send(core_->error(413, fmt::format("request body over the limit of {} bytes",
                                       core_->options.body_limit)),
         true);
  }

  Request make_request(Method method, const Router::Match& match) const {
    const std::string_view target = sv(parser_->get().target());
    const size_t q = target.find('?');
    Request r;
    r.method = method;
    r.path = std::string(target.substr(0, q));
    if (q != std::string_view::npos) r.query = std::string(target.substr(q + 1));
    r.params = match.params;
    return r;
  }

  // The route for the request, or the error response that answers it instead.
  std::variant<Router::Match, Response> route(std::optional<Method> method,
                                              std::string_view path) const {
    // A method we do not know at all: 405 where the path exists (with any method), else 404.
    Router::Match m = core_->router.match(method.value_or(Method::kGet), path);
    if (!method && m.outcome == Router::Outcome::kFound) {
      m.outcome = Router::Outcome::kMethodNotAllowed;
      m.allowed = {Method::kGet};
    }
    if (!method && m.outcome == Router::Outcome::kMethodNotAllowed) {
      for (Method other : {Method::kPut, Method::kPatch, Method::kPost, Method::kDelete}) {
        if (core_->router.match(other, path).outcome == Router::Outcome::kFound) {
          m.allowed.push_back(other);
        }
      }
    }
    switch (m.outcome) {
      case Router::Outcome::kNotFound:
        return core_->error(404, fmt::format("no such resource: {}", path));
      case Router::Outcome::kMethodNotAllowed: {
        std::string allowed;
        for (Method a : m.allowed)
          allowed += fmt::format("{}{}", allowed.empty() ? "" : ", ", method_name(a));
        Response r = core_->error(
            405, fmt::format("{} is not allowed on {} (allowed: {})",
                             method ? method_name(*method) : "this method", path, allowed));
        r.headers.emplace_back("Allow", std::move(allowed));
        return r;
      }
      case Router::Outcome::kFound: break;
    }
    return m;
  }

  void dispatch() {
    disarm();
    auto& req = parser_->get();
    const bool keep_alive = req.keep_alive();
    const std::optional<Method> method = parse_method(sv(req.method_string()));
    const std::string_view target = sv(req.target());
    auto routed = route(method, target.substr(0, target.find('?')));
    if (auto* refusal = std::get_if<Response>(&routed)) return send_routed(std::move(*refusal));
    const Router::Match& match = std::get<Router::Match>(routed);
    if (match.handler == nullptr) {
      Response r = core_->error(426, "this resource is a WebSocket: upgrade required");
      r.headers.emplace_back("Upgrade", "websocket");
      return send(std::move(r), !keep_alive);
    }
    Request request = make_request(*method, match);
    auto body = parse_json_body(req.body());
    if (!body.ok()) return send(core_->error(400, body.error().message), true);
    request.body = std::move(*body);
    Response response;
    try {
      response = (*match.handler)(request);
    } catch (const std::exception& e) {
      log(LogLevel::kError, "api: {} {}: {}", method_name(*method), request.path, e.what());
      response = core_->error(500, "internal error");
    } catch (...) {
      log(LogLevel::kError, "api: {} {}: unknown exception", method_name(*method), request.path);
      response = core_->error(500, "internal error");
    }
    send(std::move(response), !keep_alive);
  }

  void send_routed(Response r) { send(std::move(r), !parser_->get().keep_alive()); }

  void upgrade() {
    disarm();
    auto& req = parser_->get();
    const std::string_view target = sv(req.target());
    auto routed = route(Method::kGet, target.substr(0, target.find('?')));
    if (auto* refusal = std::get_if<Response>(&routed)) return send_routed(std::move(*refusal));
    const Router::Match& match = std::get<Router::Match>(routed);
    if (match.websocket == nullptr) {
      return send(core_->error(400, "this resource does not upgrade to a WebSocket"), true);
    }
    auto handle = std::make_shared<WebSocketHandle>();
    {
      std::lock_guard lock(core_->mu);
      std::erase_if(core_->handles, [](const auto& w) { return w.expired(); });
      core_->handles.push_back(handle);
    }
    std::variant<WebSocketCallbacks, Response> answer;
    try {
      answer = (*match.websocket)(make_request(Method::kGet, match), handle);
    } catch (const std::exception& e) {
      log(LogLevel::kError, "api: WebSocket {}: {}", target, e.what());
      answer = core_->error(500, "internal error");
    }
    if (auto* refusal = std::get_if<Response>(&answer)) return send(std::move(*refusal), true);

    auto session = std::make_shared<WebSocketSession<Protocol>>(
        core_, std::move(socket_), std::move(std::get<WebSocketCallbacks>(answer)));
    if (!core_->admit(session)) return;
    std::weak_ptr<WebSocketSession<Protocol>> weak = session;
    handle->attach(
        [weak](std::vector<uint8_t> b) {
          if (auto s = weak.lock()) s->post_send(std::move(b));
        },
        [weak] {
          if (auto s = weak.lock()) s->post_close();
        });
    session->run(parser_->release());
  }

  void send(Response r, bool close_after) {
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
    res->version(11);
    res->result(static_cast<unsigned>(r.status));
    res->set(bhttp::field::server, "vessel");
    for (auto& [name, value] : r.headers) res->set(name, value);
    if (set_cookie_) {
      // The page a token opened keeps it for the requests it makes next (its scripts and
      // styles, its API calls); scripts cannot read it.
      res->set(bhttp::field::set_cookie,
               fmt::format("{}={}; Path=/; HttpOnly; SameSite=Strict", core_->options.token_cookie,
                           core_->options.token));
    }
    if (r.text) {
      res->set(bhttp::field::content_type, r.content_type);
      res->body() = std::move(*r.text);
    } else if (r.body) {
      res->set(bhttp::field::content_type, "application/json");
      // Replace, not throw, on invalid UTF-8 a handler may echo from a request.
      res->body() = r.body->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    res->keep_alive(!close_after);
    // A 204 carries no body and so no Content-Length either (RFC 9110 8.6).
    if (r.status != 204) res->prepare_payload();
    arm();
    bhttp::async_write(socket_, *res,
                       [self = this->shared_from_this(), res, close_after](error_code ec, size_t) {
                         self->disarm();
                         if (ec || close_after) return self->close();
                         self->read();
                       });
  }

  // One deadline at a time covers the read or write in flight; a generation number keeps a
  // timer that fired just as its operation finished from cancelling the next one.
  void arm() {
    timed_out_ = false;
    const uint64_t generation = ++generation_;
    timer_.expires_after(core_->options.read_timeout);
    timer_.async_wait([self = this->shared_from_this(), generation](error_code ec) {
      if (ec || generation != self->generation_) return;
      self->timed_out_ = true;
      error_code ignored;
      self->socket_.cancel(ignored);
    });
  }
  void disarm() {
    ++generation_;
    timer_.cancel();
  }

  void close() {
    disarm();
    error_code ignored;
    socket_.shutdown(net::socket_base::shutdown_both, ignored);
    socket_.close(ignored);
  }

  Socket socket_;
  net::steady_timer timer_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  uint64_t generation_ = 0;
  bool timed_out_ = false;
  bool set_cookie_ = false;  // the request gave the token in its URL
  const bool require_token_;
};

// ------------------------------------------------------------------------------ listeners

template <class Protocol>
class Listener : public std::enable_shared_from_this<Listener<Protocol>> {
 public:
  using Acceptor = net::basic_socket_acceptor<Protocol, net::any_io_executor>;

  Listener(net::io_context& ioc, std::shared_ptr<Core> core, Acceptor acceptor, bool require_token)
      : ioc_(ioc),
        core_(std::move(core)),
        acceptor_(std::move(acceptor)),
        retry_(acceptor_.get_executor()),
        require_token_(require_token) {}

  void run() {
    net::dispatch(acceptor_.get_executor(), [self = this->shared_from_this()] { self->accept(); });
  }
  void close() {
    net::post(acceptor_.get_executor(), [self = this->shared_from_this()] {
      error_code ignored;
      self->acceptor_.close(ignored);
      self->retry_.cancel();
    });
  }

 private:
  void accept() {
    acceptor_.async_accept(net::make_strand(ioc_),
                           [self = this->shared_from_this()](error_code ec, auto socket) {
                             if (ec == net::error::operation_aborted || !self->acceptor_.is_open())
                               return;
                             if (ec) {
                               // Out of descriptors and the like: try again shortly instead of
                               // spinning.
                               self->retry_.expires_after(std::chrono::milliseconds(100));
                               self->retry_.async_wait([self](error_code e) {
                                 if (!e) self->accept();
                               });
                               return;
                             }
                             self->serve(typename HttpSession<Protocol>::Socket(std::move(socket)));
                             self->accept();
                           });
  }

  void serve(typename HttpSession<Protocol>::Socket socket) {
    if (core_->full()) {
      // Refused without reading anything: a canned answer that fits any socket buffer.
      const std::string body = core_->error(503, "too many open connections").body->dump();
      const std::string busy = fmt::format(
          "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
          "Content-Length: {}\r\nConnection: close\r\n\r\n{}",
          body.size(), body);
      error_code ignored;
      socket.non_blocking(true, ignored);
      socket.write_some(net::buffer(busy.data(), busy.size()), ignored);
      socket.close(ignored);
      return;
    }
    auto session =
        std::make_shared<HttpSession<Protocol>>(core_, std::move(socket), require_token_);
    if (core_->admit(session)) session->run();
  }

  net::io_context& ioc_;
  std::shared_ptr<Core> core_;
  Acceptor acceptor_;
  net::steady_timer retry_;
  const bool require_token_;
};

std::string sys_error(const error_code& ec) { return ec.message(); }

}  // namespace

struct Server::Impl {
  // First, so it goes last: the listeners and pending handlers it destroys use its services.
  net::io_context ioc;
  std::shared_ptr<Core> core;
  std::shared_ptr<Listener<net::local::stream_protocol>> unix_listener;
  std::shared_ptr<Listener<net::ip::tcp>> tcp_listener;
  std::vector<std::thread> threads;
  std::string unix_path;
  ino_t unix_inode = 0;
  uint16_t port = 0;
  bool stopped = false;

  Result<void> listen_unix(const std::string& path);
  Result<void> listen_tcp(uint16_t want);
};

namespace {

// Whether something answers on the Unix socket at `path`.
bool socket_is_live(const std::string& path) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const bool live = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return live;
}

}  // namespace

Result<void> Server::Impl::listen_unix(const std::string& path) {
  sockaddr_un probe{};
  if (path.empty() || path.size() >= sizeof(probe.sun_path)) {
    return make_error(fmt::format("{}: not a usable Unix socket path (empty or over {} bytes)",
                                  path, sizeof(probe.sun_path) - 1));
  }
  struct stat st {};
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return make_error(
          fmt::format("{}: exists and is not a socket; refusing to replace it", path));
    }
    if (socket_is_live(path)) {
      return make_error(fmt::format("{}: another server is listening on this socket", path));
    }
    unlink(path.c_str());  // stale: left by a process that is gone
  }
  using Local = net::local::stream_protocol;
  net::basic_socket_acceptor<Local, net::any_io_executor> acceptor(net::make_strand(ioc));
  error_code ec;
  const auto fail = [&](const char* what) {
    return make_error(fmt::format("{}: {}: {}", path, what, sys_error(ec)));
  };
  if (acceptor.open(Local(), ec); ec) return fail("socket");
  if (acceptor.bind(Local::endpoint(path), ec); ec) return fail("cannot bind");
  // Before listen(): until then nobody can connect, so there is no moment with a wider mode.
  if (chmod(path.c_str(), 0600) != 0) {
    ec = error_code(errno, boost::system::system_category());
    unlink(path.c_str());
    return fail("chmod");
  }
  if (acceptor.listen(net::socket_base::max_listen_connections, ec); ec) {
    unlink(path.c_str());
    return fail("cannot listen");
  }
  if (lstat(path.c_str(), &st) == 0) unix_inode = st.st_ino;
  unix_path = path;
  unix_listener = std::make_shared<Listener<Local>>(ioc, core, std::move(acceptor), false);
  return {};
}

Result<void> Server::Impl::listen_tcp(uint16_t want) {
  using Tcp = net::ip::tcp;
  net::basic_socket_acceptor<Tcp, net::any_io_executor> acceptor(net::make_strand(ioc));
  const Tcp::endpoint endpoint(net::ip::address_v4::loopback(), want);
  error_code ec;
  const auto fail = [&](const char* what) {
    return make_error(fmt::format("127.0.0.1:{}: {}: {}", want, what, sys_error(ec)));
  };
  if (acceptor.open(endpoint.protocol(), ec); ec) return fail("socket");
  acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (acceptor.bind(endpoint, ec); ec) return fail("cannot bind");
  if (acceptor.listen(net::socket_base::max_listen_connections, ec); ec)
    return fail("cannot listen");
  port = acceptor.local_endpoint(ec).port();
  tcp_listener = std::make_shared<Listener<Tcp>>(ioc, core, std::move(acceptor), true);
  return {};
}

Result<std::unique_ptr<Server>> Server::start(Router router, ServerOptions options) {
  if (!options.unix_path && !options.tcp_port) {
    return make_error("api server: neither a Unix socket nor a TCP port to listen on");
  }
  if (options.tcp_port && options.token.size() < 16) {
    return make_error("api server: TCP needs a bearer token of at least 16 characters");
  }
  if (options.body_limit == 0 || options.max_connections == 0 || options.threads == 0 ||
      options.threads > 64 || options.read_timeout.count() <= 0) {
    return make_error("api server: limits must be positive (and at most 64 threads)");
  }
  auto impl = std::make_unique<Impl>();
  impl->core = std::make_shared<Core>(std::move(router), options);
  if (options.unix_path) TRY_VOID(impl->listen_unix(*options.unix_path));
  if (options.tcp_port) {
    if (auto r = impl->listen_tcp(*options.tcp_port); !r) {
      if (!impl->unix_path.empty()) unlink(impl->unix_path.c_str());
      return r.take_error();
    }
  }
  if (impl->unix_listener) impl->unix_listener->run();
  if (impl->tcp_listener) impl->tcp_listener->run();
  for (unsigned i = 0; i < options.threads; ++i) {
    impl->threads.emplace_back([ioc = &impl->ioc] {
      auto guard = net::make_work_guard(*ioc);
      // Handlers catch what they expect; anything else ends that handler's connection, not
      // the server.
      for (;;) {
        try {
          ioc->run();
          return;
        } catch (const std::exception& e) {
          log(LogLevel::kError, "api: unexpected exception on the server thread: {}", e.what());
        }
      }
    });
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { stop(); }

uint16_t Server::tcp_port() const { return impl_->port; }

void Server::stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  Core& core = *impl_->core;
  if (impl_->unix_listener) impl_->unix_listener->close();
  if (impl_->tcp_listener) impl_->tcp_listener->close();
  std::vector<std::shared_ptr<Core::Closable>> open;
  {
    std::lock_guard lock(core.mu);
    core.stopping = true;
    for (auto& w : core.open) {
      if (auto c = w.lock()) open.push_back(std::move(c));
    }
    core.open.clear();
  }
  for (auto& c : open) c->shutdown();
  open.clear();
  {
    // Connections end as their strands run the close; a handler stuck in user code is not
    // waited for past this.
    std::unique_lock lock(core.mu);
    core.idle.wait_for(lock, std::chrono::seconds(5), [&] { return core.connections == 0; });
  }
  std::vector<std::shared_ptr<WebSocketHandle>> handles;
  {
    std::lock_guard lock(core.mu);
    for (auto& w : core.handles) {
      if (auto h = w.lock()) handles.push_back(std::move(h));
    }
    core.handles.clear();
  }
  for (auto& h : handles) h->detach();
  impl_->ioc.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
  if (!impl_->unix_path.empty()) {
    // Only our own socket: another server may have taken the path since.
    struct stat st {};
    if (lstat(impl_->unix_path.c_str(), &st) == 0 && st.st_ino == impl_->unix_inode) {
      unlink(impl_->unix_path.c_str());
    }
  }
}

}  // namespace vessel::http
