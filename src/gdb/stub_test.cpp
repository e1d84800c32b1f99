#include "gdb/stub.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "gdb/fake_target.hpp"
#include "gdb/registers.hpp"

namespace vessel::gdb {
namespace {

using Action = rv::DebugControl::Action;

StopInfo stop(unsigned hart, int signal) {
  StopInfo s;
  s.hart = hart;
  s.signal = signal;
  return s;
}

std::string ask(Stub& stub, std::string_view packet) { return stub.handle(parse(packet)).reply; }

TEST(GdbStub, AdvertisesFeaturesAndServesTheTargetDescription) {
  FakeTarget t(1);
  Stub stub(t);
  EXPECT_NE(ask(stub, "qSupported:multiprocess+;swbreak+").find("qXfer:features:read+"),
            std::string::npos);
  std::string xml;
  for (uint64_t offset = 0;;) {
    const std::string part =
        ask(stub, fmt::format("qXfer:features:read:target.xml:{:x},200", offset));
    ASSERT_FALSE(part.empty());
    xml += part.substr(1);
    offset += part.size() - 1;
    if (part[0] == 'l') break;
    ASSERT_EQ(part[0], 'm');
  }
  EXPECT_EQ(xml, target_xml());
  for (const char* feature : {"org.gnu.gdb.riscv.cpu", "org.gnu.gdb.riscv.fpu",
                              "org.gnu.gdb.riscv.csr", "name=\"satp\"", "name=\"priv\""}) {
    EXPECT_NE(xml.find(feature), std::string::npos) << feature;
  }
  EXPECT_EQ(ask(stub, "qXfer:features:read:other.xml:0,100"), "");
}

TEST(GdbStub, ThreadsAreHarts) {
  FakeTarget t(3);
  Stub stub(t);
  EXPECT_EQ(ask(stub, "qfThreadInfo"), "m1,2,3");
  EXPECT_EQ(ask(stub, "qsThreadInfo"), "l");
  EXPECT_EQ(ask(stub, "T3"), "OK");
  EXPECT_EQ(ask(stub, "T4"), "E16");
  EXPECT_EQ(ask(stub, "Hg2"), "OK");
  EXPECT_EQ(ask(stub, "qC"), "QC2");
  EXPECT_EQ(ask(stub, "Hg9"), "E16");
  EXPECT_EQ(stub.stopped(stop(2, 5)), "T05thread:3;");
  EXPECT_EQ(ask(stub, "qC"), "QC3");
  EXPECT_EQ(ask(stub, "?"), "T05thread:3;");
}

TEST(GdbStub, RegistersReadAndWrite) {
  FakeTarget t(2);
  Stub stub(t);
  EXPECT_EQ(ask(stub, "P20=0000208000000000"), "OK");  // pc
  EXPECT_EQ(ask(stub, "p20"), "0000208000000000");
  const std::string g = ask(stub, "g");
  EXPECT_EQ(g.size(), kGRegisters * 16);
  EXPECT_EQ(g.substr(32 * 16), "0000208000000000");
  // fflags is 32 bits wide, as the description says.
  EXPECT_EQ(ask(stub, fmt::format("p{:x}", kRegCsr0 + 1)), "00000000");
  EXPECT_EQ(ask(stub, fmt::format("P{:x}=01", kRegCsr0 + 1)), "E16");  // wrong width
  EXPECT_EQ(ask(stub, "pffff"), "E16");
  // G writes x0..pc of the current hart only.
  EXPECT_EQ(ask(stub, "G" + std::string(kGRegisters * 16, '1')), "OK");
  EXPECT_EQ(ask(stub, "p5"), "1111111111111111");
  EXPECT_EQ(ask(stub, "Hg2"), "OK");
  EXPECT_EQ(ask(stub, "p5"), "0000000000000000");
  EXPECT_EQ(ask(stub, "G123"), "E16");
}

TEST(GdbStub, MemoryErrorsAndCaps) {
  FakeTarget t(1);
  Stub stub(t);
  EXPECT_EQ(ask(stub, "M80000010,4:deadbeef"), "OK");
  EXPECT_EQ(ask(stub, "m80000010,4"), "deadbeef");
  EXPECT_EQ(ask(stub, "X80000010,0:"), "OK");
  EXPECT_EQ(ask(stub, "m1000,4"), "E0e");  // unmapped
  EXPECT_EQ(ask(stub, "M1000,1:00"), "E0e");
  // Across the end of the window: what maps is returned.
  EXPECT_EQ(ask(stub, "m80001ffe,4").size(), 4U);
  // A huge length is capped to what a reply can carry.
  EXPECT_EQ(ask(stub, "m80000000,ffffffffffffffff").size(), kMaxMemoryRead * 2);
  EXPECT_EQ(ask(stub, "m80000000,zz"), "E16");
}

TEST(GdbStub, BreakpointsReachTheTarget) {
  FakeTarget t(1);
  Stub stub(t);
  EXPECT_EQ(ask(stub, "Z0,80200000,4"), "OK");
  EXPECT_EQ(ask(stub, "Z1,80200010,2"), "OK");
  EXPECT_EQ(t.breakpoints, (std::vector<uint64_t>{0x80200000, 0x80200010}));
  EXPECT_EQ(ask(stub, "z0,80200000,4"), "OK");
  EXPECT_EQ(t.breakpoints, (std::vector<uint64_t>{0x80200010}));
  EXPECT_EQ(ask(stub, "Z2,80000000,8"), "OK");
  EXPECT_EQ(ask(stub, "Z2,80000000,0"), "E16");
}

TEST(GdbStub, ResumeActionsPerHart) {
  FakeTarget t(3);
  Stub stub(t);
  Outcome o = stub.handle(parse("c"));
  EXPECT_EQ(o.then, Outcome::Then::kResume);
  EXPECT_EQ(o.actions, (std::vector<Action>{Action::kRun, Action::kRun, Action::kRun}));
  ASSERT_EQ(ask(stub, "Hg2"), "OK");
  o = stub.handle(parse("s"));
  EXPECT_EQ(o.actions, (std::vector<Action>{Action::kHalt, Action::kStep, Action::kHalt}));
  // A step runs its hart alone.
  o = stub.handle(parse("vCont;s:3;c"));
  EXPECT_EQ(o.actions, (std::vector<Action>{Action::kHalt, Action::kHalt, Action::kStep}));
  o = stub.handle(parse("vCont;c:1"));
  EXPECT_EQ(o.actions, (std::vector<Action>{Action::kRun, Action::kHalt, Action::kHalt}));
  EXPECT_EQ(ask(stub, "vCont;c:7"), "E16");
  EXPECT_EQ(ask(stub, "vCont?"), "vCont;c;C;s;S");
  EXPECT_EQ(stub.handle(parse("D")).then, Outcome::Then::kDetach);
  EXPECT_EQ(stub.handle(parse("k")).then, Outcome::Then::kKill);
}

TEST(GdbStub, StopRepliesNameWatchpoints) {
  FakeTarget t(2);
  Stub stub(t);
  StopInfo watch = stop(1, 5);
  watch.why = rv::DebugControl::Why::kWatchWrite;
  watch.watch_addr = 0x80001000;
  EXPECT_EQ(stub.stopped(watch), "T05watch:80001000;thread:2;");
  EXPECT_EQ(stub.stopped(stop(0, 2)), "T02thread:1;");
}

TEST(GdbStub, UnknownAndMalformedPackets) {
  FakeTarget t(1);
  Stub stub(t);
  EXPECT_EQ(ask(stub, "vMustReplyEmpty"), "");
  EXPECT_EQ(ask(stub, "qTStatus"), "");
  EXPECT_EQ(ask(stub, "Zx"), "E16");
  EXPECT_EQ(ask(stub, "QStartNoAckMode"), "OK");
  EXPECT_TRUE(stub.no_ack());
}

}  // namespace
}  // namespace vessel::gdb
