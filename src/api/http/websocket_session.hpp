// WebSocket connections of the server; internal to it (server.cpp, http_session.cpp).
#pragma once

// Before Boost 1.74's asio, whose awaitable.hpp uses std::exchange without including it.
#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "api/http/router.hpp"
#include "api/http/server_core.hpp"

namespace vessel::http {

// Bytes a WebSocket may have waiting to go out before new frames are dropped.
inline constexpr size_t kWebSocketQueueLimit = 1 << 20;

// What a handler holds: frames sent before the session exists wait here.
class WebSocketHandle : public WebSocket {
 public:
  using SendFn = std::function<void(std::vector<uint8_t>)>;
  using CloseFn = std::function<void()>;

  WebSocketHandle() = default;

  void attach(SendFn send, CloseFn close);
  void detach();

  void send(std::span<const uint8_t> bytes) override;
  void close() override;

 private:
  std::mutex mu_;  // held while posting: detach() waits for a send in progress
  SendFn send_;
  CloseFn close_;
  std::vector<std::vector<uint8_t>> pending_;
  size_t pending_bytes_ = 0;
  bool detached_ = false, close_requested_ = false;
};

template <class Protocol>
using StreamSocket = boost::asio::basic_stream_socket<Protocol, boost::asio::any_io_executor>;
using UpgradeRequest = boost::beast::http::request<boost::beast::http::string_body>;

// Answers the upgrade `request` on `socket` and runs the WebSocket: frames in go to
// `callbacks`, frames `handle` is given go out. It is one of the server's connections, holding
// the upgrade request's busy slot, until it ends. Defined for Unix and TCP sockets.
template <class Protocol>
void start_websocket(const std::shared_ptr<Core>& core, StreamSocket<Protocol> socket,
                     WebSocketCallbacks callbacks, const std::shared_ptr<WebSocketHandle>& handle,
                     UpgradeRequest request, BusySlot busy);

}  // namespace vessel::http
