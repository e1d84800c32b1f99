#include "devices/plic/plic.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "devices/test_support.hpp"

namespace vessel {
namespace {

using testing::rd;
using testing::wr;

constexpr uint64_t kMeip = 1ULL << static_cast<unsigned>(InterruptBit::kMEIP);
constexpr uint64_t kSeip = 1ULL << static_cast<unsigned>(InterruptBit::kSEIP);

class PlicTest : public ::testing::Test {
 protected:
  static uint64_t priority(unsigned id) { return Plic::kPriorityBase + 4 * id; }
  static uint64_t enable(unsigned ctx, unsigned word = 0) {
    return Plic::kEnableBase + Plic::kEnableStride * ctx + 4 * word;
  }
  static uint64_t threshold(unsigned ctx) {
    return Plic::kContextBase + Plic::kContextStride * ctx + Plic::kThreshold;
  }
  static uint64_t claim(unsigned ctx) {
    return Plic::kContextBase + Plic::kContextStride * ctx + Plic::kClaimComplete;
  }

  HartIrq h0, h1;
  Plic plic{{&h0, &h1}};
};

TEST_F(PlicTest, PrioritiesAreWarl) {
  wr(plic, priority(1), 0xff);
  EXPECT_EQ(rd(plic, priority(1)), 7U);
  wr(plic, priority(95), 3);
  EXPECT_EQ(rd(plic, priority(95)), 3U);
  wr(plic, priority(0), 5);  // source 0 does not exist
  EXPECT_EQ(rd(plic, priority(0)), 0U);
  wr(plic, threshold(1), 0x1f);
  EXPECT_EQ(rd(plic, threshold(1)), 7U);
}

TEST_F(PlicTest, ClaimOrderAndSeip) {
  wr(plic, priority(3), 2);
  wr(plic, priority(5), 5);
  wr(plic, priority(7), 5);
  wr(plic, enable(1), (1U << 3) | (1U << 5) | (1U << 7));
  plic.set_irq(3, true);
  plic.set_irq(7, true);
  plic.set_irq(5, true);
  EXPECT_EQ(h0.pending() & (kMeip | kSeip), kSeip);
  EXPECT_EQ(rd(plic, Plic::kPendingBase), (1U << 3) | (1U << 5) | (1U << 7));
  // Highest priority first; equal priorities go to the lower id.
  EXPECT_EQ(rd(plic, claim(1)), 5U);
  EXPECT_EQ(rd(plic, claim(1)), 7U);
  EXPECT_EQ(rd(plic, Plic::kPendingBase), 1U << 3);
  EXPECT_EQ(h0.pending() & kSeip, kSeip);
  EXPECT_EQ(rd(plic, claim(1)), 3U);
  EXPECT_EQ(h0.pending() & kSeip, 0U);
  EXPECT_EQ(rd(plic, claim(1)), 0U);  // nothing left
  EXPECT_EQ(h1.pending(), 0U);
}

TEST_F(PlicTest, CompleteReArmsWhileLineHigh) {
  wr(plic, priority(5), 1);
  wr(plic, priority(7), 1);
  wr(plic, enable(1), (1U << 5) | (1U << 7));
  plic.set_irq(5, true);
  plic.set_irq(7, true);
  EXPECT_EQ(rd(plic, claim(1)), 5U);
  EXPECT_EQ(rd(plic, claim(1)), 7U);
  // In service: the still-high line does not make it pending again...
  plic.set_irq(5, true);
  EXPECT_EQ(rd(plic, Plic::kPendingBase), 0U);
  EXPECT_EQ(h0.pending() & kSeip, 0U);
  // ...until completion.
  wr(plic, claim(1), 5);
  EXPECT_EQ(rd(plic, Plic::kPendingBase), 1U << 5);
  EXPECT_EQ(h0.pending() & kSeip, kSeip);
  // A line that went low meanwhile is not re-armed.
  plic.set_irq(7, false);
  wr(plic, claim(1), 7);
  EXPECT_EQ(rd(plic, Plic::kPendingBase), 1U << 5);
  EXPECT_EQ(rd(plic, claim(1)), 5U);
}

TEST_F(PlicTest, ThresholdMasksLowerAndEqualPriorities) {
  wr(plic, priority(9), 3);
  wr(plic, enable(0), 1U << 9);
  wr(plic, threshold(0), 3);
  plic.set_irq(9, true);
  EXPECT_EQ(h0.pending() & kMeip, 0U);
  EXPECT_EQ(rd(plic, claim(0)), 0U);
  wr(plic, threshold(0), 2);
  EXPECT_EQ(h0.pending() & kMeip, kMeip);
  wr(plic, threshold(0), 7);
  EXPECT_EQ(h0.pending() & kMeip, 0U);
  // Priority 0 never interrupts.
  wr(plic, threshold(0), 0);
  wr(plic, priority(9), 0);
  EXPECT_EQ(h0.pending() & kMeip, 0U);
}

TEST_F(PlicTest, EnablesArePerContext) {
  wr(plic, priority(40), 1);
  wr(plic, enable(2, 1), 1U << (40 - 32));  // hart 1, M-mode
  plic.set_irq(40, true);
  EXPECT_EQ(h1.pending() & (kMeip | kSeip), kMeip);
  EXPECT_EQ(h0.pending(), 0U);
  EXPECT_EQ(rd(plic, Plic::kPendingBase + 4), 1U << (40 - 32));
  EXPECT_EQ(rd(plic, claim(0)), 0U);
  EXPECT_EQ(rd(plic, claim(3)), 0U);
  // Enabling it for hart 0 S-mode too: both see it, the first claim wins.
  wr(plic, enable(1, 1), 1U << (40 - 32));
  EXPECT_EQ(h0.pending() & kSeip, kSeip);
  EXPECT_EQ(rd(plic, claim(1)), 40U);
  EXPECT_EQ(h0.pending() & kSeip, 0U);
  EXPECT_EQ(h1.pending() & kMeip, 0U);
  EXPECT_EQ(rd(plic, claim(2)), 0U);
}

TEST_F(PlicTest, DroppedLineWithdrawsRequest) {
  wr(plic, priority(2), 1);
  wr(plic, enable(0), 1U << 2);
  plic.set_irq(2, true);
  EXPECT_EQ(h0.pending() & kMeip, kMeip);
  plic.set_irq(2, false);
  EXPECT_EQ(h0.pending() & kMeip, 0U);
  EXPECT_EQ(rd(plic, claim(0)), 0U);
}

TEST_F(PlicTest, CompletionOfDisabledSourceIsIgnored) {
  wr(plic, priority(4), 1);
  wr(plic, enable(0), 1U << 4);
  plic.set_irq(4, true);
  EXPECT_EQ(rd(plic, claim(0)), 4U);
  wr(plic, enable(0), 0);
  wr(plic, claim(0), 4);  // ignored: not enabled for this context
  wr(plic, enable(0), 1U << 4);
  EXPECT_EQ(rd(plic, claim(0)), 0U);
  wr(plic, claim(0), 4);
  EXPECT_EQ(rd(plic, claim(0)), 4U);
}

TEST_F(PlicTest, OddAccessesAreHarmless) {
  uint64_t v = 0;
  EXPECT_FALSE(plic.read(priority(1), 1, v));
  EXPECT_FALSE(plic.read(priority(1), 8, v));
  EXPECT_FALSE(plic.write(priority(1) + 2, 4, 1));
  EXPECT_FALSE(plic.read(Plic::kWindowSize, 4, v));
  wr(plic, enable(0), 0xffffffff);
  EXPECT_EQ(rd(plic, enable(0)), 0xfffffffeU);  // source 0 cannot be enabled
  EXPECT_EQ(rd(plic, enable(0, 5)), 0U);
  wr(plic, enable(4), 0xffffffff);  // context 4 needs a third hart
  EXPECT_EQ(rd(plic, enable(4)), 0U);
  EXPECT_EQ(rd(plic, claim(100)), 0U);
  wr(plic, claim(100), 3);
  wr(plic, claim(0), 1000);
  wr(plic, Plic::kPendingBase, 0xffffffff);  // read-only
  EXPECT_EQ(rd(plic, Plic::kPendingBase), 0U);
  EXPECT_EQ(rd(plic, priority(500)), 0U);
  plic.set_irq(0, true);
  plic.set_irq(96, true);
  plic.set_irq(~0U, true);
  EXPECT_EQ(rd(plic, Plic::kPendingBase), 0U);
  EXPECT_EQ(h0.pending(), 0U);
}

TEST_F(PlicTest, ConcurrentSourcesAndClaims) {
  for (unsigned id = 1; id < 9; ++id) wr(plic, priority(id), 1);
  wr(plic, enable(1), 0x1fe);
  std::atomic<bool> done{false};
  std::thread devices([&] {
    for (int round = 0; round < 2000; ++round) {
      for (unsigned id = 1; id < 9; ++id) plic.set_irq(id, (round + id) % 2 == 0);
    }
    done = true;
  });
  unsigned claims = 0;
  while (!done) {
    const auto id = static_cast<unsigned>(rd(plic, claim(1)));
    if (id != 0) {
      ASSERT_LT(id, 9U);
      ++claims;
      wr(plic, claim(1), id);
    }
  }
  devices.join();
  for (unsigned id = 1; id < 9; ++id) plic.set_irq(id, false);
  EXPECT_EQ(h0.pending() & kSeip, 0U);
  SUCCEED() << claims << " claims";
}

TEST_F(PlicTest, SaveRestoreReproducesBehaviour) {
  wr(plic, priority(3), 2);
  wr(plic, priority(6), 6);
  wr(plic, priority(70), 4);
  wr(plic, enable(1), (1U << 3) | (1U << 6));
  wr(plic, enable(2, 2), 1U << (70 - 64));
  wr(plic, threshold(1), 1);
  plic.set_irq(3, true);
  plic.set_irq(6, true);
  plic.set_irq(70, true);
  EXPECT_EQ(rd(plic, claim(1)), 6U);  // 6 in service
  const auto state = testing::saved(plic);

  HartIrq g0, g1;
  Plic copy({&g0, &g1});
  StateReader in(state);
  ASSERT_TRUE(copy.restore(in).ok());
  EXPECT_TRUE(in.at_end());
  EXPECT_EQ(g0.pending(), h0.pending());
  EXPECT_EQ(g1.pending(), h1.pending());
  EXPECT_EQ(g1.pending() & kMeip, kMeip);
  for (Plic* p : {&plic, &copy}) {
    EXPECT_EQ(rd(*p, priority(70)), 4U);
    EXPECT_EQ(rd(*p, threshold(1)), 1U);
    EXPECT_EQ(rd(*p, claim(1)), 3U);
    EXPECT_EQ(rd(*p, claim(2)), 70U);
    wr(*p, claim(1), 6);  // completes the claim made before the save: re-armed
    EXPECT_EQ(rd(*p, claim(1)), 6U);
  }

  HartIrq k0;
  Plic smaller({&k0});
  StateReader in2(state);
  EXPECT_FALSE(smaller.restore(in2).ok());
  std::vector<uint8_t> truncated(state.begin(), state.end() - 2);
  StateReader in3(truncated);
  EXPECT_FALSE(copy.restore(in3).ok());
}

TEST_F(PlicTest, DeviceTreeNode) {
  const uint32_t intc[] = {4, 6};
  FdtContext ctx;
  ctx.base = 0xc000000;
  ctx.size = Plic::kWindowSize;
  ctx.plic_phandle = 9;
  ctx.cpu_intc_phandles = intc;
  ctx.num_harts = 2;
  const auto fdt = testing::build_fdt(plic, ctx);
  const std::string path = "/soc/plic@c000000";
  EXPECT_EQ(testing::fdt_strings(fdt, path, "compatible"),
            (std::vector<std::string>{"sifive,plic-1.0.0", "riscv,plic0"}));
  EXPECT_EQ(testing::fdt_reg(fdt, path), std::make_pair(uint64_t{0xc000000}, uint64_t{0x600000}));
  EXPECT_EQ(testing::fdt_cells(fdt, path, "#address-cells"), std::vector<uint32_t>{0});
  EXPECT_EQ(testing::fdt_cells(fdt, path, "#interrupt-cells"), std::vector<uint32_t>{1});
  EXPECT_TRUE(testing::fdt_has(fdt, path, "interrupt-controller"));
  EXPECT_EQ(testing::fdt_cells(fdt, path, "riscv,ndev"), std::vector<uint32_t>{95});
  EXPECT_EQ(testing::fdt_cells(fdt, path, "phandle"), std::vector<uint32_t>{9});
  EXPECT_EQ(testing::fdt_cells(fdt, path, "interrupts-extended"),
            (std::vector<uint32_t>{4, 11, 4, 9, 6, 11, 6, 9}));
  EXPECT_EQ(fdt_node_offset_by_phandle(fdt.data(), 9), fdt_path_offset(fdt.data(), path.c_str()));
}

}  // namespace
}  // namespace vessel
