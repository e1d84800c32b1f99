// Block backends against real files in a temporary directory, through both engines.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <random>
#include <string>
#include <vector>

#include "base/event_loop.hpp"
#include "base/test_temp_dir.hpp"
#include "host/block/backend_test_support.hpp"
#include "host/block/block_backend.hpp"
#include "host/block/io_engine.hpp"
#include "host/block/overlay.hpp"

namespace vessel::block {
namespace {

namespace fs = std::filesystem;
using testing::Bytes;
using testing::pattern;
using testing::read_file;
using testing::write_file;
using vessel::testing::TempDir;

// Sets or clears the immutable attribute (root's way to make a file unwritable).
bool set_immutable(const std::string& path, bool on) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  int flags = 0;
  bool ok = ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0;
  if (ok) {
    flags = on ? (flags | FS_IMMUTABLE_FL) : (flags & ~FS_IMMUTABLE_FL);
    ok = ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0;
  }
  close(fd);
  return ok;
}

// Runs backends on a real EventLoop thread, as the VM does.
class BlockTest : public ::testing::TestWithParam<IoMode> {
 protected:
  void SetUp() override {
    if (GetParam() == IoMode::kUring && !make_uring_engine(8).ok()) {
      GTEST_SKIP() << "io_uring is not available on this host";
    }
    ASSERT_TRUE(loop_.start("block-test").ok());
  }
  void TearDown() override { close(); }

  OpenOptions options() const {
    OpenOptions o;
    o.io = GetParam();
    o.uring_entries = 8;  // small, so that the backlog path is exercised
    return o;
  }

  Result<std::unique_ptr<BlockBackend>> open(const std::string& spec_text) {
    auto spec = parse_disk_option(spec_text);
    if (!spec) return spec.take_error();
    return open_disk(*spec, options());
  }
  // Opens and attaches; the test fails if either does.
  void use(const std::string& spec_text) {
    close();
    auto b = open(spec_text);
    ASSERT_TRUE(b.ok()) << b.error().message;
    disk_ = std::move(b).value();
    ASSERT_TRUE(disk_->attach(loop_).ok());
  }
  void close() { io_.close(); }

  template <typename Fn>
  void on_loop(Fn fn) {
    std::promise<void> p;
    loop_.post([&] {
      fn();
      p.set_value();
    });
    p.get_future().wait();
  }
  template <typename Submit>
  int run(Submit submit) {
    return io_.run(std::move(submit));
  }
  int read(uint64_t offset, Bytes& out) { return io_.read(offset, out); }
  Bytes read(uint64_t offset, size_t len) {
    Bytes out(len, 0xee);
    EXPECT_EQ(read(offset, out), 0);
    return out;
  }
  int write(uint64_t offset, Bytes data) { return io_.write(offset, std::move(data)); }
  int flush() { return io_.flush(); }
  int discard(uint64_t offset, uint64_t len) { return io_.discard(offset, len); }
  int zeroes(uint64_t offset, uint64_t len, bool unmap) { return io_.zeroes(offset, len, unmap); }

  TempDir dir_;
  EventLoop loop_;
  std::unique_ptr<BlockBackend> disk_;
  testing::LoopDisk io_{loop_, disk_};
};

INSTANTIATE_TEST_SUITE_P(Engines, BlockTest, ::testing::Values(IoMode::kUring, IoMode::kThreads),
                         [](const auto& param_info) {
                           return std::string(param_info.param == IoMode::kUring ? "io_uring"
                                                                                 : "threads");
                         });

TEST(DiskOption, Parses) {
  auto a = parse_disk_option("disk.img");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->path, "disk.img");
  EXPECT_FALSE(a->read_only);
  EXPECT_TRUE(a->overlay.empty());
  auto b = parse_disk_option("/x/disk.img,readonly,overlay=/tmp/o.ovl");
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->read_only);
  EXPECT_EQ(b->overlay, "/tmp/o.ovl");
  auto c = parse_disk_option("a,,b.img,overlay=c,,d");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->path, "a,b.img");
  EXPECT_EQ(c->overlay, "c,d");
}

