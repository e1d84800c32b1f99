// A character device on a Unix socket: the far end of a virtio console. Vessel listens on
// PATH; one client at a time is connected; what the guest writes goes to that client (and is
// dropped while none is connected, as on a serial line with nobody listening), what the client
// sends goes to the guest. All socket I/O runs on the VM's event loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "base/event_loop.hpp"
#include "base/result.hpp"

namespace vessel {

class SocketChardev {
 public:
  using InputFn = std::function<void(const uint8_t* data, size_t len)>;

  // Creates and binds the socket (refusing to replace anything but a stale socket at PATH).
  static Result<std::unique_ptr<SocketChardev>> listen(const std::string& path, EventLoop& loop);
  ~SocketChardev();

  void set_input(InputFn fn);
  // Any thread: bytes for the client.
  void write(const uint8_t* data, size_t len);
  const std::string& path() const { return path_; }

 private:
  SocketChardev(std::string path, int listen_fd, EventLoop& loop);
  void on_accept();
  void on_client(uint32_t events);
  void drop_client();

  std::string path_;
  int listen_fd_ = -1;
  int client_fd_ = -1;  // loop thread only
  EventLoop& loop_;
  std::mutex mu_;
  InputFn input_;
};

}  // namespace vessel
