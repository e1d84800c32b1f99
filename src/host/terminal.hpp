// The host side of the guest console: stdin to the UART, UART to stdout.
//
// When the input is a terminal it is put in raw mode (no echo, no line editing, no signals,
// no output processing: the guest sends "\r\n" itself), and the original settings come back
// on every way out: stop()/destructor, exit() (atexit) and fatal signals. Input works the same
// from a pipe or /dev/null; at end of input reading stops and the machine keeps running.
//
// QEMU's escape is understood in both cases: Ctrl-A x quits, Ctrl-A h prints help on stderr,
// Ctrl-A Ctrl-A sends one Ctrl-A; other keys after Ctrl-A are dropped. Where the owner gives
// the means (set_controls), Ctrl-A c switches between the guest and a small monitor that
// reads command lines on the same input and answers on stderr, and Ctrl-A t toggles
// timestamps on the guest's output.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "base/result.hpp"

namespace vessel {

class Terminal {
 public:
  using InputFn = std::function<void(const uint8_t* data, size_t len)>;
  using QuitFn = std::function<void()>;
  // Flow control: while it returns false the input thread leaves bytes unread in the host
  // pipe or tty buffer (the UART's wants_input()).
  using ReadyFn = std::function<bool()>;

  static constexpr uint8_t kEscape = 0x01;  // Ctrl-A

  explicit Terminal(int in_fd = STDIN_FILENO, int out_fd = STDOUT_FILENO,
                    int err_fd = STDERR_FILENO);
  ~Terminal();
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;

  // Enter raw mode (if the input is a tty) and start the input thread. Callbacks run on the
  // input thread; on_quit must not call stop() (it may ask another thread to).
  Result<void> start(InputFn on_input, QuitFn on_quit, ReadyFn ready = {});
  // What Ctrl-A x does, as the help (Ctrl-A h) names it: "quit" unless set before start().
  void set_quit_label(std::string label) { quit_label_ = std::move(label); }
  // The owner's side of Ctrl-A c, t and b, set before start(); a key without one is
  // swallowed like any unknown key. Both run on the input thread.
  struct Controls {
    // A monitor command line (never "quit", which quits as Ctrl-A x does): the reply, one or
    // more lines without their last "\n".
    std::function<std::string(const std::string& line)> monitor;
    // Turns timestamps on or off; returns whether they are on now.
    std::function<bool()> toggle_timestamps;
    // Ctrl-A b: a break on the serial line, after the input typed before it.
    std::function<void()> send_break;
  };
  void set_controls(Controls controls) { controls_ = std::move(controls); }
  // Stop and join the input thread, then restore the terminal. Idempotent.
  void stop();

  // Guest output: all of it reaches out_fd, whatever EINTR, partial writes or O_NONBLOCK do.
  void write(const uint8_t* data, size_t len) const;
  void write_byte(uint8_t b) const { write(&b, 1); }

  bool raw() const { return raw_; }

  // Write everything, retrying on EINTR, short writes and EAGAIN; gives up on other errors.
  static bool write_all(int fd, const uint8_t* data, size_t len);

 private:
  void input_loop();
  // Applies the escape state machine; returns false once the user asked to quit.
  bool process(const uint8_t* data, size_t len);
  // The key after Ctrl-A; false once the user asked to quit.
  bool escape_command(uint8_t key, const std::function<void()>& flush);
  // A key typed into the monitor (edited as a line, echoed on stderr); false on "quit".
  bool monitor_key(uint8_t key);
  void say(const std::string& text) const;
  static std::string crlf(std::string text);
  void print_help() const;

  int in_fd_;
  int out_fd_;
  int err_fd_;
  int wake_read_ = -1;
  int wake_write_ = -1;
  bool raw_ = false;
  bool escape_pending_ = false;  // input thread only
  InputFn on_input_;
  QuitFn on_quit_;
  ReadyFn ready_;
  std::string quit_label_ = "quit";
  Controls controls_;
  bool in_monitor_ = false;   // input thread only: keys go to the monitor, not the guest
  std::string monitor_line_;  // input thread only
  std::thread thread_;
};

}  // namespace vessel
