// The log's defences against a guest that loops on a mistake: LogLimiter's budget, the
// "(suppressed N similar messages)" note, and --log-file's rotation. Whatever writes to stderr
// runs in a forked child, so the test's own output is untouched.
#include "base/log.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>
#include <vector>

#include "base/test_temp_dir.hpp"

namespace vessel {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::TempDir;

TEST(LogLimiter, BurstThenOneAnIntervalWithTheCountHeldBack) {
  LogLimiter limiter(3, seconds(1));
  const Clock::time_point t0{};
  for (int i = 0; i < 3; ++i) {
    const auto v = limiter.admit(t0);
    EXPECT_TRUE(v.print);
    EXPECT_EQ(v.suppressed, 0U);
  }
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(limiter.admit(t0 + milliseconds(i)).print);
  const auto resumed = limiter.admit(t0 + seconds(1));
  EXPECT_TRUE(resumed.print);
  EXPECT_EQ(resumed.suppressed, 1000U);
  EXPECT_FALSE(limiter.admit(t0 + seconds(1)).print);
  const auto next = limiter.admit(t0 + seconds(2));
  EXPECT_TRUE(next.print);
  EXPECT_EQ(next.suppressed, 1U);
}

TEST(LogLimiter, AQuietSpellRefillsOnlyTheBurst) {
  LogLimiter limiter(3, seconds(1));
  const Clock::time_point t0{};
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.admit(t0).print);
  EXPECT_FALSE(limiter.admit(t0).print);
  const Clock::time_point later = t0 + std::chrono::hours(24);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.admit(later).print);
  EXPECT_FALSE(limiter.admit(later).print);
}

TEST(LogLimiter, ManyThreadsShareOneBudget) {
  LogLimiter limiter(5, std::chrono::hours(1));
  std::atomic<int> printed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        if (limiter.admit(Clock::now()).print) printed.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(printed.load(), 5);
}

// Runs `body` in a child whose stdout and stderr are `path` (as vessel daemon starts a VM);
// returns its exit status.
int in_child(const std::string& path, const std::function<int()>& body) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0) _exit(100);
    close(fd);
    _exit(body());
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

long file_size(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? static_cast<long>(st.st_size) : -1;
}

TEST(LogLimited, PrintsTheBurstThenSaysHowManyItHeldBack) {
  TempDir dir;
  const std::string out = dir.file("stderr");
  const int status = in_child(out, [] {
    LogLimiter limiter(2, milliseconds(200));
    for (int i = 0; i < 1000; ++i) log_limited(limiter, LogLevel::kWarn, "queue {}: bad", i);
    std::this_thread::sleep_for(milliseconds(250));
    log_limited(limiter, LogLevel::kWarn, "queue {}: bad", 1000);
    return 0;
  });
  ASSERT_EQ(status, 0);
  EXPECT_EQ(read_file(out),
            "vessel: warn: queue 0: bad\n"
            "vessel: warn: queue 1: bad\n"
            "vessel: warn: queue 1000: bad (suppressed 998 similar messages)\n");
}

TEST(LogLimited, AMessageBelowTheLevelSpendsNothing) {
  TempDir dir;
  const std::string out = dir.file("stderr");
  const int status = in_child(out, [] {
    LogLimiter limiter(1, std::chrono::hours(1));
    log_limited(limiter, LogLevel::kDebug, "not shown");
    log_limited(limiter, LogLevel::kWarn, "shown");
    return 0;
  });
  ASSERT_EQ(status, 0);
  EXPECT_EQ(read_file(out), "vessel: warn: shown\n");
}

TEST(LogFile, RotatesAtHalfTheSizeAndKeepsTheNewest) {
  TempDir dir;
  const std::string path = dir.file("vmm.log");
  const int status = in_child(path, [&] {
    if (!redirect_log_file({path, 8 << 10})) return 1;
    for (int i = 0; i < 2000; ++i) log(LogLevel::kWarn, "line {:05}", i);
    write_stderr_line("the last line");
    return 0;
  });
  ASSERT_EQ(status, 0);
  const long now = file_size(path), older = file_size(path + ".1");
  const long line = static_cast<long>(std::string("vessel: warn: line 00000\n").size());
  EXPECT_LE(now, 4096 + line);
  EXPECT_GE(older, 4096);
  EXPECT_LE(older, 4096 + line);
  const std::string both = read_file(path + ".1") + read_file(path);
  EXPECT_NE(both.find("vessel: warn: line 01999\nthe last line\n"), std::string::npos);
  EXPECT_EQ(both.find("line 00000"), std::string::npos);
}

TEST(LogFile, AFullLogLeftByAnEarlierRunIsRotatedAtOnce) {
  TempDir dir;
  const std::string path = dir.file("vmm.log");
  { std::ofstream(path) << std::string(10000, 'x') << '\n'; }
  const int status = in_child(path, [&] {
    if (!redirect_log_file({path, 8 << 10})) return 1;
    log(LogLevel::kWarn, "after");
    return 0;
  });
  ASSERT_EQ(status, 0);
  EXPECT_EQ(read_file(path), "vessel: warn: after\n");
  EXPECT_EQ(file_size(path + ".1"), 10001);
}

TEST(LogFile, RefusesWhatIsNotARegularFile) {
  TempDir dir;
  auto r = redirect_log_file({dir.file(""), 1 << 20});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("not a regular file"), std::string::npos) << r.error().message;
  r = redirect_log_file({dir.file("x"), 1 << 10});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("between 4K and 1G"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace vessel