TEST(DiskOption, OneLineErrors) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "empty path"},
      {",readonly", "empty path"},
      {"d.img,bogus", "unknown option 'bogus'"},
      {"d.img,format=qcow2", "format 'qcow2' is not one Vessel reads"},
      {"d.img,format", "format '' is not one Vessel reads"},
      {"d.img,format=raw,format=raw", "format given twice"},
      {"d.img,readonly,readonly", "readonly given twice"},
      {"d.img,readonly=yes", "readonly takes no value"},
      {"d.img,overlay", "overlay needs a file name"},
      {"d.img,overlay=", "overlay needs a file name"},
      {"d.img,overlay=a,overlay=b", "overlay given twice"},
      {"d.img,", "empty option"},
      {"d.img,overlay=d.img", "cannot be the disk image itself"},
  };
  for (const auto& [text, want] : cases) {
    auto r = parse_disk_option(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_NE(r.error().message.find(want), std::string::npos) << text << ": " << r.error().message;
    EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
    EXPECT_EQ(r.error().message.rfind("--disk: ", 0), 0U) << r.error().message;
  }
}

TEST(IoEngines, AutoFallsBackToThreadsWhenIoUringIsRefused) {
  TempDir dir;
  const std::string img = dir.file("f.img");
  write_file(img, Bytes(64 * 1024, 1));
  setenv("VESSEL_NO_IO_URING", "1", 1);
  auto threads = open_disk(DiskSpec{img, true, ""});
  OpenOptions uring;
  uring.io = IoMode::kUring;
  auto refused = open_disk(DiskSpec{img, true, ""}, uring);
  unsetenv("VESSEL_NO_IO_URING");
  ASSERT_TRUE(threads.ok()) << threads.error().message;
  EXPECT_NE((*threads)->describe().find("threads"), std::string::npos) << (*threads)->describe();
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("io_uring unavailable"), std::string::npos);
  if (make_uring_engine(8).ok()) {
    auto auto_uring = open_disk(DiskSpec{img, true, ""});
    ASSERT_TRUE(auto_uring.ok());
    EXPECT_NE((*auto_uring)->describe().find("io_uring"), std::string::npos);
  }
}

TEST_P(BlockTest, RawReadWriteFlush) {
  const std::string img = dir_.file("disk.img");
  Bytes content = pattern(1 << 20, 1);
  write_file(img, content);
  use(img);
  EXPECT_EQ(disk_->size(), 1U << 20);
  EXPECT_FALSE(disk_->read_only());

  // Scattered read into two buffers.
  Bytes a(1000), b(3096);
  EXPECT_EQ(run([&](Completion done) {
              disk_->read(8192, {{a.data(), a.size()}, {b.data(), b.size()}}, std::move(done));
            }),
            0);
  EXPECT_TRUE(std::equal(a.begin(), a.end(), content.begin() + 8192));
  EXPECT_TRUE(std::equal(b.begin(), b.end(), content.begin() + 9192));

  const Bytes data = pattern(1536, 2);
  EXPECT_EQ(write(512, data), 0);
  EXPECT_EQ(flush(), 0);
  EXPECT_EQ(read(512, 1536), data);
  std::copy(data.begin(), data.end(), content.begin() + 512);
  close();
  EXPECT_EQ(read_file(img), content);
}

TEST_P(BlockTest, RawRangeChecks) {
  const std::string img = dir_.file("disk.img");
  write_file(img, pattern(64 * 1024, 3));
  use(img);
  Bytes buf(1024);
  EXPECT_EQ(read(64 * 1024 - 512, buf), -EINVAL);
  EXPECT_EQ(read(~0ULL - 100, buf), -EINVAL);
  EXPECT_EQ(write(64 * 1024, Bytes(512)), -EINVAL);
  EXPECT_EQ(discard(0, 64 * 1024 + 512), -EINVAL);
  EXPECT_EQ(zeroes(~0ULL, 1024, false), -EINVAL);
  Bytes none;
  EXPECT_EQ(read(64 * 1024, none), 0);  // an empty request at the end is fine
}

