#include "devices/uart16550/uart16550.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "devices/test_support.hpp"

namespace vessel {
namespace {

using testing::FakeController;
using testing::rd;
using testing::wr;
using U = Uart16550;

constexpr unsigned kUartIrq = 10;

class UartTest : public ::testing::Test {
 protected:
  uint8_t reg(uint64_t r) { return static_cast<uint8_t>(rd(uart, r, 1)); }
  void set(uint64_t r, uint8_t v) { wr(uart, r, v, 1); }
  void push(const std::string& s) {
    uart.push_input(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }
  bool irq() const { return pic.level(kUartIrq); }

  FakeController pic;
  std::string out;
  Uart16550 uart{IrqLine(&pic, kUartIrq),
                 [this](uint8_t b) { out.push_back(static_cast<char>(b)); }};
};

TEST_F(UartTest, ThrWriteReachesSink) {
  set(U::kTHR, 'A');
  // A 32-bit access uses the low byte.
  wr(uart, U::kTHR, 0x12345642, 4);
  EXPECT_EQ(out, "AB");
  EXPECT_FALSE(irq());
}

TEST_F(UartTest, ResetState) {
  EXPECT_EQ(reg(U::kLSR), U::kLsrTHRE | U::kLsrTEMT);
  EXPECT_EQ(reg(U::kIIR), U::kIirNoInt);
  EXPECT_EQ(reg(U::kIER), 0);
  EXPECT_EQ(reg(U::kLCR), 0);
  EXPECT_EQ(reg(U::kMSR), U::kMsrDCD | U::kMsrDSR | U::kMsrCTS);
}

TEST_F(UartTest, InputSetsDataReadyAndInterrupt) {
  set(U::kIER, U::kIerERBFI);
  EXPECT_FALSE(irq());
  push("hi");
  EXPECT_TRUE(irq());
  EXPECT_EQ(reg(U::kLSR) & U::kLsrDR, U::kLsrDR);
  EXPECT_EQ(reg(U::kIIR), U::kIirRDA);
  EXPECT_EQ(reg(U::kRBR), 'h');
  EXPECT_TRUE(irq());  // the next byte moved up from the host queue
  EXPECT_EQ(reg(U::kRBR), 'i');
  EXPECT_EQ(reg(U::kLSR) & U::kLsrDR, 0);
  EXPECT_FALSE(irq());
  EXPECT_EQ(reg(U::kIIR), U::kIirNoInt);
}

// Ctrl-A b: the break arrives after the input typed before it, as a zero character of its own
// with BI (and a line-status interrupt where enabled); input after it follows.
TEST_F(UartTest, BreakComesInOrderWithBreakInterrupt) {
  set(U::kIER, U::kIerERBFI | U::kIerELSI);
  push("ab");
  uart.push_break();
  push("c");
  EXPECT_EQ(reg(U::kLSR) & (U::kLsrDR | U::kLsrBI), U::kLsrDR);
  EXPECT_EQ(reg(U::kRBR), 'a');
  EXPECT_EQ(reg(U::kRBR), 'b');
  EXPECT_EQ(reg(U::kIIR), U::kIirLineStatus);
  EXPECT_EQ(reg(U::kLSR) & (U::kLsrDR | U::kLsrBI), U::kLsrDR | U::kLsrBI);
  EXPECT_EQ(reg(U::kLSR) & U::kLsrBI, 0);  // reading LSR cleared it
  EXPECT_EQ(reg(U::kRBR), 0);
  EXPECT_EQ(reg(U::kRBR), 'c');
  EXPECT_EQ(reg(U::kLSR) & (U::kLsrDR | U::kLsrBI), 0);
}

TEST_F(UartTest, NoInterruptWithoutEnable) {
  push("x");
  EXPECT_FALSE(irq());
  EXPECT_EQ(reg(U::kLSR) & U::kLsrDR, U::kLsrDR);
  EXPECT_EQ(reg(U::kIIR), U::kIirNoInt);
}

TEST_F(UartTest, FifoTriggerLevelSelectsRdaOrTimeout) {
  set(U::kFCR, 0x81);  // FIFO on, trigger at 8 bytes
  set(U::kIER, U::kIerERBFI);
  push("abc");
  EXPECT_EQ(reg(U::kIIR), U::kIirFifoEnabled | U::kIirCharTimeout);
  EXPECT_TRUE(irq());
  push("defgh");
  EXPECT_EQ(reg(U::kIIR), U::kIirFifoEnabled | U::kIirRDA);
  std::string got;
  while ((reg(U::kLSR) & U::kLsrDR) != 0) got.push_back(static_cast<char>(reg(U::kRBR)));
  EXPECT_EQ(got, "abcdefgh");
  EXPECT_FALSE(irq());
}

TEST_F(UartTest, ThreInterruptFollows8250Semantics) {
  set(U::kIER, U::kIerETBEI);
  EXPECT_TRUE(irq());
  EXPECT_EQ(reg(U::kIIR), U::kIirTHRE);
  // Reading IIR acknowledged it.
  EXPECT_FALSE(irq());
  EXPECT_EQ(reg(U::kIIR), U::kIirNoInt);
  // Transmitting empties THR again: a new THRE interrupt.
  set(U::kTHR, 'z');
  EXPECT_TRUE(irq());
  set(U::kIER, 0);
  EXPECT_FALSE(irq());

  // Linux's startup probe: THRE must be re-asserted when ETBEI is toggled.
  set(U::kIER, U::kIerETBEI);
  const uint8_t iir1 = reg(U::kIIR);
  set(U::kIER, 0);
  set(U::kIER, U::kIerETBEI);
  const uint8_t iir2 = reg(U::kIIR);
  set(U::kIER, 0);
  EXPECT_EQ(iir1 & U::kIirNoInt, 0);
  EXPECT_EQ(iir2 & U::kIirNoInt, 0);
}

TEST_F(UartTest, IirReportsHighestPriorityFirst) {
  // Loopback with FIFOs off: a second byte overruns the holding register.
  set(U::kMCR, U::kMcrLOOP);
  set(U::kTHR, '1');
  set(U::kTHR, '2');
  EXPECT_EQ(out, "");
  set(U::kIER, U::kIerERBFI | U::kIerETBEI | U::kIerELSI);
  EXPECT_EQ(reg(U::kIIR), U::kIirLineStatus);
  const uint8_t lsr = reg(U::kLSR);
  EXPECT_EQ(lsr & (U::kLsrOE | U::kLsrDR), U::kLsrOE | U::kLsrDR);
  EXPECT_EQ(reg(U::kLSR) & U::kLsrOE, 0);  // reading LSR cleared it
  EXPECT_EQ(reg(U::kIIR), U::kIirRDA);
  EXPECT_EQ(reg(U::kRBR), '1');
  EXPECT_EQ(reg(U::kIIR), U::kIirTHRE);
  EXPECT_EQ(reg(U::kIIR), U::kIirNoInt);
  EXPECT_FALSE(irq());
}

TEST_F(UartTest, DivisorLatchAccess) {
  set(U::kIER, U::kIerERBFI);
  set(U::kLCR, U::kLcrDLAB | 0x03);
  set(U::kDLL, 0x02);
  set(U::kDLM, 0x01);
  EXPECT_EQ(reg(U::kDLL), 0x02);
  EXPECT_EQ(reg(U::kDLM), 0x01);
  EXPECT_EQ(out, "");  // THR was not written
  set(U::kLCR, 0x03);
  EXPECT_EQ(reg(U::kIER), U::kIerERBFI);
  EXPECT_EQ(reg(U::kLCR), 0x03);
  set(U::kLCR, U::kLcrDLAB);
  EXPECT_EQ(reg(U::kDLL), 0x02);
  EXPECT_EQ(reg(U::kDLM), 0x01);
}

TEST_F(UartTest, IerKeepsFourBitsAndScratchWorks) {
  set(U::kIER, 0xff);
  EXPECT_EQ(reg(U::kIER), 0x0f);
  set(U::kSCR, 0xa5);
  EXPECT_EQ(reg(U::kSCR), 0xa5);
}

TEST_F(UartTest, LoopbackMirrorsModemLines) {
  // The check Linux's autoconfig makes: loopback with RTS and OUT2 reads back CTS and DCD.
  set(U::kMCR, U::kMcrLOOP | U::kMcrOUT2 | U::kMcrRTS);
  EXPECT_EQ(reg(U::kMSR) & 0xf0, U::kMsrDCD | U::kMsrCTS);
  set(U::kMCR, U::kMcrLOOP | U::kMcrDTR | U::kMcrOUT1);
  const uint8_t msr = reg(U::kMSR);
  EXPECT_EQ(msr & 0xf0, U::kMsrDSR | U::kMsrRI);
  EXPECT_EQ(msr & (U::kMsrDCTS | U::kMsrDDSR | U::kMsrDDCD),
            U::kMsrDCTS | U::kMsrDDSR | U::kMsrDDCD);
  EXPECT_EQ(reg(U::kMSR) & 0x0f, 0);  // deltas cleared by the read
  set(U::kIER, U::kIerEDSSI);
  set(U::kMCR, U::kMcrLOOP);  // RI falls: trailing-edge indicator
  EXPECT_EQ(reg(U::kIIR), U::kIirModemStatus);
  EXPECT_TRUE(irq());
  EXPECT_EQ(reg(U::kMSR) & U::kMsrTERI, U::kMsrTERI);
  EXPECT_FALSE(irq());
  set(U::kMCR, 0);
  EXPECT_EQ(reg(U::kMSR) & 0xf0, U::kMsrDCD | U::kMsrDSR | U::kMsrCTS);
}

TEST_F(UartTest, LoopbackKeepsHostInputAway) {
  set(U::kFCR, U::kFcrFE);
  set(U::kMCR, U::kMcrLOOP);
  push("host");
  EXPECT_EQ(reg(U::kLSR) & U::kLsrDR, 0);
  set(U::kTHR, 'L');
  EXPECT_EQ(reg(U::kRBR), 'L');
  set(U::kMCR, 0);
  EXPECT_EQ(reg(U::kRBR), 'h');
}

TEST_F(UartTest, HostQueueHoldsInputForSlowGuest) {
  set(U::kFCR, U::kFcrFE);
  std::string in;
  for (int i = 0; i < 5000; ++i) in.push_back(static_cast<char>('a' + i % 26));
  EXPECT_TRUE(uart.wants_input());
  push(in);
  EXPECT_FALSE(uart.wants_input());
  std::string got;
  while ((reg(U::kLSR) & U::kLsrDR) != 0) got.push_back(static_cast<char>(reg(U::kRBR)));
  EXPECT_EQ(got, in);
  EXPECT_TRUE(uart.wants_input());
  EXPECT_EQ(uart.dropped_input(), 0U);
}

TEST_F(UartTest, HostQueueHardLimitDropsExcess) {
  std::vector<uint8_t> in(U::kHostQueueHardLimit + 10, 'q');
  uart.push_input(in.data(), in.size());
  EXPECT_EQ(uart.dropped_input(), 10U);
}

TEST_F(UartTest, FcrClearsReceiveFifoOnly) {
  set(U::kFCR, U::kFcrFE);
  push("0123456789abcdefWXYZ");  // 16 in the FIFO, 4 queued behind it
  set(U::kFCR, U::kFcrFE | U::kFcrClearRx);
  std::string got;
  while ((reg(U::kLSR) & U::kLsrDR) != 0) got.push_back(static_cast<char>(reg(U::kRBR)));
  EXPECT_EQ(got, "WXYZ");
}

TEST_F(UartTest, OddAccessesAreHarmless) {
  uint64_t v = 0;
  EXPECT_FALSE(uart.read(U::kRBR, 8, v));
  EXPECT_FALSE(uart.write(U::kTHR, 8, 'x'));
  EXPECT_EQ(rd(uart, 0x50, 1), 0U);
  wr(uart, 0xff, 0x12, 1);
  EXPECT_EQ(out, "");
  EXPECT_EQ(rd(uart, U::kLSR, 2), U::kLsrTHRE | U::kLsrTEMT);
  uart.push_input(nullptr, 5);
  EXPECT_EQ(reg(U::kLSR) & U::kLsrDR, 0);
}

TEST_F(UartTest, ConcurrentInputArrivesInOrder) {
  set(U::kFCR, U::kFcrFE);
  constexpr int kBytes = 20000;
  std::thread producer([&] {
    for (int i = 0; i < kBytes;) {
      if (!uart.wants_input()) {
        std::this_thread::yield();
        continue;
      }
      uint8_t chunk[64];
      int n = 0;
      for (; n < 64 && i < kBytes; ++n, ++i) chunk[n] = static_cast<uint8_t>(i);
      uart.push_input(chunk, static_cast<size_t>(n));
    }
  });
  int next = 0;
  while (next < kBytes) {
    if ((reg(U::kLSR) & U::kLsrDR) == 0) {
      std::this_thread::yield();
      continue;
    }
    ASSERT_EQ(reg(U::kRBR), static_cast<uint8_t>(next));
    ++next;
  }
  producer.join();
  EXPECT_EQ(uart.dropped_input(), 0U);
}

TEST_F(UartTest, SaveRestoreReproducesBehaviour) {
  set(U::kLCR, U::kLcrDLAB);
  set(U::kDLL, 0x0c);
  set(U::kDLM, 0x00);
  set(U::kLCR, 0x03);
  set(U::kFCR, 0x41);  // FIFO on, trigger 4
  set(U::kSCR, 0x5a);
  set(U::kIER, U::kIerERBFI | U::kIerELSI);
  push("abcdefghijklmnopqrstuvwxyz");
  const auto state = testing::saved(uart);

  FakeController pic2;
  std::string out2;
  Uart16550 copy(IrqLine(&pic2, kUartIrq),
                 [&](uint8_t b) { out2.push_back(static_cast<char>(b)); });
  StateReader in(state);
  ASSERT_TRUE(copy.restore(in).ok());
  EXPECT_TRUE(in.at_end());
  EXPECT_TRUE(pic2.level(kUartIrq));  // restore re-drives the line

  for (uint64_t r : {U::kIER, U::kLCR, U::kMCR, U::kSCR, U::kMSR}) {
    EXPECT_EQ(rd(copy, r, 1), rd(uart, r, 1)) << "register " << r;
  }
  set(U::kLCR, U::kLcrDLAB);
  wr(copy, U::kLCR, U::kLcrDLAB, 1);
  EXPECT_EQ(rd(copy, U::kDLL, 1), 0x0cU);
  set(U::kLCR, 0x03);
  wr(copy, U::kLCR, 0x03, 1);
  for (int i = 0; i < 26; ++i) {
    ASSERT_EQ(rd(copy, U::kIIR, 1), rd(uart, U::kIIR, 1)) << i;
    ASSERT_EQ(rd(copy, U::kLSR, 1), rd(uart, U::kLSR, 1)) << i;
    ASSERT_EQ(rd(copy, U::kRBR, 1), rd(uart, U::kRBR, 1)) << i;
  }
  EXPECT_FALSE(pic2.level(kUartIrq));
  wr(copy, U::kTHR, '!', 1);
  EXPECT_EQ(out2, "!");
}

TEST_F(UartTest, RestoreRejectsBadStreams) {
  const auto state = testing::saved(uart);
  std::vector<uint8_t> truncated(state.begin(), state.end() - 3);
  StateReader in1(truncated);
  EXPECT_FALSE(uart.restore(in1).ok());

  StateWriter other;
  other.begin("plic/1");
  StateReader in2(other.bytes());
  EXPECT_FALSE(uart.restore(in2).ok());

  // An IER with reserved bits set is refused. Its byte follows the tag.
  std::vector<uint8_t> bad = state;
  bad[8 + std::string_view("uart16550/1").size()] = 0xff;
  StateReader in3(bad);
  EXPECT_FALSE(uart.restore(in3).ok());
}

TEST_F(UartTest, DeviceTreeNode) {
  FdtContext ctx;
  ctx.base = 0x10000000;
  ctx.size = 0x100;
  ctx.irq = kUartIrq;
  ctx.plic_phandle = 3;
  const auto fdt = testing::build_fdt(uart, ctx);
  const std::string path = "/soc/serial@10000000";
  EXPECT_EQ(testing::fdt_strings(fdt, path, "compatible"), std::vector<std::string>{"ns16550a"});
  EXPECT_EQ(testing::fdt_reg(fdt, path), std::make_pair(uint64_t{0x10000000}, uint64_t{0x100}));
  EXPECT_EQ(testing::fdt_cells(fdt, path, "clock-frequency"), std::vector<uint32_t>{3686400});
  EXPECT_EQ(testing::fdt_cells(fdt, path, "interrupts"), std::vector<uint32_t>{kUartIrq});
  EXPECT_EQ(testing::fdt_cells(fdt, path, "interrupt-parent"), std::vector<uint32_t>{3});
}

}  // namespace
}  // namespace vessel
