#include "api/http/server.hpp"

#include <fmt/format.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <cerrno>
#include <thread>
#include <vector>

#include "api/http/http_session.hpp"
#include "api/http/server_core.hpp"
#include "api/http/websocket_session.hpp"
#include "base/log.hpp"
#include "base/thread_role.hpp"
#include "base/unix_listen.hpp"

namespace vessel::http {

namespace net = boost::asio;
using boost::system::error_code;

namespace {

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
                             self->serve(StreamSocket<Protocol>(std::move(socket)));
                             self->accept();
                           });
  }

  void serve(StreamSocket<Protocol> socket) {
    if (core_->overloaded()) {
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
    serve_http<Protocol>(core_, std::move(socket), require_token_);
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

Result<void> Server::Impl::listen_unix(const std::string& path) {
  TRY_VOID(check_unix_socket_path(path));
  struct stat st {};
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return make_error(
          fmt::format("{}: exists and is not a socket; refusing to replace it", path));
    }
    if (unix_socket_live(path)) {
      return make_error(fmt::format("{}: another server is listening on this socket", path));
    }
    unlink(path.c_str());  // stale: left by a process that is gone
  }
  using Local = net::local::stream_protocol;
  net::basic_socket_acceptor<Local, net::any_io_executor> acceptor(net::make_strand(ioc));
  const int fd = TRY(vessel::listen_unix(path, net::socket_base::max_listen_connections));
  if (error_code ec; acceptor.assign(Local(), fd, ec), ec) {
    close(fd);
    unlink(path.c_str());
    return make_error(fmt::format("{}: cannot listen: {}", path, sys_error(ec)));
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
      pthread_setname_np(pthread_self(), "vessel-api");
      enter_thread_role(ThreadRole::kApi);
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
    core.all_closed.wait_for(lock, std::chrono::seconds(5), [&] { return core.connections == 0; });
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
