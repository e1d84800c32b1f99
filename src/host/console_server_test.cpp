#include "host/console_server.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "base/test_temp_dir.hpp"

namespace vessel {
namespace {

using namespace std::chrono_literals;

// Waits (bounded) for a condition another thread makes true.
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds limit = 10s) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

using testing::TempDir;

// A viewer: a blocking socket with bounded reads.
class Client {
 public:
  explicit Client(const std::string& path) {
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Client() { close(); }
  bool connected() const { return connected_; }
  int fd() const { return fd_; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  void send(const std::string& s) {
    ASSERT_EQ(::send(fd_, s.data(), s.size(), MSG_NOSIGNAL), static_cast<ssize_t>(s.size()));
  }
  // Reads until `needle` is in what was read (or EOF, or the time is up); returns all of it.
  std::string read_until(const std::string& needle, std::chrono::milliseconds limit = 10s) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (got_.find(needle) == std::string::npos && !eof_) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char buf[65536];
      const ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) {
        eof_ = true;
        break;
      }
      got_.append(buf, static_cast<size_t>(n));
    }
    return got_;
  }
  // Reads until the server closes the connection.
  bool read_to_eof() {
    read_until(std::string(1, '\0') + "never", 10s);
    return eof_;
  }
  const std::string& got() const { return got_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool eof_ = false;
  std::string got_;
};

// The receiving end of input: a queue with a soft limit, like the UART's host queue.
struct Receiver {
  std::mutex mu;
  std::string got;
  size_t queued = 0;  // not yet taken by the consumer
  size_t most_queued = 0;
  size_t limit = SIZE_MAX;
  std::atomic<bool> open{true};

  ConsoleServer::InputFn input() {
    return [this](const uint8_t* d, size_t n) {
      std::lock_guard<std::mutex> lock(mu);
      got.append(reinterpret_cast<const char*>(d), n);
      queued += n;
      most_queued = std::max(most_queued, queued);
    };
  }
  ConsoleServer::ReadyFn ready() {
    return [this] {
      std::lock_guard<std::mutex> lock(mu);
      return open.load() && queued < limit;
    };
  }
  std::string text() {
    std::lock_guard<std::mutex> lock(mu);
    return got;
  }
};

// Each test: a directory, a receiver, and a server on a socket there.
class ConsoleServerTest : public ::testing::Test {
 protected:
  // The tests go on with ASSERT_TRUE(server).
  void start(ConsoleServer::Limits limits = {}) {
    auto made = ConsoleServer::listen(dir.file("c.sock"), rx.input(), rx.ready(), limits);
    EXPECT_TRUE(made.ok()) << made.error().message;
    if (made) server = std::move(made.value());
  }

