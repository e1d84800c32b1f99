// listen_unix: the socket appears at its path listening, owner-only, with nothing left beside
// it; a path no socket can have is refused in one line.
#include "base/unix_listen.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>

#include "base/test_temp_dir.hpp"

namespace vessel {
namespace {

bool connects(const std::string& path) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const bool ok = connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

TEST(UnixListen, ThePathAppearsListeningAndOwnerOnly) {
  testing::TempDir dir;
  const std::string path = dir.file("api.sock");
  auto fd = listen_unix(path, 4);
  ASSERT_TRUE(fd.ok()) << fd.error().message;
  struct stat st {};
  ASSERT_EQ(lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_TRUE(connects(path));
  // Only the socket: the temporary name it was bound under is gone.
  size_t entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    ++entries;
    EXPECT_EQ(e.path().string(), path);
  }
  EXPECT_EQ(entries, 1u);
  close(*fd);
}

TEST(UnixListen, APathTooLongForTheTemporaryNameStillListens) {
  testing::TempDir dir;
  const std::string base = dir.file("");
  const std::string path = base + std::string(107 - base.size(), 's');  // the longest there is
  auto fd = listen_unix(path, 4);
  ASSERT_TRUE(fd.ok()) << fd.error().message;
  EXPECT_TRUE(connects(path));
  close(*fd);
}

TEST(UnixListen, UnusablePathsAreOneLineErrors) {
  testing::TempDir dir;
  for (const std::string& path :
       {std::string(), dir.file(std::string(120, 'x')), dir.file("missing-dir/api.sock")}) {
    auto fd = listen_unix(path, 4);
    ASSERT_FALSE(fd.ok()) << path;
    EXPECT_EQ(fd.error().message.find('\n'), std::string::npos);
    EXPECT_EQ(fd.error().message.rfind(path, 0), 0u) << fd.error().message;
  }
}

TEST(UnixListen, ALiveSocketIsToldFromAStaleOne) {
  testing::TempDir dir;
  const std::string live = dir.file("live.sock");
  auto fd = listen_unix(live, 1);
  ASSERT_TRUE(fd.ok()) << fd.error().message;
  EXPECT_TRUE(unix_socket_live(live));
  // A socket file that nobody listens on any more: the one a process that died left.
  const std::string stale = dir.file("stale.sock");
  const int bound = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, stale.c_str(), stale.size() + 1);
  ASSERT_EQ(bind(bound, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
  close(bound);
  EXPECT_FALSE(unix_socket_live(stale));
  EXPECT_FALSE(unix_socket_live(dir.file("missing.sock")));
  close(*fd);
  EXPECT_FALSE(unix_socket_live(live)) << "a closed listener's file is stale";
}

}  // namespace
}  // namespace vessel
