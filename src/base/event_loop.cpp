#include "base/event_loop.hpp"

#include <fmt/format.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include "base/thread_role.hpp"

namespace vessel {

// Threading rules: `mu` guards the task queue, the fd callbacks and the timers. Callbacks,
// tasks and timers always run on the loop thread with `mu` released, so they may call any
// method here (add/remove fds, post, add/cancel timers). A callback removed from another
// thread may still be running when remove_fd returns; remove on the loop thread (or post the
// removal) when that matters.
struct EventLoop::Impl {
  using Clock = std::chrono::steady_clock;

  int epfd = -1;
  int wakefd = -1;   // eventfd: post(), add_timer() and stop() wake epoll_wait
  int timerfd = -1;  // armed for the earliest timer deadline
  std::string setup_error;

  std::thread thread;
  // Set by the thread itself, so that on_loop_thread() is right from its first instruction
  // (the std::thread object is still being assigned in start() then).
  std::atomic<std::thread::id> loop_id{};
  std::atomic<bool> stopping{false};

  std::mutex mu;
  std::condition_variable drained;
  bool running = false;
  std::deque<Task> tasks;
  uint64_t posted = 0;    // tasks ever posted
  uint64_t finished = 0;  // tasks ever run; FIFO order makes this a watermark for drain()
  std::map<int, std::shared_ptr<Callback>> fds;
  struct Timer {
    Clock::time_point deadline;
    Task task;
  };
  std::map<TimerId, Timer> timers;
  std::set<std::pair<Clock::time_point, TimerId>> deadlines;
  TimerId next_timer = 1;
  Clock::time_point armed = Clock::time_point::max();

  Impl() {
    epfd = epoll_create1(EPOLL_CLOEXEC);
    wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (epfd < 0 || wakefd < 0 || timerfd < 0) {
      setup_error =
          fmt::format("event loop: cannot create epoll/eventfd/timerfd: {}", std::strerror(errno));
      return;
    }
    for (int fd : {wakefd, timerfd}) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.fd = fd;
      if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        setup_error = fmt::format("event loop: epoll_ctl: {}", std::strerror(errno));
      }
    }
  }

  ~Impl() {
    for (int fd : {epfd, wakefd, timerfd}) {
      if (fd >= 0) close(fd);
    }
  }

  void wake() const {
    const uint64_t one = 1;
    // EAGAIN means the counter is already nonzero: the loop is awake anyway.
    [[maybe_unused]] const ssize_t n = write(wakefd, &one, sizeof one);
  }

  static void consume(int fd) {
    uint64_t count;
    [[maybe_unused]] const ssize_t n = read(fd, &count, sizeof count);
  }

  // Arm the timerfd for the earliest deadline (caller holds mu).
  void rearm() {
    const Clock::time_point next =
        deadlines.empty() ? Clock::time_point::max() : deadlines.begin()->first;
    if (next == armed) return;
    armed = next;
    itimerspec spec{};
    if (next != Clock::time_point::max()) {
      // steady_clock is CLOCK_MONOTONIC on Linux, so its epoch is the timerfd's.
      auto ns =
          std::chrono::duration_cast<std::chrono::nanoseconds>(next.time_since_epoch()).count();
      if (ns <= 0) ns = 1;  // zero would disarm
      spec.it_value.tv_sec = static_cast<time_t>(ns / 1000000000);
      spec.it_value.tv_nsec = static_cast<long>(ns % 1000000000);
    }
    timerfd_settime(timerfd, TFD_TIMER_ABSTIME, &spec, nullptr);
  }

  // Runs the tasks queued when the round starts; ones they post wait for the next round, so
  // that a task re-posting itself cannot starve the fds. Tasks are taken one at a time, which
  // lets a task's drain() run the rest of the round inline, still in FIFO order.
  void run_tasks() {
    size_t round;
    {
      std::lock_guard<std::mutex> lock(mu);
      round = tasks.size();
    }
    while (round-- > 0) {
      Task task;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (tasks.empty()) return;
        task = std::move(tasks.front());
        tasks.pop_front();
      }
      task();
      std::lock_guard<std::mutex> lock(mu);
      ++finished;
      drained.notify_all();
    }
  }

  void run_timers() {
    for (;;) {
      Task task;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (deadlines.empty() || deadlines.begin()->first > Clock::now()) {
          rearm();
          return;
        }
        const TimerId id = deadlines.begin()->second;
        deadlines.erase(deadlines.begin());
        auto it = timers.find(id);
        task = std::move(it->second.task);
        timers.erase(it);
      }
      task();
    }
  }

  void dispatch(int fd, uint32_t events) {
    std::shared_ptr<Callback> cb;
    {
      std::lock_guard<std::mutex> lock(mu);
      auto it = fds.find(fd);
      if (it == fds.end()) return;  // removed by an earlier callback of this round
      cb = it->second;
    }
    (*cb)(events);
  }

  void loop() {
    constexpr int kMaxEvents = 32;
    epoll_event events[kMaxEvents];
    while (!stopping.load(std::memory_order_acquire)) {
      const int n = epoll_wait(epfd, events, kMaxEvents, -1);
      if (n < 0) {
        if (errno == EINTR) continue;
        break;
      }
      for (int i = 0; i < n; ++i) {
        const int fd = events[i].data.fd;
        if (fd == wakefd) {
          consume(wakefd);
        } else if (fd == timerfd) {
          consume(timerfd);
        } else {
          dispatch(fd, events[i].events);
        }
      }
      // Timers are checked every round, whatever woke us: add_timer wakes via wakefd so
      // that the timerfd is re-armed for a new earliest deadline.
      run_timers();
      run_tasks();
    }
    std::lock_guard<std::mutex> lock(mu);
    running = false;
    drained.notify_all();
  }
};

