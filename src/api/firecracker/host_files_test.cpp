// HostFilePolicy: what a client may name, resolved through symbolic links and "..".
#include "api/firecracker/host_files.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "api/http/scratch_dir.hpp"

namespace vessel::api {
namespace {

using http::ScratchDir;

// The error `check` gives (and that it is one line naming the field), or "" when it passes.
std::string refusal(const HostFilePolicy& policy, const std::string& path,
                    HostFileUse use = HostFileUse::kDisk, bool writable = false) {
  auto r = policy.check("disks[0].path", path, use, writable);
  if (r.ok()) return "";
  EXPECT_EQ(r.error().message.find('\n'), std::string::npos) << r.error().message;
  EXPECT_TRUE(r.error().message.starts_with("disks[0].path: ")) << r.error().message;
  return r.error().message;
}

class HostFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir.at("images/sub"));
    std::filesystem::create_directories(dir.at("elsewhere"));
    image = dir.file("images/disk.img");
    secret = dir.file("elsewhere/secret");
  }
  HostFilePolicy confined() {
    auto p = HostFilePolicy::confined_to({dir.at("images")}, "--allow-dir");
    EXPECT_TRUE(p.ok()) << p.error().message;
    return *p;
  }

  ScratchDir dir;
  std::string image, secret;
};

TEST_F(HostFilesTest, KernelFilesAreRefusedEvenUnconfined) {
  const HostFilePolicy anywhere;
  EXPECT_EQ(refusal(anywhere, image), "");
  EXPECT_EQ(refusal(anywhere, secret), "");
  // As the per-VM API once accepted: a process's memory, the kernel's files, devices.
  for (const std::string path : {"/proc/self/mem", "/proc/self/environ", "/proc/kcore",
                                 "/sys/kernel/mm/transparent_hugepage/enabled"}) {
    if (access(path.c_str(), F_OK) != 0) continue;
    EXPECT_NE(refusal(anywhere, path).find("a file of the kernel's"), std::string::npos) << path;
  }
  EXPECT_NE(refusal(anywhere, "/dev/null").find("/dev/null: not a regular file or block device"),
            std::string::npos);
  EXPECT_NE(
      refusal(anywhere, "/dev/null", HostFileUse::kImage).find("/dev/null: not a regular file"),
      std::string::npos);
  EXPECT_NE(refusal(anywhere, dir.path()).find("not a regular file"), std::string::npos);
  EXPECT_NE(refusal(anywhere, dir.at("absent")).find("No such file"), std::string::npos);
  // Through a symbolic link, too.
  std::filesystem::create_symlink("/proc/self/mem", dir.at("images/mem.img"));
  EXPECT_NE(refusal(anywhere, dir.at("images/mem.img")).find("a file of the kernel's"),
            std::string::npos);
}

TEST_F(HostFilesTest, ConfinedToItsDirectoriesAfterResolving) {
  const HostFilePolicy policy = confined();
  auto ok = policy.check("disks[0].path", image, HostFileUse::kDisk, true);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(*ok, image);
  EXPECT_EQ(refusal(policy, dir.at("images/sub/../disk.img")), "");

  const std::string outside = refusal(policy, secret);
  EXPECT_EQ(outside, "disks[0].path: " + secret + ": outside the directories a client may use (" +
                         dir.at("images") + ")");
  EXPECT_NE(refusal(policy, "/etc/shadow").find("outside the directories"), std::string::npos);
  EXPECT_NE(refusal(policy, "/etc/passwd", HostFileUse::kImage).find("outside the directories"),
            std::string::npos);
  // ".." and symbolic links are followed before the check, and the message says where to.
  EXPECT_NE(refusal(policy, dir.at("images/../elsewhere/secret")).find("outside"),
            std::string::npos);
  std::filesystem::create_symlink(secret, dir.at("images/link.img"));
  EXPECT_EQ(refusal(policy, dir.at("images/link.img")),
            "disks[0].path: " + dir.at("images/link.img") + " (" + secret +
                "): outside the directories a client may use (" + dir.at("images") + ")");
  std::filesystem::create_symlink(dir.at("elsewhere"), dir.at("images/dir"));
  EXPECT_NE(refusal(policy, dir.at("images/dir/secret")).find("outside"), std::string::npos);
  // A sibling whose name starts like the allowed one is not inside it.
  std::filesystem::create_directories(dir.at("images2"));
  EXPECT_NE(refusal(policy, dir.file("images2/x.img")).find("outside"), std::string::npos);
}

TEST_F(HostFilesTest, AProtectedDirectoryIsClosedButForAnAllowedOneInside) {
  // The daemon's case: DIR is its state dir, DIR/images the clients' place in it.
  auto policy = HostFilePolicy::confined_to({dir.path(), dir.at("images")}, "--allow-dir");
  ASSERT_TRUE(policy.ok());
  ASSERT_TRUE(policy->protect(dir.path()).ok());
  EXPECT_EQ(refusal(*policy, image), "");
  EXPECT_EQ(refusal(*policy, secret), "disks[0].path: " + secret + ": inside " + dir.path() +
                                          ", whose files are not a client's to use");
}

TEST_F(HostFilesTest, ADiskPathWithACommaIsAPathLikeAnother) {
  // Disks reach the machine typed (block::DiskSpec), never as --disk option strings: a comma in
  // a path cannot add options.
  const std::string comma = dir.file("images/a,overlay=x");
  std::filesystem::create_symlink(comma, dir.at("images/plain.img"));
  EXPECT_EQ(refusal(confined(), dir.at("images/plain.img")), "");
}

TEST_F(HostFilesTest, UnreadableAndReadOnlyFiles) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads and writes any file";
  std::filesystem::permissions(image, std::filesystem::perms::owner_read);
  EXPECT_EQ(refusal(confined(), image), "");
  EXPECT_NE(refusal(confined(), image, HostFileUse::kDisk, true).find("Permission denied"),
            std::string::npos);
}

TEST(HostFilePolicy, AllowedDirectoriesMustBeDirectories) {
  auto r = HostFilePolicy::confined_to({"/nonexistent/dir"}, "--allow-dir");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "--allow-dir /nonexistent/dir: No such file or directory");
  r = HostFilePolicy::confined_to({"/etc/passwd"}, "--api-allow-dir");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "--api-allow-dir /etc/passwd: not a directory");
}

}  // namespace
}  // namespace vessel::api
