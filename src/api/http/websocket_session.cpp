#include "api/http/websocket_session.hpp"

#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <deque>
#include <exception>
#include <optional>

#include "base/log.hpp"

namespace vessel::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bws = boost::beast::websocket;
using boost::system::error_code;

namespace {

template <class Protocol>
class WebSocketSession : public Core::Closable,
                         public Counted,
                         public std::enable_shared_from_this<WebSocketSession<Protocol>> {
 public:
  using Socket = StreamSocket<Protocol>;

  WebSocketSession(std::shared_ptr<Core> core, Socket socket, WebSocketCallbacks callbacks,
                   BusySlot busy)
      : Counted(std::move(core)),
        ws_(std::move(socket)),
        callbacks_(std::move(callbacks)),
        busy_(std::move(busy)) {}

  void run(UpgradeRequest request) {
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
    busy_.reset();
  }

  bws::stream<Socket> ws_;
  WebSocketCallbacks callbacks_;
  std::optional<BusySlot> busy_;
  UpgradeRequest request_;
  beast::flat_buffer in_;
  std::deque<std::vector<uint8_t>> out_;
  size_t queued_ = 0;
  bool accepted_ = false, writing_ = false, ended_ = false;
};

}  // namespace

void WebSocketHandle::attach(SendFn send, CloseFn close) {
  std::lock_guard lock(mu_);
  send_ = std::move(send);
  close_ = std::move(close);
  for (auto& frame : pending_) send_(std::move(frame));
  pending_.clear();
  if (close_requested_) close_();
}

void WebSocketHandle::detach() {
  std::lock_guard lock(mu_);
  send_ = nullptr;
  close_ = nullptr;
  detached_ = true;
  pending_.clear();
  pending_bytes_ = 0;
}

void WebSocketHandle::send(std::span<const uint8_t> bytes) {
  std::lock_guard lock(mu_);
  std::vector<uint8_t> frame(bytes.begin(), bytes.end());
  if (send_) {
    send_(std::move(frame));
  } else if (!detached_ && pending_bytes_ + frame.size() <= kWebSocketQueueLimit) {
    pending_bytes_ += frame.size();
    pending_.push_back(std::move(frame));
  }
}

void WebSocketHandle::close() {
  std::lock_guard lock(mu_);
  if (close_) {
    close_();
  } else {
    close_requested_ = true;
  }
}

template <class Protocol>
void start_websocket(const std::shared_ptr<Core>& core, StreamSocket<Protocol> socket,
                     WebSocketCallbacks callbacks, const std::shared_ptr<WebSocketHandle>& handle,
                     UpgradeRequest request, BusySlot busy) {
  auto session = std::make_shared<WebSocketSession<Protocol>>(
      core, std::move(socket), std::move(callbacks), std::move(busy));
  if (!core->admit(session)) return;
  std::weak_ptr<WebSocketSession<Protocol>> weak = session;
  handle->attach(
      [weak](std::vector<uint8_t> b) {
        if (auto s = weak.lock()) s->post_send(std::move(b));
      },
      [weak] {
        if (auto s = weak.lock()) s->post_close();
      });
  session->run(std::move(request));
}

template void start_websocket<net::local::stream_protocol>(
    const std::shared_ptr<Core>&, StreamSocket<net::local::stream_protocol>, WebSocketCallbacks,
    const std::shared_ptr<WebSocketHandle>&, UpgradeRequest, BusySlot);
template void start_websocket<net::ip::tcp>(const std::shared_ptr<Core>&,
                                            StreamSocket<net::ip::tcp>, WebSocketCallbacks,
                                            const std::shared_ptr<WebSocketHandle>&, UpgradeRequest,
                                            BusySlot);

}  // namespace vessel::http
