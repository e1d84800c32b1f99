#include "host/terminal.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <pthread.h>
#include <termios.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <mutex>
#include <string>
#include <vector>

#include "base/thread_role.hpp"

namespace vessel {

namespace {

// While the flow-control predicate says "not now", look again this often.
constexpr int kFlowControlPollMs = 10;

// Signals that end the process. Crash signals are chained to whatever handler was there
// before (e.g. a sanitizer's) once the terminal is back in its original state.
constexpr int kFatalSignals[] = {SIGTERM, SIGHUP, SIGQUIT, SIGINT, SIGSEGV,
                                 SIGBUS,  SIGILL, SIGFPE,  SIGABRT};
constexpr size_t kNumFatalSignals = std::size(kFatalSignals);

// What the signal handlers and atexit need, kept outside any object: a handler may run at any
// time on any thread. Only one terminal is in raw mode at a time.
std::atomic<int> g_tty_fd{-1};  // -1: nothing to restore
termios g_tty_original{};
struct sigaction g_old_actions[kNumFatalSignals];
bool g_handler_installed[kNumFatalSignals];
std::once_flag g_atexit_once;

// Async-signal-safe: tcsetattr is on POSIX's list, and exchange keeps it to one restore.
void restore_tty() {
  const int fd = g_tty_fd.exchange(-1, std::memory_order_acq_rel);
  if (fd >= 0) tcsetattr(fd, TCSANOW, &g_tty_original);
}

void on_fatal_signal(int sig, siginfo_t* info, void* /*context*/) {
  const int saved_errno = errno;
  restore_tty();
  for (size_t i = 0; i < kNumFatalSignals; ++i) {
    if (kFatalSignals[i] == sig && g_handler_installed[i]) {
      sigaction(sig, &g_old_actions[i], nullptr);
    }
  }
  // A hardware fault recurs when the faulting instruction re-executes, this time reaching the
  // previous handler with the real context; anything else is sent again (delivered once this
  // handler returns and unblocks it).
  const bool fault = (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE) &&
                     info != nullptr && info->si_code > 0;
  if (!fault) raise(sig);
  errno = saved_errno;
}

void install_signal_handlers() {
  for (size_t i = 0; i < kNumFatalSignals; ++i) {
    struct sigaction old {};
    if (sigaction(kFatalSignals[i], nullptr, &old) != 0) continue;
    // An ignored signal does not end the process: nothing to restore for it.
    if ((old.sa_flags & SA_SIGINFO) == 0 && old.sa_handler == SIG_IGN) continue;
    struct sigaction sa {};
    sa.sa_sigaction = on_fatal_signal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    g_old_actions[i] = old;
    if (sigaction(kFatalSignals[i], &sa, nullptr) == 0) g_handler_installed[i] = true;
  }
}

void uninstall_signal_handlers() {
  for (size_t i = 0; i < kNumFatalSignals; ++i) {
    if (!g_handler_installed[i]) continue;
    g_handler_installed[i] = false;
    // Someone may have installed their own handler since; leave theirs in place.
    struct sigaction current {};
    if (sigaction(kFatalSignals[i], nullptr, &current) != 0) continue;
    if ((current.sa_flags & SA_SIGINFO) == 0 || current.sa_sigaction != on_fatal_signal) continue;
    sigaction(kFatalSignals[i], &g_old_actions[i], nullptr);
  }
}

termios make_raw(termios t) {
  t.c_iflag &=
      ~static_cast<tcflag_t>(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
  t.c_oflag &= ~static_cast<tcflag_t>(OPOST);
  t.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
  t.c_cflag &= ~static_cast<tcflag_t>(CSIZE | PARENB);
  t.c_cflag |= CS8;
  t.c_cc[VMIN] = 1;
  t.c_cc[VTIME] = 0;
  return t;
}

}  // namespace

Terminal::Terminal(int in_fd, int out_fd, int err_fd)
    : in_fd_(in_fd), out_fd_(out_fd), err_fd_(err_fd) {}

Terminal::~Terminal() {
  stop();
  // Only possible if destroyed from its own input thread, which the contract forbids.
  if (thread_.joinable()) thread_.detach();
}

Result<void> Terminal::start(InputFn on_input, QuitFn on_quit, ReadyFn ready) {
  if (thread_.joinable()) return make_error("terminal: already started");
  on_input_ = std::move(on_input);
  on_quit_ = std::move(on_quit);
  ready_ = std::move(ready);
  escape_pending_ = false;
  in_monitor_ = false;
  monitor_line_.clear();

  if (isatty(in_fd_) == 1) {
    termios original{};
    if (tcgetattr(in_fd_, &original) != 0) {
      return make_error("terminal: cannot read settings: " + errno_text());
    }
    if (g_tty_fd.load(std::memory_order_acquire) >= 0) {
      return make_error("terminal: another terminal is already in raw mode");
    }
    g_tty_original = original;
    g_tty_fd.store(in_fd_, std::memory_order_release);
    std::call_once(g_atexit_once, [] { std::atexit(restore_tty); });
    install_signal_handlers();
    const termios raw = make_raw(original);
    if (tcsetattr(in_fd_, TCSANOW, &raw) != 0) {
      const std::string why = errno_text();
      restore_tty();
      uninstall_signal_handlers();
      return make_error("terminal: cannot enter raw mode: " + why);
    }
    raw_ = true;
  }

  int fds[2];
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    const std::string why = errno_text();
    stop();
    return make_error("terminal: cannot create wake-up pipe: " + why);
  }
  wake_read_ = fds[0];
  wake_write_ = fds[1];
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "vessel-tty");
    enter_thread_role(ThreadRole::kConsole);
    input_loop();
  });
  return {};
}

