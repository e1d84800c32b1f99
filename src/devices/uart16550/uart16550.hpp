// NS16550A UART, as QEMU's virt board exposes it (reg-shift 0, reg-io-width 1) and as Linux's
// 8250 driver and OpenSBI's uart8250 driver program it.
//
// Transmission is instantaneous: a THR write reaches the sink at once, so THRE and TEMT are
// always set. Reception has two stages: the 16-byte receive FIFO the guest sees, and a
// host-side queue that refills it as the guest reads, so that input typed or piped faster
// than the guest drains it is held back instead of overrunning the FIFO.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>

#include "bus/device.hpp"
#include "devices/irq.hpp"

namespace vessel {

class Uart16550 final : public MmioDevice {
 public:
  using Sink = std::function<void(uint8_t)>;

  static constexpr size_t kFifoSize = 16;
  // wants_input() turns false at this many queued host bytes: the producer should wait.
  static constexpr size_t kHostQueueSoftLimit = 4096;
  // Bytes beyond this are dropped, so a producer that ignores wants_input() cannot exhaust memory.
  static constexpr size_t kHostQueueHardLimit = 1 << 20;
  static constexpr uint32_t kClockFrequency = 3'686'400;

  // Register offsets (reg-shift 0). Reads and writes, and LCR.DLAB, select among aliases.
  enum Reg : uint64_t {
    kRBR = 0,
    kTHR = 0,
    kDLL = 0,
    kIER = 1,
    kDLM = 1,
    kIIR = 2,
    kFCR = 2,
    kLCR = 3,
    kMCR = 4,
    kLSR = 5,
    kMSR = 6,
    kSCR = 7,
    kNumRegs = 8,
  };
  enum IerBits : uint8_t { kIerERBFI = 0x01, kIerETBEI = 0x02, kIerELSI = 0x04, kIerEDSSI = 0x08 };
  // IIR bit 0 set means "no interrupt pending"; bits 3:1 name the source; 7:6 show FIFO mode.
  enum IirValues : uint8_t {
    kIirNoInt = 0x01,
    kIirModemStatus = 0x00,
    kIirTHRE = 0x02,
    kIirRDA = 0x04,
    kIirLineStatus = 0x06,
    kIirCharTimeout = 0x0c,
    kIirFifoEnabled = 0xc0,
  };
  enum FcrBits : uint8_t { kFcrFE = 0x01, kFcrClearRx = 0x02, kFcrClearTx = 0x04 };
  enum LcrBits : uint8_t { kLcrDLAB = 0x80 };
  enum McrBits : uint8_t {
    kMcrDTR = 0x01,
    kMcrRTS = 0x02,
    kMcrOUT1 = 0x04,
    kMcrOUT2 = 0x08,
    kMcrLOOP = 0x10
  };
  enum LsrBits : uint8_t {
    kLsrDR = 0x01,
    kLsrOE = 0x02,
    kLsrPE = 0x04,
    kLsrFE = 0x08,
    kLsrBI = 0x10,
    kLsrTHRE = 0x20,
    kLsrTEMT = 0x40,
  };
  enum MsrBits : uint8_t {
    kMsrDCTS = 0x01,
    kMsrDDSR = 0x02,
    kMsrTERI = 0x04,
    kMsrDDCD = 0x08,
    kMsrCTS = 0x10,
    kMsrDSR = 0x20,
    kMsrRI = 0x40,
    kMsrDCD = 0x80,
  };

  Uart16550(IrqLine irq, Sink sink);

  std::string_view name() const override { return "uart16550"; }
  bool read(uint64_t offset, unsigned size, uint64_t& value) override;
  bool write(uint64_t offset, unsigned size, uint64_t value) override;
  void add_fdt_node(FdtWriter& fdt, const FdtContext& ctx) const override;
  void save(StateWriter& out) const override;
  Result<void> restore(StateReader& in) override;

  // Host input (terminal thread). Thread-safe.
  void push_input(const uint8_t* data, size_t len);
  // True while the host queue has room; the terminal stops reading its input while false.
  bool wants_input() const;
  // Bytes lost because the host queue was full (producer ignored wants_input()).
  uint64_t dropped_input() const;
  // A break condition on the line (the console's Ctrl-A b), after the input queued before it:
  // a zero character with LSR.BI, which Linux's 8250 driver takes as a break (and, with
  // magic SysRq, makes the next key a SysRq command).
  void push_break();
  // Bytes the guest wrote to THR and read from RBR (statistics: Firecracker's uart metrics).
  uint64_t bytes_written() const { return bytes_written_.load(std::memory_order_relaxed); }
  uint64_t bytes_read() const { return bytes_read_.load(std::memory_order_relaxed); }

 private:
  uint8_t read_register(uint64_t reg);
  void write_register(uint64_t reg, uint8_t v);
  uint8_t compute_iir() const;
  uint8_t modem_status_lines() const;
  void set_mcr(uint8_t v);
  size_t fifo_capacity() const { return fifo_enabled_ ? kFifoSize : 1; }
  void refill_fifo();
  void update_irq(bool force = false);

  IrqLine irq_;
  Sink sink_;
  mutable std::mutex mu_;

  // Guest-visible registers (all guarded by mu_).
  uint8_t ier_ = 0;
  uint8_t lcr_ = 0;
  uint8_t mcr_ = 0;
  uint8_t scr_ = 0;
  uint8_t dll_ = 0;
  uint8_t dlm_ = 0;
  bool fifo_enabled_ = false;
  uint8_t rx_trigger_ = 1;  // receive FIFO trigger level in bytes (1, 4, 8, 14)
  uint8_t lsr_errors_ = 0;  // OE/PE/FE/BI, cleared by reading LSR
  std::atomic<uint64_t> bytes_written_{0}, bytes_read_{0};
  uint8_t msr_status_ = 0;     // MSR bits 7:4 as last reported
  uint8_t msr_delta_ = 0;      // MSR bits 3:0, cleared by reading MSR
  bool thr_ipending_ = false;  // THRE interrupt latched until IIR read or THR write
  std::deque<uint8_t> rx_fifo_;
  std::deque<uint8_t> host_queue_;
  uint64_t dropped_ = 0;
  // A break waiting in host_queue_: how many queued bytes come before it.
  std::optional<size_t> break_after_;
  bool irq_level_ = false;
};

}  // namespace vessel
