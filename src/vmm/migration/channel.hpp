// One migration connection (TCP or a Unix socket) carrying the stream of stream.hpp: frames
// sent and received whole, every wait bounded, and errors that say what happened to the link
// (refused, closed by the peer, silent for too long).
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "vmm/migration/stream.hpp"

namespace vessel::migration {

// How long a send or a receive may make no progress before the link counts as dead.
inline constexpr auto kLinkTimeout = std::chrono::seconds(10);

// "tcp:HOST:PORT", "unix:PATH", or "HOST:PORT" (TCP): checked, one line when wrong.
struct Address {
  bool unix_socket = false;
  std::string host;  // TCP
  uint16_t port = 0;
  std::string path;  // unix
  std::string text;  // as given, for messages
};
Result<Address> parse_address(const std::string& text);

struct Frame {
  FrameHeader header;
  std::vector<uint8_t> payload;
};

class Channel {
 public:
  static Result<Channel> connect(const Address& to);
  explicit Channel(int fd, std::string peer);
  ~Channel();
  Channel(Channel&& other) noexcept;
  Channel& operator=(Channel&& other) noexcept;
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  void set_timeout(std::chrono::milliseconds timeout);
  Result<void> send_preamble();
  Result<void> receive_preamble();
  // One frame whose payload is `parts` in order.
  Result<void> send(FrameType type, std::initializer_list<std::span<const uint8_t>> parts = {});
  // The next frame, its header and CRC checked.
  Result<Frame> receive();
  // Whether the peer has sent something (an ERROR, say) that waits to be received.
  bool readable() const;
  // Ends a connection whose peer may still be sending: no more is sent, what arrives for up
  // to `linger` is read and dropped, so that the peer reads what was sent last (an ERROR)
  // instead of a reset.
  void close_gently(std::chrono::milliseconds linger);
  uint64_t bytes_sent() const { return sent_; }
  uint64_t bytes_received() const { return received_; }
  const std::string& peer() const { return peer_; }
  int fd() const { return fd_; }

 private:
  Result<void> write_all(std::span<const uint8_t> data);
  Result<void> read_all(std::span<uint8_t> data);
  int fd_ = -1;
  std::string peer_;
  uint64_t sent_ = 0, received_ = 0;
};

class Listener {
 public:
  static Result<Listener> listen(const Address& at);
  ~Listener();
  Listener(Listener&& other) noexcept;
  Listener& operator=(Listener&& other) noexcept;
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // The next connection; an error after `timeout` (zero: wait for ever).
  Result<Channel> accept(std::chrono::milliseconds timeout = std::chrono::milliseconds(0));
  // The TCP port bound (useful after port 0).
  uint16_t port() const { return port_; }

 private:
  Listener() = default;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::string unix_path_;  // removed again when the listener closes
  std::string text_;
};

}  // namespace vessel::migration