TEST_P(BlockTest, ManyRequestsInFlightAndLongIovecLists) {
  const std::string img = dir_.file("disk.img");
  write_file(img, Bytes(2 << 20, 0));
  use(img);
  // More requests at once than the ring has entries: the backlog takes the rest.
  constexpr int kCount = 100;
  std::vector<Bytes> blocks;
  for (int i = 0; i < kCount; ++i) blocks.push_back(pattern(4096, 100 + i));
  std::promise<void> all;
  int left = kCount, errors = 0;
  loop_.post([&] {
    for (int i = 0; i < kCount; ++i) {
      disk_->write(static_cast<uint64_t>(i) * 8192, {{blocks[i].data(), 4096}}, [&](int err) {
        if (err != 0) ++errors;
        if (--left == 0) all.set_value();
      });
    }
    EXPECT_EQ(disk_->in_flight(), static_cast<size_t>(left));
  });
  all.get_future().wait();
  EXPECT_EQ(errors, 0);
  for (int i = 0; i < kCount; i += 17)
    EXPECT_EQ(read(static_cast<uint64_t>(i) * 8192, 4096), blocks[i]);

  // More iovecs than one preadv/readv takes (IOV_MAX): the engine goes on where it stopped.
  Bytes big = pattern(1500 * 512, 7);
  EXPECT_EQ(run([&](Completion done) {
              std::vector<iovec> iov;
              for (size_t k = 0; k < 1500; ++k) iov.push_back({big.data() + k * 512, 512});
              disk_->write(1 << 20, std::move(iov), std::move(done));
            }),
            0);
  EXPECT_EQ(read(1 << 20, big.size()), big);
}

TEST_P(BlockTest, RawDiscardAndWriteZeroes) {
  const std::string img = dir_.file("disk.img");
  write_file(img, pattern(1 << 20, 4));
  use(img);
  EXPECT_EQ(zeroes(4096, 8192, false), 0);
  EXPECT_EQ(read(4096, 8192), Bytes(8192, 0));
  EXPECT_EQ(zeroes(65536, 65536, true), 0);
  EXPECT_EQ(read(65536, 65536), Bytes(65536, 0));
  EXPECT_EQ(zeroes(1000 * 512, 512, false), 0);  // not block aligned
  EXPECT_EQ(read(1000 * 512, 512), Bytes(512, 0));
  EXPECT_EQ(discard(256 * 1024, 256 * 1024), 0);
  EXPECT_EQ(flush(), 0);
  close();
  struct stat st {};
  ASSERT_EQ(stat(img.c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 1 << 20);  // KEEP_SIZE: the disk does not shrink or grow
  // The punched ranges no longer take space (ext4, xfs, btrfs, tmpfs all punch holes).
  EXPECT_LT(st.st_blocks * 512, 1 << 20);
}

TEST(ZeroFallback, WriteZeroBytesWhenFallocateIsUnsupported) {
  TempDir dir;
  const std::string img = dir.file("z.img");
  write_file(img, pattern(3 << 20, 9));
  EventLoop loop;
  ASSERT_TRUE(loop.start().ok());
  auto engine = make_thread_engine(2);
  ASSERT_TRUE(engine->attach(loop).ok());
  UniqueFd fd(::open(img.c_str(), O_RDWR | O_CLOEXEC));
  ZeroCaps caps;
  caps.punch_hole = caps.zero_range = false;  // as on a file system without them
  std::promise<int> p;
  loop.post([&] {
    zero_file_range(*engine, fd.get(), 512, (2 << 20) + 1024, true, caps,
                    [&](int err) { p.set_value(err); });
  });
  EXPECT_EQ(p.get_future().get(), 0);
  std::promise<void> q;
  loop.post([&] {
    engine->detach();
    q.set_value();
  });
  q.get_future().wait();
  const Bytes got = read_file(img);
  const Bytes orig = pattern(3 << 20, 9);
  EXPECT_EQ(got[511], orig[511]);
  EXPECT_TRUE(std::all_of(got.begin() + 512, got.begin() + 512 + (2 << 20) + 1024,
                          [](uint8_t x) { return x == 0; }));
  EXPECT_EQ(got[512 + (2 << 20) + 1024], orig[512 + (2 << 20) + 1024]);
}

TEST_P(BlockTest, ReadOnlyOpensReadOnlyAndRefusesWrites) {
  const std::string img = dir_.file("ro.img");
  const Bytes content = pattern(128 * 1024, 5);
  write_file(img, content);
  const bool immutable = set_immutable(img, true);
  use(img + ",readonly");
  EXPECT_TRUE(disk_->read_only());
  EXPECT_NE(disk_->describe().find("read-only"), std::string::npos);
  EXPECT_EQ(read(0, 4096), Bytes(content.begin(), content.begin() + 4096));
  EXPECT_EQ(write(0, Bytes(512, 1)), -EROFS);
  EXPECT_EQ(discard(0, 4096), -EROFS);
  EXPECT_EQ(zeroes(0, 4096, true), -EROFS);
  EXPECT_EQ(flush(), 0);
  close();
  if (immutable) set_immutable(img, false);
  EXPECT_EQ(read_file(img), content);
}

TEST_P(BlockTest, OpenErrorsAreOneLineAndNameTheFile) {
  const std::string missing = dir_.file("missing.img");
  const std::string odd = dir_.file("odd.img");
  const std::string empty = dir_.file("empty.img");
  write_file(odd, Bytes(1000));
  write_file(empty, Bytes());
  auto expect_error = [&](const std::string& spec, const std::string& name,
                          const std::string& what) {
    auto r = open(spec);
    ASSERT_FALSE(r.ok()) << spec;
    const std::string& m = r.error().message;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    EXPECT_NE(m.find(name), std::string::npos) << m;
    EXPECT_NE(m.find(what), std::string::npos) << m;
  };
  expect_error(missing, missing, "No such file");
  expect_error(missing + ",readonly", missing, "No such file");
  expect_error(odd, odd, "size 1000 bytes is not a multiple of 512");
  expect_error(empty, empty, "empty");
  expect_error(dir_.file(""), "", "not a regular file");
  // Nothing was created along the way.
  EXPECT_EQ(dir_.entries(), (std::vector<std::string>{"empty.img", "odd.img"}));
}

TEST_P(BlockTest, UnwritableImageNeedsReadonlyOrOverlay) {
  const std::string img = dir_.file("locked.img");
  write_file(img, pattern(64 * 1024, 6));
  bool made_unwritable = false;
  if (geteuid() == 0) {
    made_unwritable = set_immutable(img, true);
  } else {
    made_unwritable = chmod(img.c_str(), 0444) == 0;
  }
  if (!made_unwritable) GTEST_SKIP() << "cannot make a file unwritable here";
  auto r = open(img);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("not writable"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(img), std::string::npos);
  EXPECT_TRUE(open(img + ",readonly").ok());
  {
    auto o = open(img + ",overlay=" + dir_.file("o.ovl"));
    EXPECT_TRUE(o.ok()) << o.error().message;
  }
  if (geteuid() == 0) set_immutable(img, false);
}

TEST_P(BlockTest, ImageInUseIsRefused) {
  const std::string img = dir_.file("shared.img");
  write_file(img, Bytes(64 * 1024));
  auto first = open(img);
  ASSERT_TRUE(first.ok());
  // Refused after the patience given to a VM that was just killed (its io_uring holding on).
  const auto start = std::chrono::steady_clock::now();
  auto second = open(img);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("in use"), std::string::npos);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  auto ro = open(img + ",readonly");
  EXPECT_FALSE(ro.ok());  // a writer excludes readers too
  first.value().reset();
  EXPECT_TRUE(open(img + ",readonly").ok());
}

