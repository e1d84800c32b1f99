// Sdtrig's Trigger Module on its own: the WARL rules of tdata1, the match kinds, chains, hit
// bits, tval, and which pages it keeps out of the soft TLB. tests/isa/sdtrig.S runs the
// same through both engines.
#include "cpu/riscv/trigger.hpp"

#include <gtest/gtest.h>

namespace vessel::rv {
namespace {

constexpr uint64_t kMcontrol6 = tdata1::kTypeMcontrol6 << tdata1::kTypeShift;
constexpr uint64_t kMcontrol = tdata1::kTypeMcontrol << tdata1::kTypeShift;
constexpr uint64_t kDisabled = tdata1::kTypeDisabled << tdata1::kTypeShift;
constexpr uint64_t kMatchGe = uint64_t{TriggerModule::kGreaterEqual} << tdata1::kMatchShift;
constexpr uint64_t kMatchLt = uint64_t{TriggerModule::kLess} << tdata1::kMatchShift;
constexpr uint64_t kMatchNapot = uint64_t{TriggerModule::kNapot} << tdata1::kMatchShift;

void arm(TriggerModule& tm, unsigned index, uint64_t control, uint64_t address) {
  tm.write_tselect(index);
  tm.write_tdata1(0);
  tm.write_tdata2(address);
  tm.write_tdata1(control);
}

TEST(TriggerModuleTest, ResetIsFourDisabledTriggersWatchingNothing) {
  TriggerModule tm;
  for (unsigned i = 0; i < TriggerModule::kCount; ++i) {
    tm.write_tselect(i);
    EXPECT_EQ(tm.tselect(), i);
    EXPECT_EQ(tm.tdata1(), kDisabled);
    EXPECT_EQ(tm.tinfo(), (1ULL << 24) | (1ULL << 2) | (1ULL << 6) | (1ULL << 15));
  }
  tm.write_tselect(TriggerModule::kCount);
  EXPECT_EQ(tm.tselect(), TriggerModule::kCount - 1) << "an index past the last is refused";
  EXPECT_FALSE(tm.watches_execute());
  EXPECT_FALSE(tm.watches_data());
}

TEST(TriggerModuleTest, Tdata1KeepsOnlyWhatIsImplemented) {
  TriggerModule tm;
  const uint64_t fields = tdata1::kM | tdata1::kS | tdata1::kU | tdata1::kExecute | tdata1::kLoad |
                          tdata1::kStore | tdata1::kChain | kMatchLt;
  const uint64_t dmode = 1ULL << 59, action_debug = 1ULL << 12, select = 1ULL << 21;
  const uint64_t size = 5ULL << 16, vs = 1ULL << 24;
  tm.write_tdata1(kMcontrol6 | fields | dmode | action_debug | select | size | vs);
  EXPECT_EQ(tm.tdata1(), kMcontrol6 | fields);
  // Masks and negated matches are WARL to equal.
  tm.write_tdata1(kMcontrol6 | tdata1::kM | (8ULL << tdata1::kMatchShift));
  EXPECT_EQ(tm.tdata1(), kMcontrol6 | tdata1::kM);
  // mcontrol (type 2): its hit bit at 20, maskmax 63.
  tm.write_tdata1(kMcontrol | tdata1::kM | tdata1::kLoad | tdata1::kMcontrolHit);
  EXPECT_EQ(tm.tdata1(),
            kMcontrol | (63ULL << 53) | tdata1::kM | tdata1::kLoad | tdata1::kMcontrolHit);
  // icount, itrigger, etrigger: not here, so disabled.
  for (uint64_t type : {0ULL, 3ULL, 4ULL, 5ULL, 7ULL, 15ULL}) {
    tm.write_tdata1((type << tdata1::kTypeShift) | tdata1::kM | tdata1::kExecute);
    EXPECT_EQ(tm.tdata1(), kDisabled) << type;
  }
  tm.write_tdata2(0x8000'0000'1234'5678);
  EXPECT_EQ(tm.tdata2(), 0x8000'0000'1234'5678u);
}

TEST(TriggerModuleTest, MatchesByOpModeAndAddress) {
  TriggerModule tm;
  uint64_t tval = 0;
  arm(tm, 0, kMcontrol6 | tdata1::kS | tdata1::kStore, 0x1003);
  EXPECT_TRUE(tm.watches_data());
  EXPECT_FALSE(tm.watches_execute());
  EXPECT_FALSE(tm.fires(TriggerOp::kLoad, 0x1003, 1, Priv::kS, tval)) << "not a load trigger";
  EXPECT_FALSE(tm.fires(TriggerOp::kStore, 0x1003, 1, Priv::kM, tval)) << "m is clear";
  EXPECT_FALSE(tm.fires(TriggerOp::kStore, 0x1004, 4, Priv::kS, tval));
  EXPECT_TRUE(tm.fires(TriggerOp::kStore, 0x1000, 4, Priv::kS, tval)) << "covers 0x1003";
  EXPECT_EQ(tval, 0x1003u) << "the byte that matched";
  tm.write_tselect(0);
  EXPECT_NE(tm.tdata1() & tdata1::kMcontrol6Hit0, 0u);

  arm(tm, 0, kMcontrol6 | tdata1::kU | tdata1::kLoad | kMatchNapot, 0x2000 | 0x7);
  EXPECT_FALSE(tm.fires(TriggerOp::kLoad, 0x1ff8, 8, Priv::kU, tval));
  EXPECT_TRUE(tm.fires(TriggerOp::kLoad, 0x200f, 1, Priv::kU, tval));
  EXPECT_FALSE(tm.fires(TriggerOp::kLoad, 0x2010, 1, Priv::kU, tval));

  arm(tm, 0, kMcontrol6 | tdata1::kM | tdata1::kExecute | tdata1::kLoad | kMatchLt, 0);
  for (uint64_t va : {0ULL, 8ULL, ~0ULL}) {
    EXPECT_FALSE(tm.fires(TriggerOp::kExecute, va, 1, Priv::kM, tval)) << "nothing is below 0";
  }
  EXPECT_FALSE(tm.watches_page(0));
}

TEST(TriggerModuleTest, AChainFiresOnlyWhenAllOfItMatches) {
  TriggerModule tm;
  uint64_t tval = 0;
  const uint64_t load_m = kMcontrol6 | tdata1::kM | tdata1::kLoad;
  arm(tm, 1, load_m | kMatchGe | tdata1::kChain, 0x4000);
  arm(tm, 2, load_m | kMatchLt, 0x5000);
  EXPECT_FALSE(tm.fires(TriggerOp::kLoad, 0x3ff8, 8, Priv::kM, tval));
  EXPECT_FALSE(tm.fires(TriggerOp::kLoad, 0x5000, 8, Priv::kM, tval));
  EXPECT_TRUE(tm.fires(TriggerOp::kLoad, 0x4ff8, 8, Priv::kM, tval));
  EXPECT_EQ(tval, 0x4ff8u);
  for (unsigned i : {1U, 2U}) {
    tm.write_tselect(i);
    EXPECT_NE(tm.tdata1() & tdata1::kMcontrol6Hit0, 0u) << i;
  }
  // Only the chain's intersection stays out of the TLB.
  EXPECT_FALSE(tm.watches_page(0x3000));
  EXPECT_TRUE(tm.watches_page(0x4000));
  EXPECT_FALSE(tm.watches_page(0x5000));
  // A chain that never ends (the last trigger chains on) never fires.
  arm(tm, 3, load_m | tdata1::kChain, 0x9000);
  EXPECT_FALSE(tm.fires(TriggerOp::kLoad, 0x9000, 1, Priv::kM, tval));
}

TEST(TriggerModuleTest, PagesWatchedFollowTheRanges) {
  TriggerModule tm;
  arm(tm, 0, kMcontrol6 | tdata1::kS | tdata1::kExecute, 0x1000);
  EXPECT_FALSE(tm.watches_page(0x1000)) << "an execute trigger needs no TLB entry kept out";
  arm(tm, 0, kMcontrol6 | tdata1::kS | tdata1::kLoad | kMatchGe, 0x7fff);
  EXPECT_FALSE(tm.watches_page(0x6000));
  EXPECT_TRUE(tm.watches_page(0x7000));
  EXPECT_TRUE(tm.watches_page(0xffff'ffff'ffff'f000));
  tm.write_tdata1(0);
  EXPECT_FALSE(tm.watches_data());
  EXPECT_FALSE(tm.watches_page(0x7000));
}

}  // namespace
}  // namespace vessel::rv
