// The NBD backend against real servers: nbdkit with its memory, file and full plugins and its
// delay and error filters, started by each test on a Unix socket.
#include "host/block/nbd.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <future>
#include <thread>
#include <vector>

#include "base/event_loop.hpp"
#include "base/test_temp_dir.hpp"
#include "host/block/backend_test_support.hpp"

namespace vessel::block {
namespace {

using namespace std::chrono_literals;
using testing::Bytes;

// One nbdkit process serving on a Unix socket, killed at the end. Ready means its pidfile
// exists: nbdkit writes it once it accepts connections, whereas the socket's file appears at
// bind(), before listen(), and a connect() between the two is refused.
class Nbdkit {
 public:
  Nbdkit(const std::string& socket, std::vector<std::string> args)
      : socket_(socket), pidfile_(socket + ".pid") {
    ::unlink(socket.c_str());
    ::unlink(pidfile_.c_str());
    std::vector<std::string> argv = {
        "nbdkit", "--foreground", "--exit-with-parent", "--pidfile", pidfile_, "--unix", socket};
    argv.insert(argv.end(), args.begin(), args.end());
    pid_ = fork();
    if (pid_ == 0) {
      std::vector<char*> c;
      for (auto& a : argv) c.push_back(a.data());
      c.push_back(nullptr);
      execvp("nbdkit", c.data());
      _exit(127);
    }
    for (int i = 0; i < 500; ++i) {  // up to 5 s for the server to be ready
      struct stat st {};
      if (stat(pidfile_.c_str(), &st) == 0 && st.st_size > 0) return;
      std::this_thread::sleep_for(10ms);
    }
    ADD_FAILURE() << "nbdkit did not become ready on " << socket;
  }
  ~Nbdkit() { stop(); }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
    ::unlink(socket_.c_str());
    ::unlink(pidfile_.c_str());
  }
  std::string uri() const { return "nbd+unix:///?socket=" + socket_; }

 private:
  std::string socket_;
  std::string pidfile_;
  pid_t pid_ = -1;
};

class NbdTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(loop_.start("nbd-test").ok()); }
  void TearDown() override { close(); }

  void use(const std::string& uri, bool read_only = false,
           std::chrono::milliseconds timeout = 30s) {
    auto b = open_nbd(NbdSettings{uri, read_only, timeout});
    ASSERT_TRUE(b.ok()) << b.error().message;
    disk_ = std::move(b).value();
    ASSERT_TRUE(disk_->attach(loop_).ok());
  }
  void close() { io_.close(); }
  template <typename Submit>
  int run(Submit submit) {
    return io_.run(std::move(submit));
  }
  int read(uint64_t offset, Bytes& out) { return io_.read(offset, out); }
  int write(uint64_t offset, Bytes data) { return io_.write(offset, std::move(data)); }
  // Retries a read until it succeeds (the backend reconnecting), for up to `limit`.
  bool read_eventually(uint64_t offset, Bytes& out, std::chrono::seconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      if (read(offset, out) == 0) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  vessel::testing::TempDir dir_;
  EventLoop loop_;
  std::unique_ptr<BlockBackend> disk_;
  testing::LoopDisk io_{loop_, disk_};
};

TEST(NbdUri, Schemes) {
  EXPECT_TRUE(is_nbd_uri("nbd://host/export"));
  EXPECT_TRUE(is_nbd_uri("nbd+unix:///e?socket=/s"));
  EXPECT_TRUE(is_nbd_uri("nbds+unix:///e?socket=/s"));
  EXPECT_FALSE(is_nbd_uri("/images/nbd://x"));
  EXPECT_FALSE(is_nbd_uri("disk.img"));
  EXPECT_FALSE(is_nbd_uri("http://host/disk"));
}

TEST(NbdDiskOption, ParsesTimeoutAndRefusesFileOptions) {
  auto spec = parse_disk_option("nbd+unix:///?socket=/tmp/s,readonly,timeout=5");
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  EXPECT_EQ(spec->path, "nbd+unix:///?socket=/tmp/s");
  EXPECT_TRUE(spec->read_only);
  EXPECT_EQ(spec->timeout_seconds, 5u);
  auto overlay = parse_disk_option("nbd://h/e,overlay=x.ovl");
  ASSERT_FALSE(overlay.ok());
  EXPECT_NE(overlay.error().message.find("qemu-nbd"), std::string::npos);
  EXPECT_FALSE(parse_disk_option("nbd://h/e,timeout=0").ok());
  EXPECT_FALSE(parse_disk_option("nbd://h/e,timeout=x").ok());
  EXPECT_FALSE(parse_disk_option("disk.img,timeout=5").ok());  // files have no timeout
}