// ---- overlay ----

// A base whose size is not a multiple of the cluster size: the last cluster is short.
constexpr uint64_t kCluster = 64 * 1024;
constexpr uint64_t kBaseSize = 4 * kCluster + 9 * 512;

TEST_P(BlockTest, OverlayCopyOnWriteLeavesTheBaseAlone) {
  const std::string base = dir_.file("base.img");
  const std::string ovl = dir_.file("disk.ovl");
  const Bytes orig = pattern(kBaseSize, 10);
  write_file(base, orig);
  struct stat before {};
  ASSERT_EQ(stat(base.c_str(), &before), 0);
  use(base + ",overlay=" + ovl);
  EXPECT_TRUE(fs::exists(ovl));
  EXPECT_EQ(disk_->size(), kBaseSize);
  Bytes model = orig;
  auto put = [&](uint64_t off, const Bytes& data) {
    ASSERT_EQ(write(off, data), 0);
    std::copy(data.begin(), data.end(), model.begin() + static_cast<ptrdiff_t>(off));
  };
  EXPECT_EQ(read(0, kBaseSize), orig);
  put(kCluster + 1024, pattern(512, 11));      // partial: copies the base cluster first
  put(2 * kCluster, pattern(kCluster, 12));    // whole cluster: no copy
  put(kCluster - 512, pattern(1024, 13));      // straddles clusters 0 and 1
  put(4 * kCluster + 512, pattern(2048, 14));  // inside the short last cluster
  put(kCluster + 1024, pattern(512, 15));      // overwrite in an allocated cluster
  EXPECT_EQ(read(0, kBaseSize), model);

  EXPECT_EQ(zeroes(3 * kCluster, kCluster, false), 0);  // whole unallocated cluster
  std::fill_n(model.begin() + 3 * kCluster, kCluster, 0);
  EXPECT_EQ(zeroes(kCluster + 4096, 4096, true), 0);  // inside an allocated cluster
  std::fill_n(model.begin() + kCluster + 4096, 4096, 0);
  EXPECT_EQ(zeroes(512, 1024, false), 0);  // partial, cluster 0 is allocated by now
  std::fill_n(model.begin() + 512, 1024, 0);
  EXPECT_EQ(read(0, kBaseSize), model);
  put(3 * kCluster + 4096, pattern(512, 16));  // writing into a zero cluster
  EXPECT_EQ(read(0, kBaseSize), model);

  EXPECT_EQ(discard(2 * kCluster, kCluster), 0);  // allocated: hole punched, reads zeros
  std::fill_n(model.begin() + 2 * kCluster, kCluster, 0);
  EXPECT_EQ(read(2 * kCluster, kCluster), Bytes(kCluster, 0));
  EXPECT_EQ(flush(), 0);
  close();

  EXPECT_EQ(read_file(base), orig);
  struct stat after {};
  ASSERT_EQ(stat(base.c_str(), &after), 0);
  EXPECT_EQ(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
  EXPECT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);

  // Reopened with the same base: everything is still there.
  use(base + ",overlay=" + ovl);
  EXPECT_EQ(read(0, kBaseSize), model);
  close();
  // Read-only over the overlay sees the same and writes nothing.
  const Bytes ovl_bytes = read_file(ovl);
  use(base + ",readonly,overlay=" + ovl);
  EXPECT_EQ(read(0, kBaseSize), model);
  EXPECT_EQ(write(0, Bytes(512)), -EROFS);
  close();
  EXPECT_EQ(read_file(ovl), ovl_bytes);
  // Only the overlay itself was created: no temporary files left behind.
  EXPECT_EQ(dir_.entries(), (std::vector<std::string>{"base.img", "disk.ovl"}));
}