  TempDir dir;
  Receiver rx;
  std::unique_ptr<ConsoleServer> server;
};

void write(ConsoleServer& s, const std::string& text) {
  s.write(reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

TEST_F(ConsoleServerTest, TwoClientsBothSeeOutputAndBothSendInput) {
  start();
  ASSERT_TRUE(server);
  Client a(server->path()), b(server->path());
  ASSERT_TRUE(a.connected() && b.connected());
  server->sync();
  EXPECT_EQ(server->clients(), 2u);

  write(*server, "guest says hello\r\n");
  EXPECT_NE(a.read_until("hello\r\n").find("guest says hello\r\n"), std::string::npos);
  EXPECT_NE(b.read_until("hello\r\n").find("guest says hello\r\n"), std::string::npos);

  a.send("from-a;");
  b.send("from-b;");
  ASSERT_TRUE(eventually([&] { return rx.text().size() == 14; })) << rx.text();
  EXPECT_NE(rx.text().find("from-a;"), std::string::npos);
  EXPECT_NE(rx.text().find("from-b;"), std::string::npos);
}

TEST_F(ConsoleServerTest, AClientSeesOutputFromWhenItConnected) {
  start();
  ASSERT_TRUE(server);
  Client a(server->path());
  server->sync();
  write(*server, "before-b ");
  server->sync();
  Client b(server->path());
  server->sync();
  write(*server, "after-b");
  EXPECT_EQ(a.read_until("after-b"), "before-b after-b");
  EXPECT_EQ(b.read_until("after-b"), "after-b");
}

TEST_F(ConsoleServerTest, OutputWithNobodyConnectedIsNotKept) {
  start();
  ASSERT_TRUE(server);
  write(*server, "nobody sees this");
  server->sync();
  Client a(server->path());
  server->sync();
  write(*server, "seen");
  EXPECT_EQ(a.read_until("seen"), "seen");
}

TEST_F(ConsoleServerTest, InputWaitsWhileTheReceiverIsFullAndNothingIsLost) {
  rx.limit = 4096;
  start();
  ASSERT_TRUE(server);
  Client a(server->path()), b(server->path());
  server->sync();

  // A consumer that takes input slowly, as a guest reading its UART does.
  std::atomic<bool> stop{false};
  std::thread consumer([&] {
    while (!stop) {
      {
        std::lock_guard<std::mutex> lock(rx.mu);
        rx.queued -= std::min<size_t>(rx.queued, 512);
      }
      std::this_thread::sleep_for(100us);
    }
  });
  // Counting in letters: lower case from one client, upper case from the other.
  std::string sent_a, sent_b;
  for (int i = 0; i < 20000; ++i) {
    for (char d : std::to_string(i) + ",") {
      sent_a += d == ',' ? 'x' : static_cast<char>('a' + (d - '0'));
      sent_b += d == ',' ? 'X' : static_cast<char>('A' + (d - '0'));
    }
  }
  // Blocking sends: they wait whenever the server stops reading.
  std::thread ta([&] { a.send(sent_a); });
  std::thread tb([&] { b.send(sent_b); });
  ta.join();
  tb.join();
  ASSERT_TRUE(eventually([&] { return rx.text().size() == sent_a.size() + sent_b.size(); }))
      << rx.text().size() << " of " << sent_a.size() + sent_b.size();
  stop = true;
  consumer.join();
  // Each client's bytes arrive complete and in order, interleaved with the other's.
  std::string only_a, only_b;
  for (char c : rx.text()) (std::islower(static_cast<unsigned char>(c)) ? only_a : only_b) += c;
  EXPECT_TRUE(only_a == sent_a);
  EXPECT_TRUE(only_b == sent_b);
  // Reading stopped at the limit: past it by at most the one read that crossed it.
  EXPECT_LE(rx.most_queued, rx.limit + 4096);
}

TEST_F(ConsoleServerTest, InputIsHeldWhileNotReadyThenDelivered) {
  rx.open = false;
  start();
  ASSERT_TRUE(server);
  Client a(server->path());
  server->sync();
  a.send("typed while the guest was busy");
  server->sync();
  server->sync();
  EXPECT_EQ(rx.text(), "");
  rx.open = true;
  ASSERT_TRUE(eventually([&] { return rx.text() == "typed while the guest was busy"; }))
      << rx.text();
}

TEST_F(ConsoleServerTest, AClientThatLeavesWhileInputIsHeldStillDeliversIt) {
  rx.open = false;
  start();
  ASSERT_TRUE(server);
  {
    Client a(server->path());
    server->sync();
    a.send("last words");
  }
  // Gone from the viewers while its input is still held (the guest is not ready for it). The
  // hang-up reaches the server's loop on its own schedule, so one sync() may not have seen it.
  EXPECT_TRUE(eventually([&] { return server->clients() == 0u; })) << server->clients();
  EXPECT_EQ(rx.text(), "");
  rx.open = true;
  ASSERT_TRUE(eventually([&] { return rx.text() == "last words"; })) << rx.text();
}

TEST_F(ConsoleServerTest, AHalfClosedClientStillGetsOutput) {
  start();
  ASSERT_TRUE(server);
  Client a(server->path());
  a.send("cmd\n");
  ASSERT_EQ(shutdown(a.fd(), SHUT_WR), 0);
  ASSERT_TRUE(eventually([&] { return rx.text() == "cmd\n"; }));
  server->sync();
  write(*server, "its answer");
  EXPECT_EQ(a.read_until("its answer"), "its answer");
  EXPECT_EQ(server->clients(), 1u);
}

// Writes `total` bytes of a known pattern in chunks; returns the pattern.
std::string pattern(size_t total) {
  std::string s(total, '\0');
  for (size_t i = 0; i < total; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
  return s;
}

TEST_F(ConsoleServerTest, AStuckClientIsCutOffAndNeverHoldsUpTheOthers) {
  ConsoleServer::Limits limits;
  limits.client_buffer = 64 * 1024;
  start(limits);
  ASSERT_TRUE(server);
  Client stuck(server->path()), reader(server->path());
  server->sync();
  ASSERT_EQ(server->clients(), 2u);

  const std::string data = pattern(8 << 20);
  std::atomic<size_t> got{0};
  std::string received;
  std::thread t([&] {
    char buf[65536];
    while (received.size() < data.size()) {
      const ssize_t n = ::read(reader.fd(), buf, sizeof buf);
      if (n <= 0) break;
      received.append(buf, static_cast<size_t>(n));
      got = received.size();
    }
  });
  constexpr size_t kChunk = 16 * 1024;
  for (size_t off = 0; off < data.size(); off += kChunk) {
    server->write(reinterpret_cast<const uint8_t*>(data.data() + off), kChunk);
    server->sync();
    // The reader keeps up (as a live viewer does); the stuck client takes nothing at all.
    ASSERT_TRUE(eventually([&] { return got + 32 * 1024 >= off + kChunk; }));
  }
  t.join();
  EXPECT_EQ(received.size(), data.size());
  EXPECT_TRUE(received == data);
  EXPECT_EQ(server->overflowed_clients(), 1u);
  EXPECT_EQ(server->clients(), 1u);
  EXPECT_EQ(server->dropped_output(), 0u);
  // The stuck client finds what its socket held, then the end of the connection.
  EXPECT_TRUE(stuck.read_to_eof());
  EXPECT_LT(stuck.got().size(), data.size());
  EXPECT_EQ(stuck.got(), data.substr(0, stuck.got().size()));
}

TEST_F(ConsoleServerTest, ClientsBeyondTheCapAreToldAndRefused) {
  ConsoleServer::Limits limits;
  limits.max_clients = 2;
  start(limits);
  ASSERT_TRUE(server);
  auto a = std::make_unique<Client>(server->path());
  Client b(server->path());
  server->sync();
  Client c(server->path());
  server->sync();
  EXPECT_TRUE(c.read_to_eof());
  EXPECT_NE(c.got().find("2 viewers are connected already"), std::string::npos) << c.got();
  EXPECT_EQ(server->refused_clients(), 1u);
  EXPECT_EQ(server->clients(), 2u);

  a.reset();  // room for one more
  ASSERT_TRUE(eventually([&] { return server->clients() == 1; }));
  Client d(server->path());
  server->sync();
  EXPECT_EQ(server->clients(), 2u);
  write(*server, "welcome");
  EXPECT_EQ(d.read_until("welcome"), "welcome");
}

TEST_F(ConsoleServerTest, SocketIsPrivateAndRemovedAtTheEnd) {
  start();
  ASSERT_TRUE(server);
  const std::string path = server->path();
  struct stat st {};
  ASSERT_EQ(lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  server.reset();
  EXPECT_NE(access(path.c_str(), F_OK), 0);
}

TEST_F(ConsoleServerTest, ALiveSocketIsRefusedAStaleOneReplaced) {
  start();
  ASSERT_TRUE(server);
  auto second = ConsoleServer::listen(server->path(), rx.input(), rx.ready());
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("refusing to replace"), std::string::npos)
      << second.error().message;

  // A socket nobody listens on any more (a run killed with -9 leaves one).
  const std::string stale = dir.file("stale.sock");
  {
    const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, stale.c_str(), sizeof addr.sun_path - 1);
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ::close(fd);
  }
  EXPECT_TRUE(ConsoleServer::check_path(stale).ok());
  auto replaced = ConsoleServer::listen(stale, rx.input(), rx.ready());
  ASSERT_TRUE(replaced.ok()) << replaced.error().message;
  Client a(stale);
  EXPECT_TRUE(a.connected());
}

TEST_F(ConsoleServerTest, BadPathsAreRefusedAndLeaveNothing) {
  const std::string too_long = dir.path() + "/" + std::string(120, 's');
  auto r = ConsoleServer::check_path(too_long);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("too long"), std::string::npos) << r.error().message;

  const std::string missing = dir.file("no-such-dir/c.sock");
  r = ConsoleServer::check_path(missing);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(dir.file("no-such-dir")), std::string::npos)
      << r.error().message;

  const std::string regular = dir.file("file");
  ASSERT_EQ(std::system(("echo keep > " + regular).c_str()), 0);
  auto refused = ConsoleServer::listen(regular, rx.input(), rx.ready());
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("not a socket"), std::string::npos);
  struct stat st {};
  ASSERT_EQ(stat(regular.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_size, 5);
}

}  // namespace
}  // namespace vessel