void Terminal::stop() {
  if (thread_.joinable() && std::this_thread::get_id() != thread_.get_id()) {
    const uint8_t wake = 1;
    if (::write(wake_write_, &wake, 1) < 0) {
      // The pipe is non-blocking; a full pipe already holds a wake-up.
    }
    thread_.join();
  }
  if (!thread_.joinable()) {
    if (wake_read_ >= 0) ::close(wake_read_);
    if (wake_write_ >= 0) ::close(wake_write_);
    wake_read_ = wake_write_ = -1;
  }
  if (raw_) {
    restore_tty();
    uninstall_signal_handlers();
    raw_ = false;
  }
}

void Terminal::input_loop() {
  uint8_t buf[256];
  for (;;) {
    const bool ready = !ready_ || ready_();
    pollfd fds[2] = {{wake_read_, POLLIN, 0}, {in_fd_, POLLIN, 0}};
    const int rc = ::poll(fds, ready ? 2 : 1, ready ? -1 : kFlowControlPollMs);
    if (rc < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[0].revents != 0) return;  // stop()
    if (!ready || fds[1].revents == 0) continue;
    if ((fds[1].revents & POLLNVAL) != 0) return;
    const ssize_t n = ::read(in_fd_, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return;  // e.g. EIO once a pty's other side is gone: same as end of input
    }
    // End of input: stop reading; the machine keeps running without a keyboard.
    if (n == 0) return;
    if (!process(buf, static_cast<size_t>(n))) return;
  }
}

bool Terminal::process(const uint8_t* data, size_t len) {
  std::vector<uint8_t> out;
  out.reserve(len);
  const std::function<void()> flush = [&] {
    if (!out.empty() && on_input_) on_input_(out.data(), out.size());
    out.clear();
  };
  for (size_t i = 0; i < len; ++i) {
    const uint8_t b = data[i];
    if (escape_pending_) {
      escape_pending_ = false;
      if (b == kEscape && !in_monitor_) {
        out.push_back(kEscape);
      } else if (!escape_command(b, flush)) {
        return false;
      }
    } else if (b == kEscape) {
      escape_pending_ = true;
    } else if (in_monitor_) {
      if (!monitor_key(b)) {
        flush();
        if (on_quit_) on_quit_();
        return false;
      }
    } else {
      out.push_back(b);
    }
  }
  flush();
  return true;
}

