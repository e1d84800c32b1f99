// --snapshot disks (DiskSpec::snapshot): writes land in a temporary overlay that nobody else
// can see, the image is untouched until commit() writes them back, and nothing is left on
// the host however the disk is closed.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

#include "base/event_loop.hpp"
#include "base/test_temp_dir.hpp"
#include "host/block/backend_test_support.hpp"
#include "host/block/block_backend.hpp"

namespace vessel::block {
namespace {

namespace fs = std::filesystem;
using testing::Bytes;
using testing::pattern;
using testing::read_file;
using testing::write_file;

constexpr uint64_t kSize = 1 << 20;  // 16 of the overlay's 64 KiB clusters

class SnapshotDisk : public ::testing::Test {
 protected:
  void SetUp() override {
    // The temporary overlay goes to TMPDIR: here, a directory the test can look into.
    old_tmpdir_ = std::getenv("TMPDIR") != nullptr ? std::getenv("TMPDIR") : "";
    fs::create_directory(tmp_.file("tmp"));
    setenv("TMPDIR", tmp_.file("tmp").c_str(), 1);
    write_file(image_, base_);
    ASSERT_TRUE(loop_.start("snapshot-test").ok());
  }
  void TearDown() override {
    io_.close();
    if (old_tmpdir_.empty()) {
      unsetenv("TMPDIR");
    } else {
      setenv("TMPDIR", old_tmpdir_.c_str(), 1);
    }
  }
  void use(const std::string& spec_text) {
    io_.close();
    auto spec = parse_disk_option(spec_text);
    ASSERT_TRUE(spec.ok()) << spec.error().message;
    auto disk = open_disk(*spec);
    ASSERT_TRUE(disk.ok()) << disk.error().message;
    disk_ = std::move(disk).value();
    ASSERT_TRUE(disk_->attach(loop_).ok());
  }
  Result<uint64_t> commit() {
    std::promise<Result<uint64_t>> p;
    loop_.post([&] { p.set_value(disk_->commit()); });
    return p.get_future().get();
  }
  Bytes read_all() {
    Bytes out(kSize);
    EXPECT_EQ(io_.read(0, out), 0);
    return out;
  }
  bool tmp_is_empty() const { return fs::is_empty(tmp_.file("tmp")); }

  vessel::testing::TempDir tmp_;
  std::string old_tmpdir_;
  const std::string image_ = tmp_.file("disk.img");
  const Bytes base_ = pattern(kSize, 1);
  EventLoop loop_;
  std::unique_ptr<BlockBackend> disk_;
  testing::LoopDisk io_{loop_, disk_};
};

TEST_F(SnapshotDisk, WritesStayAwayFromTheImageUntilCommitted) {
  use(image_ + ",snapshot=on");
  EXPECT_TRUE(disk_->snapshot());
  EXPECT_NE(disk_->describe().find("--snapshot"), std::string::npos);
  EXPECT_TRUE(tmp_is_empty()) << "the temporary overlay is unlinked once open";
  Bytes model = base_;
  auto put = [&](uint64_t at, const Bytes& data) {
    ASSERT_EQ(io_.write(at, data), 0);
    std::copy(data.begin(), data.end(), model.begin() + static_cast<ptrdiff_t>(at));
  };
  put(4096, pattern(8192, 9));                        // inside cluster 0
  put(kSize - 512, pattern(512, 21));                 // the last sector
  ASSERT_EQ(io_.zeroes(3 << 16, 1 << 16, false), 0);  // a whole cluster of zeros
  std::fill_n(model.begin() + (3 << 16), 1 << 16, 0);
  ASSERT_EQ(io_.flush(), 0);
  EXPECT_EQ(read_all(), model);
  EXPECT_EQ(read_file(image_), base_) << "a guest's flush is not a write-back";

  auto done = commit();
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(*done, 3u << 16) << "three clusters written back";
  EXPECT_EQ(read_file(image_), model);
  EXPECT_EQ(read_all(), model);

  // The overlay starts over: later writes are again the overlay's until the next commit.
  put(0, pattern(512, 40));
  EXPECT_EQ(read_all(), model);
  EXPECT_NE(read_file(image_), model);
  done = commit();
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(*done, 1u << 16);
  EXPECT_EQ(read_file(image_), model);
  io_.close();
  EXPECT_TRUE(tmp_is_empty());
}

TEST_F(SnapshotDisk, ClosedWithoutCommitLeavesTheImageAsItWas) {
  use(image_ + ",snapshot=on");
  ASSERT_EQ(io_.write(0, pattern(kSize, 5)), 0);
  ASSERT_EQ(io_.flush(), 0);
  io_.close();
  EXPECT_EQ(read_file(image_), base_);
  EXPECT_TRUE(tmp_is_empty());
}

TEST_F(SnapshotDisk, CommitRefusals) {
  // Another process holds the image (say, a VM with an overlay over it): shared lock.
  {
    use(image_ + ",snapshot=on");
    ASSERT_EQ(io_.write(0, pattern(512, 3)), 0);
    const int other = ::open(image_.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(other, 0);
    ASSERT_EQ(flock(other, LOCK_SH), 0);
    auto done = commit();
    ASSERT_FALSE(done.ok());
    EXPECT_NE(done.error().message.find("in use by another process"), std::string::npos)
        << done.error().message;
    ::close(other);
    EXPECT_EQ(read_file(image_), base_);
    done = commit();  // the overlay kept everything: a second try succeeds
    ASSERT_TRUE(done.ok()) << done.error().message;
  }
  // A plain disk and a read-only snapshot disk have nothing to write back.
  use(image_);
  EXPECT_FALSE(disk_->snapshot());
  EXPECT_FALSE(commit().ok());
  use(image_ + ",snapshot=on,readonly");
  EXPECT_FALSE(disk_->snapshot());
}

TEST(SnapshotDiskOption, ParsesAndRefuses) {
  auto spec = parse_disk_option("a.img,snapshot=on");
  ASSERT_TRUE(spec.ok());
  EXPECT_TRUE(spec->snapshot);
  EXPECT_TRUE(parse_disk_option("a.img,snapshot=on,snapshot=on").ok()) << "--snapshot adds it";
  for (const char* bad : {"a.img,snapshot=off", "a.img,snapshot", "a.img,snapshot=on,overlay=o",
                          "nbd://host/x,snapshot=on"}) {
    auto r = parse_disk_option(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message.find("snapshot"), std::string::npos) << r.error().message;
  }
}

}  // namespace
}  // namespace vessel::block
