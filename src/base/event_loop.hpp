// An I/O thread: epoll over file descriptors, tasks posted from other threads, and timers.
// Devices do their host I/O here so that a vCPU never waits on host I/O it does not need.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "base/result.hpp"
#include "base/thread_role.hpp"

namespace vessel {

class EventLoop {
 public:
  using Callback = std::function<void(uint32_t epoll_events)>;
  using Task = std::function<void()>;
  using TimerId = uint64_t;

  EventLoop();
  ~EventLoop();  // stops and joins the thread
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // The thread enters `role` (base/thread_role.hpp) before it runs anything.
  Result<void> start(const char* thread_name = "vessel-io", ThreadRole role = ThreadRole::kIo);
  void stop();

  // Thread-safe. fd callbacks run on the loop thread with the epoll event bits.
  Result<void> add_fd(int fd, uint32_t epoll_events, Callback cb);
  Result<void> modify_fd(int fd, uint32_t epoll_events);
  void remove_fd(int fd);
  // Run `task` on the loop thread soon (FIFO). Safe from any thread, including the loop's.
  void post(Task task);
  // One-shot timer; returns an id for cancel_timer. Runs on the loop thread.
  TimerId add_timer(std::chrono::steady_clock::duration after, Task task);
  void cancel_timer(TimerId id);
  // Blocks until every task posted before this call has run (for reset paths and tests).
  void drain();
  bool on_loop_thread() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vessel
