// Images in formats Vessel does not read, given as raw disks: refused unless format=raw.
#include "host/block/image_format.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "base/test_temp_dir.hpp"
#include "host/block/block_backend.hpp"

namespace vessel::block {
namespace {

using vessel::testing::TempDir;

// A 64K image that begins with `head` and is zero after it.
std::string image(const TempDir& dir, const std::string& name, const std::string& head) {
  std::string bytes(64 * 1024, '\0');
  bytes.replace(0, head.size(), head);
  const std::string path = dir.file(name);
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

const std::string kQcow2 = std::string("QFI\xfb\0\0\0\3", 8);
const std::string kVdi = std::string(0x40, '<') + "\x7f\x10\xda\xbe";

TEST(ImageFormat, MagicsAreRecognised) {
  EXPECT_EQ(detect_image_format(kQcow2), "qcow2");
  EXPECT_EQ(detect_image_format(std::string("QFI\xfb\0\0\0\1", 8)), "qcow");
  EXPECT_EQ(detect_image_format(std::string("QED\0\0\0\0\0", 8)), "QED");
  EXPECT_EQ(detect_image_format("KDMV\1\0\0\0"), "VMDK");
  EXPECT_EQ(detect_image_format("vhdxfile"), "VHDX");
  EXPECT_EQ(detect_image_format("conectix"), "VHD");
  EXPECT_EQ(detect_image_format(kVdi), "VDI");
  // Raw disks: zeros, an MBR, an ext4 file system's first sector, and too little to tell.
  EXPECT_EQ(detect_image_format(std::string(512, '\0')), std::nullopt);
  EXPECT_EQ(detect_image_format(std::string(510, '\0') + "\x55\xaa"), std::nullopt);
  EXPECT_EQ(detect_image_format("QFI"), std::nullopt);
  EXPECT_EQ(detect_image_format(""), std::nullopt);
}

TEST(ImageFormat, OpenRefusesAQcow2UnlessFormatRawIsStated) {
  TempDir dir;
  const std::string path = image(dir, "q.img", kQcow2);
  auto refused = open_disk(DiskSpec{path, true, ""});
  ASSERT_FALSE(refused.ok());
  const std::string& message = refused.error().message;
  EXPECT_EQ(message.rfind(path + ": a qcow2 image, not a raw one", 0), 0U) << message;
  EXPECT_NE(message.find("add format=raw"), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos);

  auto spec = parse_disk_option(path + ",readonly,format=raw");
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  EXPECT_TRUE(spec->format_stated);
  auto opened = open_disk(*spec);
  EXPECT_TRUE(opened.ok()) << opened.error().message;
}

TEST(ImageFormat, AVdiIsRefusedAndARawImageIsNot) {
  TempDir dir;
  auto vdi = open_disk(DiskSpec{image(dir, "v.vdi", kVdi), true, ""});
  ASSERT_FALSE(vdi.ok());
  EXPECT_NE(vdi.error().message.find("a VDI image"), std::string::npos) << vdi.error().message;
  auto raw = open_disk(DiskSpec{image(dir, "r.img", "hello"), true, ""});
  EXPECT_TRUE(raw.ok()) << raw.error().message;
}

}  // namespace
}  // namespace vessel::block