TEST_F(NbdTest, ReadWriteFlushTrimZero) {
  Nbdkit server(dir_.file("s"), {"memory", "size=8M"});
  ASSERT_NO_FATAL_FAILURE(use(server.uri()));
  EXPECT_EQ(disk_->size(), 8u << 20);
  Bytes data(8192);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7);
  ASSERT_EQ(write(4096, data), 0);
  // Two guest buffers, one request: they are read back in order.
  Bytes a(4096), b(4096);
  ASSERT_EQ(run([&](Completion done) {
              disk_->read(4096, {{a.data(), a.size()}, {b.data(), b.size()}}, std::move(done));
            }),
            0);
  EXPECT_TRUE(std::equal(a.begin(), a.end(), data.begin()));
  EXPECT_TRUE(std::equal(b.begin(), b.end(), data.begin() + 4096));
  EXPECT_EQ(run([&](Completion d) { disk_->flush(std::move(d)); }), 0);
  EXPECT_EQ(run([&](Completion d) { disk_->write_zeroes(4096, 4096, false, std::move(d)); }), 0);
  ASSERT_EQ(read(4096, a), 0);
  EXPECT_EQ(a, Bytes(4096, 0));
  EXPECT_EQ(run([&](Completion d) { disk_->discard(8192, 4096, std::move(d)); }), 0);
  // Out of range is the backend's own refusal, not the server's.
  Bytes tail(1024);
  EXPECT_EQ(read((8u << 20) - 512, tail), -EINVAL);
}

TEST_F(NbdTest, ServerErrorsReachTheGuest) {
  Nbdkit server(dir_.file("s"),
                {"--filter=error", "memory", "size=1M", "error=EIO", "error-pread-rate=100%"});
  ASSERT_NO_FATAL_FAILURE(use(server.uri()));
  Bytes buf(512);
  EXPECT_EQ(read(0, buf), -EIO);
  EXPECT_EQ(write(0, Bytes(512, 1)), 0);  // only reads fail
  EXPECT_EQ(read(0, buf), -EIO);          // and the connection stays usable
}

TEST_F(NbdTest, FullDiskIsNoSpace) {
  Nbdkit server(dir_.file("s"), {"full", "size=1M"});
  ASSERT_NO_FATAL_FAILURE(use(server.uri()));
  EXPECT_EQ(write(0, Bytes(512, 1)), -ENOSPC);
}

TEST_F(NbdTest, StalledServerTimesOutAndTheBackendReconnects) {
  Nbdkit server(dir_.file("s"), {"--filter=delay", "memory", "size=1M", "rdelay=10"});
  ASSERT_NO_FATAL_FAILURE(use(server.uri(), false, 500ms));
  Bytes buf(512);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(read(0, buf), -EIO);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  // Writes are not delayed: once reconnected, they work again.
  const auto end = std::chrono::steady_clock::now() + 10s;
  int rc = -1;
  while (rc != 0 && std::chrono::steady_clock::now() < end) {
    rc = write(0, Bytes(512, 3));
    if (rc != 0) std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(rc, 0);
}

TEST_F(NbdTest, ServerRestartFailsThenReconnects) {
  const std::string image = dir_.file("disk.img");
  { std::ofstream(image).seekp((1 << 20) - 1).put('\0'); }
  auto server = std::make_unique<Nbdkit>(dir_.file("s"), std::vector<std::string>{"file", image});
  ASSERT_NO_FATAL_FAILURE(use(server->uri()));
  ASSERT_EQ(write(512, Bytes(512, 0x5a)), 0);
  ASSERT_EQ(run([&](Completion d) { disk_->flush(std::move(d)); }), 0);
  server->stop();
  Bytes buf(512);
  EXPECT_EQ(read(512, buf), -EIO);
  server = std::make_unique<Nbdkit>(dir_.file("s"), std::vector<std::string>{"file", image});
  ASSERT_TRUE(read_eventually(512, buf, 15s));
  EXPECT_EQ(buf, Bytes(512, 0x5a));
}

// A request of several buffers is several NBD commands, issued while the server is gone: the
// request ends once, with EIO. (CI's ASan run once saw a request freed under issue(): libnbd
// had retired its command inside nbd_aio_pread; that timing is not reproducible here, so this
// only covers the refused-command path next to it.)
TEST_F(NbdTest, ManyBufferRequestToADeadServerFailsOnce) {
  auto server = std::make_unique<Nbdkit>(dir_.file("s"), std::vector<std::string>{"memory", "1M"});
  ASSERT_NO_FATAL_FAILURE(use(server->uri()));
  server->stop();
  for (int round = 0; round < 20; ++round) {
    std::vector<Bytes> bufs(8, Bytes(4096));
    const int rc = run([&](Completion done) {
      std::vector<iovec> iov;
      for (Bytes& b : bufs) iov.push_back({b.data(), b.size()});
      disk_->read(0, std::move(iov), std::move(done));
    });
    EXPECT_EQ(rc, -EIO) << "round " << round;
  }
}

TEST(NbdOpen, OneLineErrors) {
  vessel::testing::TempDir dir;
  auto missing = open_nbd(NbdSettings{"nbd+unix:///?socket=" + dir.file("none"), false, 1s});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("cannot connect"), std::string::npos);
  EXPECT_EQ(missing.error().message.find('\n'), std::string::npos);
  Nbdkit server(dir.file("s"), {"--readonly", "memory", "size=1M"});
  auto ro = open_nbd(NbdSettings{server.uri(), false, 1s});
  ASSERT_FALSE(ro.ok());
  EXPECT_NE(ro.error().message.find("add ,readonly"), std::string::npos);
  EXPECT_TRUE(open_nbd(NbdSettings{server.uri(), true, 1s}).ok());
}

}  // namespace
}  // namespace vessel::block
