#include "host/console_log.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "base/test_temp_dir.hpp"

namespace vessel {
namespace {

using testing::TempDir;

// -1 when there is no such file.
long file_size(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? static_cast<long>(st.st_size) : -1;
}

std::string stream_of(size_t n, size_t salt = 0) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    s[i] = static_cast<char>(' ' + ((i + salt) * 31 + (i + salt) / 97) % 90);
  }
  return s;
}

// What `vessel logs --file PATH` prints.
std::string printed(const TempDir& dir, const std::string& path) {
  const std::string out = dir.file("printed");
  const int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  EXPECT_GE(fd, 0);
  auto r = print_console_log(path, fd);
  EXPECT_TRUE(r.ok()) << r.error().message;
  close(fd);
  std::ifstream in(out, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

void append(LogRing& ring, const std::string& s) {
  auto r = ring.append(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  ASSERT_TRUE(r.ok()) << r.error().message;
}

TEST(LogRing, RotatesAtHalfTheSizeAndKeepsTheNewestBytesInOrder) {
  TempDir dir;
  const std::string path = dir.file("console.log");
  LogRing ring(path, 8192);
  EXPECT_EQ(file_size(path), -1);  // nothing before the first byte
  const std::string all = stream_of(50000);
  size_t off = 0;
  const size_t chunks[] = {1, 7, 100, 4095, 4096, 4097, 5000, 13, 9000};
  for (size_t i = 0; off < all.size(); ++i) {
    const size_t n = std::min(chunks[i % std::size(chunks)], all.size() - off);
    append(ring, all.substr(off, n));
    off += n;
    ASSERT_LE(file_size(path), 4096);
    ASSERT_LE(file_size(path + ".1"), 4096);
  }
  const std::string log = printed(dir, path);
  EXPECT_GE(log.size(), 4096u);
  EXPECT_LE(log.size(), 8192u);
  EXPECT_TRUE(ends_with(all, log)) << "the log is not the newest bytes in order";
  EXPECT_EQ(file_size(path + ".1"), 4096);
}

TEST(LogRing, BeforeTheFirstRotationThereIsOnlyPath) {
  TempDir dir;
  const std::string path = dir.file("console.log");
  LogRing ring(path, 8192);
  append(ring, "Linux version 6.12\n");
  EXPECT_EQ(file_size(path + ".1"), -1);
  EXPECT_EQ(printed(dir, path), "Linux version 6.12\n");
}

TEST(LogRing, ALaterRunContinuesTheRing) {
  TempDir dir;
  const std::string path = dir.file("console.log");
  const std::string first = stream_of(3000), second = stream_of(3000, 1);
  {
    LogRing ring(path, 8192);
    append(ring, first);
  }
  LogRing ring(path, 8192);
  append(ring, second);
  const std::string log = printed(dir, path);
  EXPECT_TRUE(log == first + second);
  EXPECT_LE(file_size(path), 4096);
}

TEST(LogRing, ASmallerSizeTrimsWhatALargerOneLeft) {
  TempDir dir;
  const std::string path = dir.file("console.log");
  const std::string before = stream_of(100000);
  {
    LogRing ring(path, 65536);
    append(ring, before);
  }
  ASSERT_GT(file_size(path + ".1"), 4096);
  LogRing ring(path, 8192);
  append(ring, "after");
  EXPECT_LE(file_size(path), 4096);
  EXPECT_LE(file_size(path + ".1"), 4096);
  const std::string log = printed(dir, path);
  EXPECT_LE(log.size(), 8192u);
  EXPECT_TRUE(ends_with(before + "after", log));
}

TEST(ConsoleLog, WritesOffTheCallersThreadAndFlushes) {
  TempDir dir;
  const std::string path = dir.file("console.log");
  auto log = ConsoleLog::open(path, 16384);
  ASSERT_TRUE(log.ok()) << log.error().message;
  const std::string all = stream_of(100000);
  // One byte at a time, as the UART hands them over, from two harts' threads in turn.
  std::thread t([&] {
    for (size_t i = 0; i < all.size() / 2; ++i) {
      (*log)->write(reinterpret_cast<const uint8_t*>(&all[i]), 1);
    }
  });
  t.join();
  for (size_t i = all.size() / 2; i < all.size(); ++i) {
    (*log)->write(reinterpret_cast<const uint8_t*>(&all[i]), 1);
  }
  (*log)->flush();
  EXPECT_EQ((*log)->dropped(), 0u);
  const std::string text = printed(dir, path);
  EXPECT_GE(text.size(), 8192u);
  EXPECT_LE(text.size(), 16384u);
  EXPECT_TRUE(ends_with(all, text));
}

TEST(ConsoleLog, WhatIsPendingIsWrittenAtTheEnd) {
  TempDir dir;
  const std::string path = dir.file("console.log");
  {
    auto log = ConsoleLog::open(path, ConsoleLog::kDefaultSize);
    ASSERT_TRUE(log.ok());
    const std::string last = "reboot: Power down\r\n";
    (*log)->write(reinterpret_cast<const uint8_t*>(last.data()), last.size());
  }
  EXPECT_EQ(printed(dir, path), "reboot: Power down\r\n");
}

TEST(ConsoleLog, NothingIsCreatedBeforeTheFirstByte) {
  TempDir dir;
  const std::string path = dir.file("console.log");
  {
    auto log = ConsoleLog::open(path, ConsoleLog::kDefaultSize);
    ASSERT_TRUE(log.ok());
  }
  EXPECT_EQ(file_size(path), -1);
  EXPECT_EQ(file_size(path + ".1"), -1);
}

TEST(ConsoleLog, CreateMakesTheFileBeforeAnyOutput) {
  TempDir dir;
  const std::string path = dir.file("console.log");
  auto log = ConsoleLog::open(path, ConsoleLog::kDefaultSize);
  ASSERT_TRUE(log.ok());
  (*log)->create();
  EXPECT_EQ(file_size(path), static_cast<long>(sizeof kConsoleLogHeader - 1));
  EXPECT_EQ(printed(dir, path), "");
  const std::string hello = "hello\n";
  (*log)->write(reinterpret_cast<const uint8_t*>(hello.data()), hello.size());
  (*log)->create();  // again, with output pending: nothing lost, no second header
  (*log)->flush();
  EXPECT_EQ(printed(dir, path), "hello\n");
  EXPECT_EQ(file_size(path), static_cast<long>(sizeof kConsoleLogHeader - 1 + hello.size()));
}

TEST(ConsoleLog, BadSizesAndPathsAreRefused) {
  TempDir dir;
  auto r = ConsoleLog::check(dir.file("a.log"), 100);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("too small"), std::string::npos);
  r = ConsoleLog::check(dir.file("a.log"), 4ULL << 30);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("too large"), std::string::npos);
  r = ConsoleLog::check(dir.file("none/a.log"), 1 << 20);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(dir.file("none")), std::string::npos) << r.error().message;
  ASSERT_EQ(mkdir(dir.file("d").c_str(), 0700), 0);
  r = ConsoleLog::check(dir.file("d"), 1 << 20);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("not a regular file"), std::string::npos);
  EXPECT_TRUE(ConsoleLog::check(dir.file("a.log"), 1 << 20).ok());
}