EventLoop::EventLoop() : impl_(std::make_unique<Impl>()) {}

EventLoop::~EventLoop() { stop(); }

Result<void> EventLoop::start(const char* thread_name, ThreadRole role) {
  if (!impl_->setup_error.empty()) return make_error(impl_->setup_error);
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (impl_->running || impl_->thread.joinable()) {
      return make_error("event loop: already started");
    }
    impl_->running = true;
  }
  impl_->stopping.store(false, std::memory_order_release);
  const std::string name = thread_name != nullptr ? thread_name : "vessel-io";
  impl_->thread = std::thread([this, name, role] {
    // Linux limits thread names to 15 characters.
    impl_->loop_id.store(std::this_thread::get_id(), std::memory_order_release);
    pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
    enter_thread_role(role);
    impl_->loop();
  });
  return {};
}

void EventLoop::stop() {
  impl_->stopping.store(true, std::memory_order_release);
  impl_->wake();
  // From the loop thread itself: the loop ends after this round; the owner joins later.
  if (impl_->thread.joinable() && !on_loop_thread()) {
    impl_->thread.join();
    impl_->loop_id.store(std::thread::id{}, std::memory_order_release);  // ids get reused
  }
}

Result<void> EventLoop::add_fd(int fd, uint32_t epoll_events, Callback cb) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (impl_->fds.count(fd) != 0)
    return make_error(fmt::format("event loop: fd {} already added", fd));
  epoll_event ev{};
  ev.events = epoll_events;
  ev.data.fd = fd;
  if (epoll_ctl(impl_->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
    return make_error(fmt::format("event loop: cannot watch fd {}: {}", fd, std::strerror(errno)));
  }
  impl_->fds.emplace(fd, std::make_shared<Callback>(std::move(cb)));
  return {};
}

Result<void> EventLoop::modify_fd(int fd, uint32_t epoll_events) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (impl_->fds.count(fd) == 0) return make_error(fmt::format("event loop: fd {} not added", fd));
  epoll_event ev{};
  ev.events = epoll_events;
  ev.data.fd = fd;
  if (epoll_ctl(impl_->epfd, EPOLL_CTL_MOD, fd, &ev) != 0) {
    return make_error(fmt::format("event loop: cannot modify fd {}: {}", fd, std::strerror(errno)));
  }
  return {};
}

void EventLoop::remove_fd(int fd) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (impl_->fds.erase(fd) == 0) return;
  epoll_ctl(impl_->epfd, EPOLL_CTL_DEL, fd, nullptr);
}

void EventLoop::post(Task task) {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->tasks.push_back(std::move(task));
    ++impl_->posted;
  }
  impl_->wake();
}

EventLoop::TimerId EventLoop::add_timer(std::chrono::steady_clock::duration after, Task task) {
  TimerId id;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    id = impl_->next_timer++;
    const auto deadline = Impl::Clock::now() + after;
    impl_->timers.emplace(id, Impl::Timer{deadline, std::move(task)});
    impl_->deadlines.emplace(deadline, id);
  }
  impl_->wake();  // the loop re-arms the timerfd for the new earliest deadline
  return id;
}

void EventLoop::cancel_timer(TimerId id) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto it = impl_->timers.find(id);
  if (it == impl_->timers.end()) return;  // already ran, or never existed
  impl_->deadlines.erase({it->second.deadline, id});
  impl_->timers.erase(it);
}

void EventLoop::drain() {
  if (on_loop_thread()) {
    // Waiting here would wait for ourselves: run what is queued now, inline.
    impl_->run_tasks();
    return;
  }
  std::unique_lock<std::mutex> lock(impl_->mu);
  if (!impl_->running) {
    // No loop thread to run them: run them here, so drain() keeps its promise.
    lock.unlock();
    impl_->run_tasks();
    return;
  }
  const uint64_t target = impl_->posted;
  impl_->drained.wait(lock, [&] { return impl_->finished >= target || !impl_->running; });
}

bool EventLoop::on_loop_thread() const {
  return impl_->loop_id.load(std::memory_order_acquire) == std::this_thread::get_id();
}

}  // namespace vessel