TEST_P(BlockTest, OverlayConcurrentWritesIntoOneNewCluster) {
  const std::string base = dir_.file("base.img");
  const std::string ovl = dir_.file("c.ovl");
  const Bytes orig = pattern(kBaseSize, 20);
  write_file(base, orig);
  use(base + ",overlay=" + ovl);
  Bytes model = orig;
  std::mt19937 rng(99);
  std::vector<Bytes> keep;
  for (int round = 0; round < 20; ++round) {
    // A batch of disjoint sector-sized writes, many landing in the same unallocated cluster
    // at once: all but the first wait for its allocation.
    std::vector<uint64_t> sectors;
    for (int k = 0; k < 12; ++k) {
      const uint64_t s = rng() % (kBaseSize / 512);
      if (std::find(sectors.begin(), sectors.end(), s) == sectors.end()) sectors.push_back(s);
    }
    std::promise<void> all;
    int left = static_cast<int>(sectors.size()), errors = 0;
    keep.clear();
    for (uint64_t s : sectors) {
      keep.push_back(pattern(512, static_cast<uint32_t>(rng())));
      std::copy(keep.back().begin(), keep.back().end(), model.begin() + s * 512);
    }
    loop_.post([&] {
      for (size_t k = 0; k < sectors.size(); ++k) {
        auto done = [&](int err) {
          if (err != 0) ++errors;
          if (--left == 0) all.set_value();
        };
        if (rng() % 4 == 0) {
          // A write-zeroes racing the writes, on its own sector.
          std::fill(keep[k].begin(), keep[k].end(), 0);
          std::fill_n(model.begin() + sectors[k] * 512, 512, 0);
          disk_->write_zeroes(sectors[k] * 512, 512, false, done);
        } else {
          disk_->write(sectors[k] * 512, {{keep[k].data(), 512}}, done);
        }
      }
    });
    all.get_future().wait();
    ASSERT_EQ(errors, 0);
    if (round % 5 == 4) { EXPECT_EQ(flush(), 0); }
  }
  EXPECT_EQ(read(0, kBaseSize), model);
  close();  // no final flush: closing writes the table
  use(base + ",overlay=" + ovl);
  EXPECT_EQ(read(0, kBaseSize), model);
  close();
  EXPECT_EQ(read_file(base), orig);
}

