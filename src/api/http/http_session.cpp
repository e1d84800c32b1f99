#include "api/http/http_session.hpp"

#include <fmt/format.h>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <optional>
#include <variant>

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

std::string_view sv(boost::string_view s) { return {s.data(), s.size()}; }

template <class Protocol>
class HttpSession : public Core::Closable,
                    public Counted,
                    public std::enable_shared_from_this<HttpSession<Protocol>> {
 public:
  using Socket = StreamSocket<Protocol>;

  HttpSession(std::shared_ptr<Core> core, Socket socket, bool require_token)
      : Counted(std::move(core)),
        socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        require_token_(require_token) {}
  ~HttpSession() override { core_->leave_idle(idle_ticket_); }

  void run() {
    net::dispatch(socket_.get_executor(), [self = this->shared_from_this()] { self->read(); });
  }

  void shutdown() override {
    net::post(socket_.get_executor(), [self = this->shared_from_this()] { self->close(); });
  }

  void evict() override {
    net::post(socket_.get_executor(), [self = this->shared_from_this()] {
      if (!self->busy_) self->close();
    });
  }

 private:
  void read() {
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(core_->options.body_limit);
    idle_ticket_ = core_->enter_idle(this->weak_from_this(), idle_ticket_);
    // A new connection has a short while to say something; a kept-alive one, that has shown
    // what it is, the usual time.
    arm(first_request_ ? core_->options.header_timeout : core_->options.read_timeout);
    bhttp::async_read_header(
        socket_, buffer_, *parser_,
        [self = this->shared_from_this()](error_code ec, size_t) { self->on_header(ec); });
  }

  void on_header(error_code ec) {
    if (ec) return on_read_error(ec);
    first_request_ = false;
    auto& req = parser_->get();
    set_cookie_ = false;
    bool trusted = !require_token_;  // the Unix socket's file mode vouches for its clients
    if (require_token_) {
      // Nothing about the server (not even whether the path exists) before the token.
      GuardVerdict verdict = guard(req);
      if (verdict.status != 0) {
        Response r = core_->error(verdict.status, std::move(verdict.message));
        if (verdict.status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer");
        return send(std::move(r), true);
      }
      set_cookie_ = verdict.set_cookie;
      trusted = verdict.authenticated;
    }
    if (trusted && !become_busy()) return;
    arm(core_->options.read_timeout);  // for the body
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

  // A request with the token leaves the idle budget for a busy slot, or, when they are all
  // taken, is answered 503 (and false returned).
  bool become_busy() {
    auto slot = BusySlot::take(core_);
    if (!slot) {
      send(core_->error(503, "too many requests in progress"), true);
      return false;
    }
    busy_.emplace(std::move(*slot));
    core_->leave_idle(idle_ticket_);
    idle_ticket_ = 0;
    return true;
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
    if (!busy_ && !become_busy()) return;  // a public WebSocket is busy all the same
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

    start_websocket<Protocol>(core_, std::move(socket_),
                              std::move(std::get<WebSocketCallbacks>(answer)), handle,
                              parser_->release(), std::move(*busy_));
    busy_.reset();
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
    arm(core_->options.read_timeout);
    bhttp::async_write(socket_, *res,
                       [self = this->shared_from_this(), res, close_after](error_code ec, size_t) {
                         self->disarm();
                         self->busy_.reset();
                         if (ec || close_after) return self->close();
                         self->read();
                       });
  }

  // One deadline at a time covers the read or write in flight; a generation number keeps a
  // timer that fired just as its operation finished from cancelling the next one.
  void arm(std::chrono::milliseconds deadline) {
    timed_out_ = false;
    const uint64_t generation = ++generation_;
    timer_.expires_after(deadline);
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
  uint64_t idle_ticket_ = 0;      // its place in the idle budget (0: none)
  std::optional<BusySlot> busy_;  // while serving a request with the token
  bool first_request_ = true;
  bool timed_out_ = false;
  bool set_cookie_ = false;  // the request gave the token in its URL
  const bool require_token_;
};

}  // namespace

template <class Protocol>
void serve_http(const std::shared_ptr<Core>& core, StreamSocket<Protocol> socket,
                bool require_token) {
  auto session = std::make_shared<HttpSession<Protocol>>(core, std::move(socket), require_token);
  if (core->admit(session)) session->run();
}

template void serve_http<net::local::stream_protocol>(const std::shared_ptr<Core>&,
                                                      StreamSocket<net::local::stream_protocol>,
                                                      bool);
template void serve_http<net::ip::tcp>(const std::shared_ptr<Core>&, StreamSocket<net::ip::tcp>,
                                       bool);

}  // namespace vessel::http