TEST(ConsoleLog, SomeoneElsesFileIsRefusedAndLeftAlone) {
  TempDir dir;
  for (const std::string name : {"notes.txt", "old.log.1"}) {
    const std::string path = dir.file(name);
    const std::string theirs = std::string(100000, 'n') + "keep me\n";
    std::ofstream(path) << theirs;
    ASSERT_EQ(chmod(path.c_str(), 0644), 0);
    const std::string log_path = name == "notes.txt" ? path : dir.file("old.log");
    auto r = ConsoleLog::open(log_path, 8192);
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_NE(r.error().message.find(path + ": exists and is not a Vessel console log"),
              std::string::npos)
        << r.error().message;
    std::ifstream in(path, std::ios::binary);
    std::stringstream now;
    now << in.rdbuf();
    EXPECT_EQ(now.str(), theirs);
    struct stat st {};
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0644u);
  }
}

TEST(ConsoleLog, AnEmptyFileOrItsOwnRingIsTaken) {
  TempDir dir;
  const std::string path = dir.file("console.log");
  std::ofstream(path).close();
  for (const char* text : {"first run\n", "second run\n"}) {
    auto log = ConsoleLog::open(path, 8192);
    ASSERT_TRUE(log.ok()) << log.error().message;
    (*log)->write(reinterpret_cast<const uint8_t*>(text), std::strlen(text));
  }
  EXPECT_EQ(printed(dir, path), "first run\nsecond run\n");
  std::ifstream in(path, std::ios::binary);
  std::stringstream raw;
  raw << in.rdbuf();
  EXPECT_EQ(raw.str(), std::string(kConsoleLogHeader) + "first run\nsecond run\n");
}

TEST(ConsoleLog, PrintingAMissingLogIsAnError) {
  TempDir dir;
  auto r = print_console_log(dir.file("none.log"), STDOUT_FILENO);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(dir.file("none.log")), std::string::npos);
}

}  // namespace
}  // namespace vessel
