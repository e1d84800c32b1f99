#include "devices/uart16550/uart16550.hpp"

#include <utility>

#include "bus/fdt.hpp"

namespace vessel {

namespace {
constexpr uint8_t kLsrErrorBits =
    Uart16550::kLsrOE | Uart16550::kLsrPE | Uart16550::kLsrFE | Uart16550::kLsrBI;
// With no cable attached QEMU reports carrier, data-set-ready and clear-to-send; Linux's
// modem-control logic then treats the line as up.
constexpr uint8_t kMsrIdleStatus = Uart16550::kMsrDCD | Uart16550::kMsrDSR | Uart16550::kMsrCTS;
constexpr uint8_t kRxTriggerLevels[4] = {1, 4, 8, 14};
}  // namespace

Uart16550::Uart16550(IrqLine irq, Sink sink)
    : irq_(irq), sink_(std::move(sink)), msr_status_(kMsrIdleStatus) {}

bool Uart16550::read(uint64_t offset, unsigned size, uint64_t& value) {
  // reg-io-width is 1; wider accesses are tolerated and use the low byte, as some firmware
  // issues 32-bit accesses to byte registers.
  if (size != 1 && size != 2 && size != 4) return false;
  value = 0;
  if (offset >= kNumRegs) return true;  // rest of the window reads as zero
  std::lock_guard<std::mutex> lock(mu_);
  value = read_register(offset);
  return true;
}

bool Uart16550::write(uint64_t offset, unsigned size, uint64_t value) {
  if (size != 1 && size != 2 && size != 4) return false;
  if (offset >= kNumRegs) return true;
  std::lock_guard<std::mutex> lock(mu_);
  write_register(offset, static_cast<uint8_t>(value));
  return true;
}

uint8_t Uart16550::read_register(uint64_t reg) {
  const bool dlab = (lcr_ & kLcrDLAB) != 0;
  switch (reg) {
    case kRBR: {
      if (dlab) return dll_;
      if (rx_fifo_.empty()) return 0;
      const uint8_t b = rx_fifo_.front();
      rx_fifo_.pop_front();
      bytes_read_.fetch_add(1, std::memory_order_relaxed);
      refill_fifo();
      update_irq();
      return b;
    }
    case kIER: return dlab ? dlm_ : ier_;
    case kIIR: {
      const uint8_t iir = compute_iir();
      // Reading IIR acknowledges a THRE interrupt only when it is the one reported.
      if ((iir & 0x0f) == kIirTHRE) {
        thr_ipending_ = false;
        update_irq();
      }
      return iir;
    }
    case kLCR: return lcr_;
    case kMCR: return mcr_;
    case kLSR: {
      uint8_t lsr = kLsrTHRE | kLsrTEMT | lsr_errors_;
      if (!rx_fifo_.empty()) lsr |= kLsrDR;
      if (lsr_errors_ != 0) {
        lsr_errors_ = 0;
        update_irq();
      }
      return lsr;
    }
    case kMSR: {
      const uint8_t msr = static_cast<uint8_t>(msr_status_ | msr_delta_);
      if (msr_delta_ != 0) {
        msr_delta_ = 0;
        update_irq();
      }
      return msr;
    }
    case kSCR: return scr_;
    default: return 0;
  }
}

void Uart16550::write_register(uint64_t reg, uint8_t v) {
  const bool dlab = (lcr_ & kLcrDLAB) != 0;
  switch (reg) {
    case kTHR:
      if (dlab) {
        dll_ = v;
        return;
      }
      if ((mcr_ & kMcrLOOP) != 0) {
        if (rx_fifo_.size() < fifo_capacity()) {
          rx_fifo_.push_back(v);
        } else {
          lsr_errors_ |= kLsrOE;
        }
      } else if (sink_) {
        sink_(v);
      }
      bytes_written_.fetch_add(1, std::memory_order_relaxed);
      // The byte left at once, so the holding register is empty again: a fresh THRE event.
      thr_ipending_ = (ier_ & kIerETBEI) != 0;
      update_irq();
      return;
    case kIER: {
      if (dlab) {
        dlm_ = v;
        return;
      }
      const uint8_t old = ier_;
      ier_ = v & 0x0f;
      // 8250 semantics: enabling ETBEI while THR is empty raises THRE at once; Linux relies
      // on this both to start transmission and to probe for THRE bugs at startup.
      if ((ier_ & kIerETBEI) != 0 && (old & kIerETBEI) == 0) thr_ipending_ = true;
      if ((ier_ & kIerETBEI) == 0) thr_ipending_ = false;
      update_irq();
      return;
    }
    case kFCR: {
      const bool enable = (v & kFcrFE) != 0;
      if (enable != fifo_enabled_) {
        // Switching FIFO mode empties both FIFOs.
        rx_fifo_.clear();
        fifo_enabled_ = enable;
      }
      if (enable) {
        if ((v & kFcrClearRx) != 0) rx_fifo_.clear();
        rx_trigger_ = kRxTriggerLevels[v >> 6];
      } else {
        rx_trigger_ = 1;
      }
      if ((mcr_ & kMcrLOOP) == 0) refill_fifo();
      update_irq();
      return;
    }
    case kLCR: lcr_ = v; return;
    case kMCR: set_mcr(v); return;
    case kLSR:
    case kMSR: return;  // read-only on a real 16550A; writes are ignored
    case kSCR: scr_ = v; return;
    default: return;
  }
}

uint8_t Uart16550::modem_status_lines() const {
  if ((mcr_ & kMcrLOOP) == 0) return kMsrIdleStatus;
  // Loopback wires the modem outputs back to the inputs.
  uint8_t s = 0;
  if ((mcr_ & kMcrRTS) != 0) s |= kMsrCTS;
  if ((mcr_ & kMcrDTR) != 0) s |= kMsrDSR;
  if ((mcr_ & kMcrOUT1) != 0) s |= kMsrRI;
  if ((mcr_ & kMcrOUT2) != 0) s |= kMsrDCD;
  return s;
}

void Uart16550::set_mcr(uint8_t v) {
  const bool was_loop = (mcr_ & kMcrLOOP) != 0;
  mcr_ = v & 0x1f;
  const uint8_t now = modem_status_lines();
  const uint8_t changed = msr_status_ ^ now;
  if ((changed & kMsrCTS) != 0) msr_delta_ |= kMsrDCTS;
  if ((changed & kMsrDSR) != 0) msr_delta_ |= kMsrDDSR;
  if ((changed & kMsrDCD) != 0) msr_delta_ |= kMsrDDCD;
  if ((msr_status_ & kMsrRI) != 0 && (now & kMsrRI) == 0) msr_delta_ |= kMsrTERI;
  msr_status_ = now;
  if (was_loop && (mcr_ & kMcrLOOP) == 0) refill_fifo();
  update_irq();
}

uint8_t Uart16550::compute_iir() const {
  uint8_t id = kIirNoInt;
  if ((ier_ & kIerELSI) != 0 && (lsr_errors_ & kLsrErrorBits) != 0) {
    id = kIirLineStatus;
  } else if ((ier_ & kIerERBFI) != 0 && !rx_fifo_.empty()) {
    // Below the trigger level a real UART reports a character timeout after four character
    // times; with no line timing to model, it is reported at once. Both have the same priority.
    id = (!fifo_enabled_ || rx_fifo_.size() >= rx_trigger_) ? kIirRDA : kIirCharTimeout;
  } else if ((ier_ & kIerETBEI) != 0 && thr_ipending_) {
    id = kIirTHRE;
  } else if ((ier_ & kIerEDSSI) != 0 && msr_delta_ != 0) {
    id = kIirModemStatus;
  }
  if (fifo_enabled_) id |= kIirFifoEnabled;
  return id;
}

void Uart16550::refill_fifo() {
  // In loopback the receiver is disconnected from the outside world.
  if ((mcr_ & kMcrLOOP) != 0) return;
  while (rx_fifo_.size() < fifo_capacity() && !host_queue_.empty() && break_after_ != 0U) {
    rx_fifo_.push_back(host_queue_.front());
    host_queue_.pop_front();
    if (break_after_) --*break_after_;
  }
  // The break's zero character comes alone, so that BI belongs to it when the driver reads LSR.
  if (break_after_ == 0U && rx_fifo_.empty()) {
    break_after_.reset();
    rx_fifo_.push_back(0);
    lsr_errors_ |= kLsrBI;
  }
}

void Uart16550::push_break() {
  std::lock_guard<std::mutex> lock(mu_);
  if (break_after_) return;  // one is on its way already
  break_after_ = host_queue_.size();
  refill_fifo();
  update_irq();
}

void Uart16550::update_irq(bool force) {
  const bool level = (compute_iir() & kIirNoInt) == 0;
  if (level == irq_level_ && !force) return;
  irq_level_ = level;
  irq_.set(level);
}

void Uart16550::push_input(const uint8_t* data, size_t len) {
  if (data == nullptr || len == 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < len; ++i) {
    if (host_queue_.size() >= kHostQueueHardLimit) {
      dropped_ += len - i;
      break;
    }
    host_queue_.push_back(data[i]);
  }
  refill_fifo();
  update_irq();
}

bool Uart16550::wants_input() const {
  std::lock_guard<std::mutex> lock(mu_);
  return host_queue_.size() < kHostQueueSoftLimit;
}

uint64_t Uart16550::dropped_input() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_;
}

void Uart16550::add_fdt_node(FdtWriter& fdt, const FdtContext& ctx) const {
  fdt.begin_node(node_name("serial", ctx.base));
  fdt.prop_string("compatible", "ns16550a");
  fdt.prop_reg(ctx.base, ctx.size);
  fdt.prop_u32("clock-frequency", kClockFrequency);
  fdt.prop_u32("interrupts", ctx.irq);
  fdt.prop_u32("interrupt-parent", ctx.plic_phandle);
  fdt.end_node();
}

}  // namespace vessel
