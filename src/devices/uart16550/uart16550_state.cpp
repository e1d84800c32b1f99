#include <algorithm>

#include "devices/uart16550/uart16550.hpp"

namespace vessel {

namespace {
constexpr std::string_view kUart16550Tag = "uart16550/1";
}

void Uart16550::save(StateWriter& out) const {
  std::lock_guard<std::mutex> lock(mu_);
  out.begin(kUart16550Tag);
  out.put(ier_);
  out.put(lcr_);
  out.put(mcr_);
  out.put(scr_);
  out.put(dll_);
  out.put(dlm_);
  out.put(static_cast<uint8_t>(fifo_enabled_));
  out.put(rx_trigger_);
  out.put(lsr_errors_);
  out.put(msr_status_);
  out.put(msr_delta_);
  out.put(static_cast<uint8_t>(thr_ipending_));
  const std::vector<uint8_t> fifo(rx_fifo_.begin(), rx_fifo_.end());
  out.put_bytes(fifo.data(), fifo.size());
  const std::vector<uint8_t> queue(host_queue_.begin(), host_queue_.end());
  out.put_bytes(queue.data(), queue.size());
}

Result<void> Uart16550::restore(StateReader& in) {
  TRY_VOID(in.expect(kUart16550Tag));
  const auto ier = TRY(in.get<uint8_t>());
  const auto lcr = TRY(in.get<uint8_t>());
  const auto mcr = TRY(in.get<uint8_t>());
  const auto scr = TRY(in.get<uint8_t>());
  const auto dll = TRY(in.get<uint8_t>());
  const auto dlm = TRY(in.get<uint8_t>());
  const auto fifo_enabled = TRY(in.get<uint8_t>());
  const auto rx_trigger = TRY(in.get<uint8_t>());
  const auto lsr_errors = TRY(in.get<uint8_t>());
  const auto msr_status = TRY(in.get<uint8_t>());
  const auto msr_delta = TRY(in.get<uint8_t>());
  const auto thr_ipending = TRY(in.get<uint8_t>());
  auto fifo = TRY(in.get_bytes(kFifoSize));
  auto queue = TRY(in.get_bytes(kHostQueueHardLimit));

  constexpr uint8_t kTriggers[] = {1, 4, 8, 14};
  if (ier > 0x0f || mcr > 0x1f || fifo_enabled > 1 || thr_ipending > 1 ||
      (lsr_errors & ~(kLsrOE | kLsrPE | kLsrFE | kLsrBI)) != 0 || (msr_status & 0x0f) != 0 ||
      msr_delta > 0x0f ||
      std::find(std::begin(kTriggers), std::end(kTriggers), rx_trigger) == std::end(kTriggers) ||
      fifo.size() > (fifo_enabled != 0 ? kFifoSize : 1)) {
    return make_error("uart16550 state: register values out of range");
  }

  std::lock_guard<std::mutex> lock(mu_);
  ier_ = ier;
  lcr_ = lcr;
  mcr_ = mcr;
  scr_ = scr;
  dll_ = dll;
  dlm_ = dlm;
  fifo_enabled_ = fifo_enabled != 0;
  rx_trigger_ = rx_trigger;
  lsr_errors_ = lsr_errors;
  msr_status_ = msr_status;
  msr_delta_ = msr_delta;
  thr_ipending_ = thr_ipending != 0;
  rx_fifo_.assign(fifo.begin(), fifo.end());
  host_queue_.assign(queue.begin(), queue.end());
  update_irq(/*force=*/true);
  return {};
}

}  // namespace vessel
