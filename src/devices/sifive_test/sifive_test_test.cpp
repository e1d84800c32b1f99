#include "devices/sifive_test/sifive_test.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "devices/test_support.hpp"

namespace vessel {
namespace {

using testing::rd;
using testing::wr;

class SifiveTestTest : public ::testing::Test {
 protected:
  std::vector<PowerRequest> requests;
  SifiveTest dev{[this](PowerRequest r) { requests.push_back(r); }};
};

TEST_F(SifiveTestTest, FinisherCommands) {
  wr(dev, SifiveTest::kFinisher, SifiveTest::kPass);
  wr(dev, SifiveTest::kFinisher, SifiveTest::kReset, 2);  // OpenSBI writes 16 bits
  wr(dev, SifiveTest::kFinisher, (42U << 16) | SifiveTest::kFail);
  ASSERT_EQ(requests.size(), 3U);
  EXPECT_EQ(requests[0].kind, PowerRequest::kPoweroff);
  EXPECT_EQ(requests[1].kind, PowerRequest::kReset);
  EXPECT_EQ(requests[2].kind, PowerRequest::kFail);
  EXPECT_EQ(requests[2].code, 42U);
}

TEST_F(SifiveTestTest, OtherValuesAndAccessesAreIgnored) {
  wr(dev, SifiveTest::kFinisher, 0x1234);
  wr(dev, SifiveTest::kFinisher, (1U << 16) | 0x5556);
  wr(dev, 0x4, SifiveTest::kPass);  // not the finisher register
  EXPECT_FALSE(dev.write(SifiveTest::kFinisher, 1, 0x55));
  EXPECT_FALSE(dev.write(SifiveTest::kWindowSize, 4, SifiveTest::kPass));
  EXPECT_TRUE(requests.empty());
  EXPECT_EQ(rd(dev, SifiveTest::kFinisher), 0U);
  EXPECT_EQ(rd(dev, 0x10, 8), 0U);
  uint64_t v = 0;
  EXPECT_FALSE(dev.read(SifiveTest::kWindowSize, 4, v));
}

TEST_F(SifiveTestTest, SaveRestoreReproducesBehaviour) {
  const auto state = testing::saved(dev);
  std::vector<PowerRequest> got;
  SifiveTest copy([&](PowerRequest r) { got.push_back(r); });
  StateReader in(state);
  ASSERT_TRUE(copy.restore(in).ok());
  EXPECT_TRUE(in.at_end());
  wr(copy, SifiveTest::kFinisher, (3U << 16) | SifiveTest::kFail);
  ASSERT_EQ(got.size(), 1U);
  EXPECT_EQ(got[0].kind, PowerRequest::kFail);
  EXPECT_EQ(got[0].code, 3U);

  StateWriter other;
  other.begin("clint/1");
  StateReader in2(other.bytes());
  EXPECT_FALSE(copy.restore(in2).ok());
}

TEST_F(SifiveTestTest, DeviceTreeNodes) {
  FdtContext ctx;
  ctx.base = 0x100000;
  ctx.size = 0x1000;
  ctx.phandle = 7;
  const auto fdt = testing::build_fdt(dev, ctx);
  const std::string path = "/soc/test@100000";
  EXPECT_EQ(testing::fdt_strings(fdt, path, "compatible"),
            (std::vector<std::string>{"sifive,test1", "sifive,test0", "syscon"}));
  EXPECT_EQ(testing::fdt_reg(fdt, path), std::make_pair(uint64_t{0x100000}, uint64_t{0x1000}));
  const auto phandle = testing::fdt_cells(fdt, path, "phandle");
  ASSERT_EQ(phandle.size(), 1U);
  EXPECT_EQ(phandle[0], 7U);

  EXPECT_EQ(testing::fdt_strings(fdt, "/poweroff", "compatible"),
            std::vector<std::string>{"syscon-poweroff"});
  EXPECT_EQ(testing::fdt_cells(fdt, "/poweroff", "regmap"), phandle);
  EXPECT_EQ(testing::fdt_cells(fdt, "/poweroff", "offset"), std::vector<uint32_t>{0});
  EXPECT_EQ(testing::fdt_cells(fdt, "/poweroff", "value"), std::vector<uint32_t>{0x5555});

  EXPECT_EQ(testing::fdt_strings(fdt, "/reboot", "compatible"),
            std::vector<std::string>{"syscon-reboot"});
  EXPECT_EQ(testing::fdt_cells(fdt, "/reboot", "regmap"), phandle);
  EXPECT_EQ(testing::fdt_cells(fdt, "/reboot", "offset"), std::vector<uint32_t>{0});
  EXPECT_EQ(testing::fdt_cells(fdt, "/reboot", "value"), std::vector<uint32_t>{0x7777});
}

}  // namespace
}  // namespace vessel