bool Terminal::escape_command(uint8_t key, const std::function<void()>& flush) {
  switch (key) {
    case 'x':
      flush();
      if (on_quit_) on_quit_();
      return false;
    case 'h':
    case '?': print_help(); break;
    case 'c':
      if (!controls_.monitor) break;
      in_monitor_ = !in_monitor_;
      monitor_line_.clear();
      say(in_monitor_ ? "\r\nvessel monitor: info status, stop, cont, quit, info balloon, balloon "
                        "MIB (C-a c: back to the "
                        "guest)\r\n(vessel) "
                      : "\r\nvessel: back to the guest\r\n");
      break;
    case 'b':
      if (!controls_.send_break) break;
      flush();  // what was typed before it reaches the guest first
      controls_.send_break();
      break;
    case 's':  // QEMU's "save disk data back to file (if -snapshot)"
      if (!controls_.monitor) break;
      flush();
      say("\r\nvessel: " + crlf(controls_.monitor("commit all")) + "\r\n");
      break;
    case 't':
      if (!controls_.toggle_timestamps) break;
      say(controls_.toggle_timestamps() ? "\r\nvessel: timestamps on\r\n"
                                        : "\r\nvessel: timestamps off\r\n");
      break;
    default: break;  // unknown command: the key is swallowed, as in QEMU
  }
  return true;
}

bool Terminal::monitor_key(uint8_t key) {
  if (key == '\r' || key == '\n') {
    const std::string line = monitor_line_;
    monitor_line_.clear();
    // "\r\n" from a terminal and "\n" from a pipe alike end one line, never two.
    if (line.empty() && key == '\n') return true;
    if (line == "quit" || line == "q") {
      say("\r\n");
      return false;
    }
    const std::string reply = line.empty() ? "" : crlf(controls_.monitor(line));
    say("\r\n" + reply + (reply.empty() ? "" : "\r\n") + "(vessel) ");
  } else if (key == 0x7f || key == '\b') {
    if (!monitor_line_.empty()) {
      monitor_line_.pop_back();
      say("\b \b");
    }
  } else if (key >= 0x20 && key < 0x7f && monitor_line_.size() < 256) {
    monitor_line_ += static_cast<char>(key);
    say(std::string(1, static_cast<char>(key)));
  }
  return true;
}

// "\r\n" for every line break: the terminal may be in raw mode.
std::string Terminal::crlf(std::string text) {
  for (size_t at = 0; (at = text.find('\n', at)) != std::string::npos; at += 2) {
    text.replace(at, 1, "\r\n");
  }
  return text;
}

void Terminal::say(const std::string& text) const {
  write_all(err_fd_, reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

void Terminal::print_help() const {
  // "\r\n": the terminal may be in raw mode, where "\n" alone does not return the carriage.
  std::string help = fmt::format(
      "\r\nvessel console escapes:\r\n"
      "  C-a h    show this help\r\n"
      "  C-a x    {}\r\n",
      quit_label_);
  if (controls_.monitor) {
    help += "  C-a c    switch between the guest and the monitor\r\n";
    help += "  C-a s    write --snapshot disks back to their image files\r\n";
  }
  if (controls_.toggle_timestamps) help += "  C-a t    toggle timestamps on the output\r\n";
  if (controls_.send_break)
    help += "  C-a b    send a break (with Linux: the next key is SysRq)\r\n";
  help += "  C-a C-a  send C-a to the guest\r\n";
  say(help);
}

void Terminal::write(const uint8_t* data, size_t len) const { write_all(out_fd_, data, len); }

bool Terminal::write_all(int fd, const uint8_t* data, size_t len) {
  while (len > 0) {
    const ssize_t n = ::write(fd, data, len);
    if (n > 0) {
      data += n;
      len -= static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // Someone made the descriptor non-blocking (a shared tty often is): wait for room.
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, -1) < 0 && errno != EINTR) return false;
      continue;
    }
    return false;  // EPIPE, EBADF, ...: the output is gone; drop rather than spin
  }
  return true;
}

}  // namespace vessel
