#include "host/terminal.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <sys/wait.h>
#include <termios.h>

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace vessel {
namespace {

using namespace std::chrono_literals;

// Collects what the terminal delivers, for waiting on from the test thread.
struct Sink {
  std::mutex mu;
  std::condition_variable cv;
  std::string input;
  int quits = 0;

  Terminal::InputFn input_fn() {
    return [this](const uint8_t* d, size_t n) {
      std::lock_guard<std::mutex> lock(mu);
      input.append(reinterpret_cast<const char*>(d), n);
      cv.notify_all();
    };
  }
  Terminal::QuitFn quit_fn() {
    return [this] {
      std::lock_guard<std::mutex> lock(mu);
      ++quits;
      cv.notify_all();
    };
  }
  bool wait_for(const std::function<bool()>& pred, std::chrono::milliseconds t = 5s) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, t, pred);
  }
  std::string got() {
    std::lock_guard<std::mutex> lock(mu);
    return input;
  }
};

class Pipe {
 public:
  Pipe() { EXPECT_EQ(pipe2(fd_, O_CLOEXEC), 0); }
  ~Pipe() {
    close_read();
    close_write();
  }
  int r() const { return fd_[0]; }
  int w() const { return fd_[1]; }
  void put(const std::string& s) {
    ASSERT_TRUE(Terminal::write_all(fd_[1], reinterpret_cast<const uint8_t*>(s.data()), s.size()));
  }
  // Everything available within `t`.
  std::string drain(std::chrono::milliseconds t = 200ms) {
    std::string out;
    char buf[4096];
    pollfd p{fd_[0], POLLIN, 0};
    while (::poll(&p, 1, static_cast<int>(t.count())) > 0) {
      const ssize_t n = ::read(fd_[0], buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  void close_read() {
    if (fd_[0] >= 0) ::close(fd_[0]);
    fd_[0] = -1;
  }
  void close_write() {
    if (fd_[1] >= 0) ::close(fd_[1]);
    fd_[1] = -1;
  }

 private:
  int fd_[2] = {-1, -1};
};

TEST(Terminal, PipeInputReachesCallback) {
  Pipe in, out;
  Sink sink;
  Terminal term(in.r(), out.w(), out.w());
  ASSERT_TRUE(term.start(sink.input_fn(), sink.quit_fn()).ok());
  EXPECT_FALSE(term.raw());  // a pipe has no settings to change
  in.put("hello\r\n");
  EXPECT_TRUE(sink.wait_for([&] { return sink.input == "hello\r\n"; }));
  term.stop();
  EXPECT_EQ(sink.quits, 0);
}

TEST(Terminal, EscapeSequences) {
  Pipe in, err;
  Sink sink;
  Terminal term(in.r(), STDOUT_FILENO, err.w());
  ASSERT_TRUE(term.start(sink.input_fn(), sink.quit_fn()).ok());
  // Ctrl-A Ctrl-A sends one Ctrl-A; Ctrl-A h prints help; Ctrl-A z is swallowed; Ctrl-A x quits.
  in.put(
      "a\x01\x01"
      "b\x01hc\x01zd");
  EXPECT_TRUE(sink.wait_for([&] {
    return sink.input ==
           "a\x01"
           "bcd";
  }));
  const std::string help = err.drain();
  EXPECT_NE(help.find("C-a x"), std::string::npos) << help;
  // An escape split across two reads still works.
  in.put("e\x01");
  EXPECT_TRUE(sink.wait_for([&] {
    return sink.input ==
           "a\x01"
           "bcde";
  }));
  std::this_thread::sleep_for(20ms);
  in.put("x");
  EXPECT_TRUE(sink.wait_for([&] { return sink.quits == 1; }));
  in.put("after quit");
  std::this_thread::sleep_for(50ms);
  term.stop();
  EXPECT_EQ(sink.got(),
            "a\x01"
            "bcde");
  EXPECT_EQ(sink.quits, 1);
}

TEST(Terminal, MonitorAndTimestampKeysOnlyWithControls) {
  Pipe in, err;
  Sink sink;
  Terminal term(in.r(), STDOUT_FILENO, err.w());
  ASSERT_TRUE(term.start(sink.input_fn(), sink.quit_fn()).ok());
  in.put(
      "a\x01"
      "cb\x01tc");  // no controls: both keys swallowed, as unknown ones are
  EXPECT_TRUE(sink.wait_for([&] { return sink.input == "abc"; }));
  term.stop();
  EXPECT_EQ(err.drain().find("monitor"), std::string::npos);
}

// Ctrl-A c: keys go to the monitor (edited, echoed on stderr) until Ctrl-A c again; "quit"
// there quits as Ctrl-A x does. Ctrl-A t asks the owner to toggle its timestamps.
TEST(Terminal, MonitorReadsCommandLines) {
  Pipe in, err;
  Sink sink;
  std::vector<std::string> commands;
  int toggles = 0;
  Terminal term(in.r(), STDOUT_FILENO, err.w());
  Terminal::Controls controls;
  controls.monitor = [&](const std::string& line) {
    commands.push_back(line);
    return line == "info status" ? std::string("VM status: running") : std::string();
  };
  controls.toggle_timestamps = [&] { return ++toggles % 2 == 1; };
  term.set_controls(std::move(controls));
  ASSERT_TRUE(term.start(sink.input_fn(), sink.quit_fn()).ok());
  in.put(
      "a\x01"
      "cinfo statuz\x7fs\r\nstop\n\x01"
      "cb\x01t\x01h");
  EXPECT_TRUE(sink.wait_for([&] { return sink.input == "ab"; }));
  std::this_thread::sleep_for(50ms);
  const std::string said = err.drain();
  EXPECT_NE(said.find("(vessel) info statuz\b \bs\r\nVM status: running\r\n(vessel) "),
            std::string::npos)
      << said;
  EXPECT_NE(said.find("vessel: timestamps on"), std::string::npos) << said;
  EXPECT_NE(said.find("C-a c"), std::string::npos) << said;
  EXPECT_NE(said.find("C-a t"), std::string::npos) << said;
  in.put(
      "\x01"
      "cquit\r");
  EXPECT_TRUE(sink.wait_for([&] { return sink.quits == 1; }));
  term.stop();
  EXPECT_EQ(commands, (std::vector<std::string>{"info status", "stop"}));
  EXPECT_EQ(toggles, 1);
  EXPECT_EQ(sink.got(), "ab");
}

TEST(Terminal, EndOfInputStopsReadingOnly) {
  Pipe in, out;
  Sink sink;
  Terminal term(in.r(), out.w(), out.w());
  ASSERT_TRUE(term.start(sink.input_fn(), sink.quit_fn()).ok());
  in.put("last");
  in.close_write();
  EXPECT_TRUE(sink.wait_for([&] { return sink.input == "last"; }));
  // Output still works after the input ended.
  term.write_byte('!');
  EXPECT_EQ(out.drain(), "!");
  const auto t0 = std::chrono::steady_clock::now();
  term.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  EXPECT_EQ(sink.quits, 0);
}

TEST(Terminal, DevNullInput) {
  const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  Sink sink;
  Terminal term(fd, STDOUT_FILENO, STDERR_FILENO);
  ASSERT_TRUE(term.start(sink.input_fn(), sink.quit_fn()).ok());
  std::this_thread::sleep_for(20ms);
  term.stop();
  EXPECT_EQ(sink.got(), "");
  ::close(fd);
}

TEST(Terminal, StopWakesIdleReader) {
  Pipe in;
  Sink sink;
  Terminal term(in.r(), STDOUT_FILENO, STDERR_FILENO);
  ASSERT_TRUE(term.start(sink.input_fn(), sink.quit_fn()).ok());
  std::this_thread::sleep_for(20ms);
  const auto t0 = std::chrono::steady_clock::now();
  term.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  term.stop();  // idempotent
}

TEST(Terminal, FlowControlHoldsInputBack) {
  Pipe in;
  Sink sink;
  std::atomic<bool> ready{false};
  Terminal term(in.r(), STDOUT_FILENO, STDERR_FILENO);
  ASSERT_TRUE(term.start(sink.input_fn(), sink.quit_fn(), [&] { return ready.load(); }).ok());
  in.put("wait");
  std::this_thread::sleep_for(60ms);
  EXPECT_EQ(sink.got(), "");
  ready = true;
  EXPECT_TRUE(sink.wait_for([&] { return sink.input == "wait"; }));
  term.stop();
}

TEST(Terminal, WriteDeliversEverythingToANonBlockingPipe) {
  Pipe out;
  ASSERT_EQ(fcntl(out.w(), F_SETFL, O_NONBLOCK), 0);
  Terminal term(STDIN_FILENO, out.w(), STDERR_FILENO);
  std::string data(1 << 20, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
  std::string got;
  std::thread reader([&] {
    char buf[8192];
    while (got.size() < data.size()) {
      const ssize_t n = ::read(out.r(), buf, sizeof buf);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
  });
  term.write(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  reader.join();
  EXPECT_EQ(got, data);
}

class PtyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(openpty(&master, &slave, nullptr, nullptr, nullptr), 0);
    ASSERT_EQ(tcgetattr(slave, &original), 0);
    ASSERT_NE(original.c_lflag & ICANON, 0U);
  }
  void TearDown() override {
    ::close(master);
    ::close(slave);
  }
  termios current() const {
    termios t{};
    EXPECT_EQ(tcgetattr(slave, &t), 0);
    return t;
  }
  void expect_original() const {
    const termios t = current();
    EXPECT_EQ(t.c_iflag, original.c_iflag);
    EXPECT_EQ(t.c_oflag, original.c_oflag);
    EXPECT_EQ(t.c_cflag, original.c_cflag);
    EXPECT_EQ(t.c_lflag, original.c_lflag);
  }
  // Runs `body` in a child process and returns its wait status.
  template <typename F>
  int in_child(F body) {
    const pid_t pid = fork();
    if (pid == 0) {
      body();
      _exit(100);
    }
    int status = 0;
    EXPECT_EQ(waitpid(pid, &status, 0), pid);
    return status;
  }

  int master = -1;
  int slave = -1;
  termios original{};
};

TEST_F(PtyTest, RawModeSetAndRestored) {
  Sink sink;
  {
    Terminal term(slave, STDOUT_FILENO, STDERR_FILENO);
    ASSERT_TRUE(term.start(sink.input_fn(), sink.quit_fn()).ok());
    EXPECT_TRUE(term.raw());
    const termios t = current();
    EXPECT_EQ(t.c_lflag & (ICANON | ECHO | ISIG | IEXTEN), 0U);
    EXPECT_EQ(t.c_iflag & (ICRNL | IXON | ISTRIP), 0U);
    EXPECT_EQ(t.c_oflag & OPOST, 0U);
    EXPECT_EQ(t.c_cflag & CSIZE, static_cast<tcflag_t>(CS8));
    EXPECT_EQ(t.c_cc[VMIN], 1);
    // Bytes pass unchanged: no CR translation, no signal for Ctrl-C, no line buffering.
    const std::string keys = "a\r\x03\x1a";
    ASSERT_TRUE(
        Terminal::write_all(master, reinterpret_cast<const uint8_t*>(keys.data()), keys.size()));
    EXPECT_TRUE(sink.wait_for([&] { return sink.input == keys; }));
    // A second terminal cannot take over the saved settings.
    Terminal second(slave, STDOUT_FILENO, STDERR_FILENO);
    EXPECT_FALSE(second.start(sink.input_fn(), sink.quit_fn()).ok());
  }
  expect_original();
}

TEST_F(PtyTest, RestoredAtExit) {
  const int status = in_child([&] {
    auto* term = new Terminal(slave, STDOUT_FILENO, STDERR_FILENO);  // never destroyed
    if (!term->start({}, {}).ok()) _exit(1);
    std::exit(0);
  });
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  expect_original();
}

class PtySignalTest : public PtyTest, public ::testing::WithParamInterface<int> {};

TEST_P(PtySignalTest, RestoredOnFatalSignal) {
  const int sig = GetParam();
  const int status = in_child([&] {
    Terminal term(slave, STDOUT_FILENO, STDERR_FILENO);
    if (!term.start({}, {}).ok()) _exit(1);
    termios t{};
    if (tcgetattr(slave, &t) != 0 || (t.c_lflag & ICANON) != 0) _exit(2);
    ::kill(getpid(), sig);
    std::this_thread::sleep_for(5s);
    _exit(3);
  });
  ASSERT_TRUE(WIFSIGNALED(status)) << "status " << status;
  EXPECT_EQ(WTERMSIG(status), sig);
  expect_original();
}

INSTANTIATE_TEST_SUITE_P(Signals, PtySignalTest, ::testing::Values(SIGTERM, SIGHUP, SIGQUIT));

}  // namespace
}  // namespace vessel
