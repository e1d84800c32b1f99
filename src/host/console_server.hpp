// The serial console on a Unix socket, for any number of viewers at once (up to a cap).
//
// Every connected client receives the guest's output from the moment it connected; bytes from
// any client are guest input. The server has its own I/O thread (not the machine's), so it
// outlives the machines of one run: viewers stay connected across a guest reboot.
//
// The guest never waits for a viewer: write() only appends to a buffer that the I/O thread
// hands out. Each client has a bounded queue of output it has not taken yet; a client whose
// queue overflows is disconnected rather than losing its oldest bytes, because a console
// stream with a silent hole in it misleads (a missing line, half an escape sequence leaving
// the viewer's terminal in a strange state), while a disconnect is visible: the viewer can
// reconnect and read what it missed from the console log.
//
// Input respects the receiver's flow control: while ready() is false no client is read (the
// bytes wait in the socket buffers, and the clients' own writes block), so nothing is dropped.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/event_loop.hpp"
#include "base/result.hpp"

namespace vessel {

class ConsoleServer {
 public:
  using InputFn = std::function<void(const uint8_t* data, size_t len)>;
  using ReadyFn = std::function<bool()>;

  struct Limits {
    size_t max_clients = 16;
    // Output queued for one client beyond what its socket buffer holds; past this, it is cut off.
    size_t client_buffer = 1 << 20;
    // Guest output not yet handed to the clients (the I/O thread fell behind); past this the
    // newest bytes are dropped and counted.
    size_t pending = 1 << 20;
  };

  // Checks PATH without changing anything: it fits in sun_path, its directory exists, and
  // nothing but a stale socket is there. Errors name the path and the problem.
  static Result<void> check_path(const std::string& path);
  // Creates the socket (mode 0600, replacing a stale one) and starts serving. `input` and
  // `ready` are called on the server's I/O thread.
  static Result<std::unique_ptr<ConsoleServer>> listen(const std::string& path, InputFn input,
                                                       ReadyFn ready, Limits limits);
  static Result<std::unique_ptr<ConsoleServer>> listen(const std::string& path, InputFn input,
                                                       ReadyFn ready) {
    return listen(path, std::move(input), std::move(ready), Limits{});
  }
  // Hands out the output written so far, disconnects everyone and removes the socket.
  ~ConsoleServer();
  ConsoleServer(const ConsoleServer&) = delete;
  ConsoleServer& operator=(const ConsoleServer&) = delete;

  // Guest output, from any thread; never waits for a client.
  void write(const uint8_t* data, size_t len);
  // Returns once the output written before the call has been handed to the clients and the
  // connections made before it have been accepted.
  void sync();

  const std::string& path() const { return path_; }
  // Clients receiving output now.
  size_t clients() const { return viewers_.load(std::memory_order_acquire); }
  // Clients cut off because their queue overflowed.
  uint64_t overflowed_clients() const { return overflowed_.load(std::memory_order_relaxed); }
  // Clients turned away at the cap.
  uint64_t refused_clients() const { return refused_.load(std::memory_order_relaxed); }
  uint64_t dropped_output() const;

 private:
  struct Client {
    int fd = -1;
    std::vector<uint8_t> out;  // queued output, from out_head on
    size_t out_head = 0;
    uint32_t events = 0;     // what epoll watches for now
    bool input_eof = false;  // the client shut its sending side; it still gets output
    bool hung_up = false;    // gone, unread input left while input was paused; out of epoll
    size_t queued() const { return out.size() - out_head; }
  };
  enum class ReadEnd { kAgain, kPaused, kEof, kError };

  ConsoleServer(std::string path, int listen_fd, dev_t dev, ino_t ino, InputFn input, ReadyFn ready,
                Limits limits);
  void on_accept();
  void on_client(int fd, uint32_t events);
  ReadEnd read_input(Client& c);
  bool send_queued(Client& c);
  void flush_output();
  void update_events(Client& c);
  void pause_input();
  void on_resume_timer();
  void drop(int fd);
  void count_viewers();

  std::string path_;
  int listen_fd_;
  dev_t dev_;  // the socket file we made, so that only it is removed at the end
  ino_t ino_;
  InputFn input_;
  ReadyFn ready_;
  Limits limits_;
  EventLoop loop_;

  mutable std::mutex mu_;  // guards the three below
  std::vector<uint8_t> pending_;
  bool flush_posted_ = false;
  uint64_t dropped_output_ = 0;

  // I/O thread only.
  std::map<int, Client> clients_;
  bool reading_ = true;
  EventLoop::TimerId resume_timer_ = 0;

  std::atomic<size_t> viewers_{0};
  std::atomic<uint64_t> overflowed_{0};
  std::atomic<uint64_t> refused_{0};
};

}  // namespace vessel
