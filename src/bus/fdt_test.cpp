#include "bus/fdt.hpp"

#include <gtest/gtest.h>
#include <libfdt.h>

#include <string>
#include <vector>

namespace vessel {
namespace {

std::vector<uint8_t> small_tree(size_t free_space) {
  FdtWriter fdt;
  fdt.begin_node("");
  fdt.prop_string("model", "riscv-virtio,qemu");
  fdt.begin_node("chosen");
  fdt.prop_string("stdout-path", "/soc/serial@10000000");
  fdt.end_node();
  fdt.end_node();
  auto blob = fdt.finish(free_space);
  EXPECT_TRUE(blob.ok()) << blob.error().message;
  return blob.ok() ? *blob : std::vector<uint8_t>{};
}

// The end of what the tree uses: its strings block comes last.
size_t used_bytes(const std::vector<uint8_t>& blob) {
  return fdt_off_dt_strings(blob.data()) + fdt_size_dt_strings(blob.data());
}

TEST(FdtWriter, PackedByDefault) {
  const std::vector<uint8_t> blob = small_tree(0);
  ASSERT_EQ(fdt_check_header(blob.data()), 0);
  EXPECT_EQ(fdt_totalsize(blob.data()), blob.size());
  EXPECT_EQ(used_bytes(blob), blob.size());
}

// A loader that edits the tree where it lies (U-Boot's booti fills in /chosen in its own copy,
// sized by totalsize) needs room inside totalsize, as OpenSBI leaves: the properties fit
// without growing the blob.
TEST(FdtWriter, FreeSpaceInsideTotalsizeTakesChosenEditsInPlace) {
  std::vector<uint8_t> blob = small_tree(8 * 1024);
  ASSERT_EQ(fdt_check_header(blob.data()), 0);
  EXPECT_EQ(fdt_totalsize(blob.data()), blob.size());
  EXPECT_GE(blob.size() - used_bytes(blob), 8u * 1024);
  const int chosen = fdt_path_offset(blob.data(), "/chosen");
  ASSERT_GE(chosen, 0);
  const std::string bootargs(2000, 'x');
  const int bootargs_len = static_cast<int>(bootargs.size() + 1);
  EXPECT_EQ(fdt_setprop(blob.data(), chosen, "bootargs", bootargs.c_str(), bootargs_len), 0);
  EXPECT_EQ(fdt_setprop_u64(blob.data(), chosen, "linux,initrd-start", 0x88300000), 0);
  EXPECT_EQ(fdt_setprop_u64(blob.data(), chosen, "linux,initrd-end", 0x88600000), 0);
  EXPECT_EQ(fdt_totalsize(blob.data()), blob.size());
  // The tree read back is whole: what was there and what was added.
  int len = 0;
  const auto* model = static_cast<const char*>(fdt_getprop(blob.data(), 0, "model", &len));
  ASSERT_NE(model, nullptr);
  EXPECT_STREQ(model, "riscv-virtio,qemu");
  EXPECT_NE(fdt_getprop(blob.data(), chosen, "stdout-path", &len), nullptr);
  EXPECT_EQ(fdt_getprop(blob.data(), chosen, "bootargs", &len) != nullptr ? len : -1, bootargs_len);
  // Without the room, the same edit does not fit: what U-Boot ran into with a packed tree.
  std::vector<uint8_t> packed = small_tree(0);
  const int packed_chosen = fdt_path_offset(packed.data(), "/chosen");
  EXPECT_EQ(fdt_setprop(packed.data(), packed_chosen, "bootargs", bootargs.c_str(), bootargs_len),
            -FDT_ERR_NOSPACE);
}

}  // namespace
}  // namespace vessel