TEST_P(BlockTest, OverlayOfAnotherBaseIsRefused) {
  const std::string base = dir_.file("base.img");
  const std::string other = dir_.file("other.img");
  const std::string bigger = dir_.file("bigger.img");
  const std::string ovl = dir_.file("b.ovl");
  write_file(base, pattern(kBaseSize, 30));
  write_file(other, pattern(kBaseSize, 31));  // same size, other contents
  write_file(bigger, pattern(kBaseSize + 512, 30));
  use(base + ",overlay=" + ovl);
  ASSERT_EQ(write(0, Bytes(512, 7)), 0);
  close();
  const Bytes ovl_bytes = read_file(ovl);
  for (const std::string& wrong : {other, bigger}) {
    auto r = open(wrong + ",overlay=" + ovl);
    ASSERT_FALSE(r.ok());
    const std::string& m = r.error().message;
    EXPECT_NE(m.find("belongs to another base"), std::string::npos) << m;
    EXPECT_NE(m.find(ovl), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  }
  EXPECT_EQ(read_file(ovl), ovl_bytes);
  // The same contents under another name (a copy or a move) is the same base.
  const std::string copy = dir_.file("copy.img");
  fs::copy_file(base, copy);
  use(copy + ",overlay=" + ovl);
  EXPECT_EQ(read(0, 512), Bytes(512, 7));
}

TEST_P(BlockTest, OverlayOpenErrorsCreateNothing) {
  const std::string base = dir_.file("base.img");
  write_file(base, pattern(kBaseSize, 40));
  const std::string odd = dir_.file("odd.img");
  write_file(odd, Bytes(1000));
  const std::string junk = dir_.file("junk.ovl");
  const Bytes junk_bytes = pattern(8192, 41);
  write_file(junk, junk_bytes);
  auto expect_error = [&](const std::string& spec, const std::string& what) {
    auto r = open(spec);
    ASSERT_FALSE(r.ok()) << spec;
    EXPECT_NE(r.error().message.find(what), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
  };
  expect_error(odd + ",overlay=" + dir_.file("n1.ovl"), "not a multiple of 512");
  expect_error(dir_.file("nobase.img") + ",overlay=" + dir_.file("n2.ovl"), "No such file");
  expect_error(base + ",readonly,overlay=" + dir_.file("n3.ovl"), "no such overlay");
  expect_error(base + ",overlay=" + dir_.file("nodir/n4.ovl"), "cannot create overlay");
  expect_error(base + ",overlay=" + junk, "not a vessel overlay");
  expect_error(base + ",overlay=" + base, "cannot be the disk image itself");
  expect_error(base + ",overlay=" + dir_.file("./base.img"), "the overlay is the disk image");
  EXPECT_EQ(read_file(junk), junk_bytes);
  EXPECT_EQ(dir_.entries(), (std::vector<std::string>{"base.img", "junk.ovl", "odd.img"}));
}

TEST_P(BlockTest, OverlayCorruptionIsDetected) {
  const std::string base = dir_.file("base.img");
  const std::string ovl = dir_.file("x.ovl");
  write_file(base, pattern(kBaseSize, 50));
  use(base + ",overlay=" + ovl);
  ASSERT_EQ(write(kCluster, Bytes(kCluster, 3)), 0);
  close();
  const Bytes good = read_file(ovl);
  auto corrupt = [&](uint64_t at, uint8_t value, const std::string& what) {
    Bytes bad = good;
    bad[at] = value;
    write_file(ovl, bad);
    auto r = open(base + ",overlay=" + ovl);
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_NE(r.error().message.find(what), std::string::npos) << r.error().message;
  };
  corrupt(overlay::kFieldVirtualSize, 0x42, "checksum");
  corrupt(overlay::kFieldVersion, 9, "version 9");
  corrupt(overlay::kHeaderSize + 8 + 1, 0x13, "table is corrupt");  // entry 1, unaligned
  write_file(ovl, Bytes(good.begin(), good.begin() + 100));
  auto r = open(base + ",overlay=" + ovl);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("too short"), std::string::npos);
}

// The crash test's victim: writes, flushes, writes more, and dies by SIGKILL. Runs only as a
// child of OverlaySurvivesKill9 (which names the files in the environment).
TEST(OverlayCrash, Victim) {
  const char* base = std::getenv("VESSEL_CRASH_BASE");
  const char* ovl = std::getenv("VESSEL_CRASH_OVERLAY");
  if (base == nullptr || ovl == nullptr) GTEST_SKIP() << "run by OverlaySurvivesKill9";
  EventLoop loop;
  ASSERT_TRUE(loop.start().ok());
  DiskSpec spec{base, false, ovl};
  auto disk = open_disk(spec);
  ASSERT_TRUE(disk.ok()) << disk.error().message;
  ASSERT_TRUE((*disk)->attach(loop).ok());
  auto run = [&](auto submit) {
    std::promise<int> p;
    loop.post([&] { submit([&p](int err) { p.set_value(err); }); });
    return p.get_future().get();
  };
  Bytes a(kCluster, 0xaa), b(4096, 0xbb), c(512, 0xcc);
  ASSERT_EQ(run([&](Completion d) { (*disk)->write(0, {{a.data(), a.size()}}, d); }), 0);
  ASSERT_EQ(run([&](Completion d) { (*disk)->flush(d); }), 0);
  ASSERT_EQ(run([&](Completion d) { (*disk)->write(kCluster, {{b.data(), b.size()}}, d); }), 0);
  ASSERT_EQ(run([&](Completion d) { (*disk)->write(512, {{c.data(), c.size()}}, d); }), 0);
  raise(SIGKILL);
}

TEST(OverlayCrash, OverlaySurvivesKill9) {
  TempDir dir;
  const std::string base = dir.file("base.img");
  const std::string ovl = dir.file("crash.ovl");
  const Bytes orig = pattern(kBaseSize, 60);
  write_file(base, orig);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    setenv("VESSEL_CRASH_BASE", base.c_str(), 1);
    setenv("VESSEL_CRASH_OVERLAY", ovl.c_str(), 1);
    execl("/proc/self/exe", "block_test", "--gtest_filter=OverlayCrash.Victim", nullptr);
    _exit(127);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;

  EventLoop loop;
  ASSERT_TRUE(loop.start().ok());
  auto disk = open_disk(DiskSpec{base, true, ovl});
  ASSERT_TRUE(disk.ok()) << disk.error().message;
  ASSERT_TRUE((*disk)->attach(loop).ok());
  Bytes got(kBaseSize);
  std::promise<int> p;
  loop.post([&] { (*disk)->read(0, {{got.data(), got.size()}}, [&](int e) { p.set_value(e); }); });
  ASSERT_EQ(p.get_future().get(), 0);
  // The flushed cluster is there (with the later in-place write: the page cache outlives the
  // process); the cluster allocated after the last flush is lost and reads the base again.
  EXPECT_EQ(got[0], 0xaa);
  EXPECT_EQ(got[kCluster - 1], 0xaa);
  EXPECT_TRUE(got[512] == 0xcc || got[512] == 0xaa);
  EXPECT_TRUE(std::equal(got.begin() + kCluster, got.end(), orig.begin() + kCluster));
  EXPECT_EQ(read_file(base), orig);
  std::promise<void> q;
  loop.post([&] {
    (*disk)->detach();
    q.set_value();
  });
  q.get_future().wait();
}

TEST(OverlayFormat, HeaderRoundTrip) {
  overlay::BaseIdentity id;
  id.size = 10 * 1024 * 1024 + 512;
  id.hash = 0x1234;
  id.path = "/images/debian.img";
  id.mtime_ns = 77;
  const overlay::Header h = overlay::Header::for_base(id);
  EXPECT_EQ(h.table_entries, 161U);
  EXPECT_EQ(h.data_offset % h.cluster_size(), 0U);
  EXPECT_GE(h.data_offset, h.table_offset + h.table_entries * 8);
  const Bytes enc = h.encode();
  auto back = overlay::Header::decode(enc.data(), enc.size(), "x.ovl");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->virtual_size, id.size);
  EXPECT_EQ(back->base.path, id.path);
  EXPECT_EQ(back->base.hash, id.hash);
  EXPECT_EQ(back->base.mtime_ns, 77U);
}

}  // namespace
}  // namespace vessel::block
