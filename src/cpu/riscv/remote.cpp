// What one hart's thread asks of another: remote TLB flushes, dropped write mappings when a
// page becomes code, remote fence.i, and HSM starts and stops. Requests are posted under a
// small lock, the target is kicked, and the target applies them on its own thread at its next
// block boundary; a ticket tells a waiting requester when that has happened.
#include <thread>

#include "cpu/riscv/hart.hpp"

namespace vessel::rv {

namespace {
// Past this many queued page ranges a remote flush becomes a full one.
constexpr size_t kMaxQueuedRanges = 16;
// A parked hart still looks at its requests and the stop flag this often.
constexpr auto kParkedWake = std::chrono::milliseconds(100);
}  // namespace

uint64_t Hart::post_request(uint32_t request, uint64_t va, uint64_t pages) {
  uint64_t ticket = 0;
  {
    std::lock_guard<std::mutex> lock(requests_mu_);
    if (request & kRequestFlushPages) {
      if (flush_pages_.size() < kMaxQueuedRanges) {
        flush_pages_.emplace_back(va, pages);
      } else {
        request = (request & ~kRequestFlushPages) | kRequestFlushTlb;
      }
    }
    requests_ |= request;
    ticket = requests_posted_.fetch_add(1, std::memory_order_acq_rel) + 1;
    requests_pending_.store(true, std::memory_order_release);
  }
  irq_.kick();
  return ticket;
}

void Hart::handle_requests() {
  if (!requests_pending_.load(std::memory_order_acquire)) return;
  uint32_t request = 0;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  uint64_t ticket = 0;
  {
    std::lock_guard<std::mutex> lock(requests_mu_);
    request = requests_;
    requests_ = 0;
    ranges.swap(flush_pages_);
    ticket = requests_posted_.load(std::memory_order_acquire);
    requests_pending_.store(false, std::memory_order_release);
  }
  apply_tlb_request(request, ranges);
  if ((request & kRequestApplyCode) && code_.has_pending()) code_.apply_pending();
  requests_done_.store(ticket, std::memory_order_release);
}

void Hart::apply_tlb_request(uint32_t request,
                             std::span<const std::pair<uint64_t, uint64_t>> ranges) {
  if (request & kRequestFlushTlb) {
    flush_tlb();
    return;
  }
  if (request & kRequestFlushAsid) flush_tlb_non_global();
  if (request & kRequestFlushPages) {
    for (const auto& [va, pages] : ranges) {
      for (uint64_t i = 0; i < pages; ++i) flush_tlb_page(va + i * CodeCache::kPageSize);
    }
  }
  if (request & kRequestDropWrites) drop_write_mappings();
}

void Hart::wait_for(const Hart& target, uint64_t ticket) {
  // The target is another thread that reaches a block boundary within a few dozen
  // instructions, or is woken from WFI or its parked state by the kick that posted the request.
  while (target.requests_done() < ticket) {
    handle_requests();
    if (stop_ != nullptr && stop_->load(std::memory_order_acquire)) return;
    std::this_thread::yield();
  }
}

void Hart::stop_self() {
  run_state_.store(RunState::kStopped, std::memory_order_release);
  irq_.kick();  // the run loop looks at its run state when it has attention
}

bool Hart::request_start(uint64_t entry, uint64_t opaque) {
  {
    std::lock_guard<std::mutex> lock(requests_mu_);
    RunState expected = RunState::kStopped;
    if (!run_state_.compare_exchange_strong(expected, RunState::kStartPending,
                                            std::memory_order_acq_rel)) {
      return false;
    }
    start_entry_ = entry;
    start_opaque_ = opaque;
  }
  irq_.kick();
  return true;
}

bool Hart::hold(const std::atomic<bool>& stop) {
  if (debug_ != nullptr && debug_->action(hart_id_) == DebugControl::Action::kHalt &&
      !debug_wait(stop)) {
    return false;
  }
  if (hold_control_ == nullptr || !hold_control_->hold.load(std::memory_order_acquire)) return true;
  hold_control_->held.fetch_add(1, std::memory_order_acq_rel);
  while (hold_control_->hold.load(std::memory_order_acquire) &&
         !stop.load(std::memory_order_acquire)) {
    irq_.take_attention();
    handle_requests();  // a hart still finishing a remote fence may be waiting for this one
    irq_.wait_until(std::chrono::steady_clock::now() + kParkedWake);
  }
  hold_control_->held.fetch_sub(1, std::memory_order_acq_rel);
  return !stop.load(std::memory_order_acquire);
}

bool Hart::park(const std::atomic<bool>& stop) {
  for (;;) {
    if (stop.load(std::memory_order_acquire)) return false;
    if (!hold(stop)) return false;
    if (debug_stepping()) {  // a stopped hart has no instruction to step: done at once
      debug_->report({hart_id_, DebugControl::Why::kStep, 0});
    }
    irq_.take_attention();
    handle_requests();
    if (run_state_.load(std::memory_order_acquire) == RunState::kStartPending) {
      uint64_t entry = 0, opaque = 0;
      {
        std::lock_guard<std::mutex> lock(requests_mu_);
        entry = start_entry_;
        opaque = start_opaque_;
      }
      // HSM: the hart starts as from reset, in S-mode with satp = 0 and sstatus.SIE = 0.
      const uint64_t retired = instret;
      reset(0);
      instret = retired;
      boot_supervisor(entry, opaque);
      run_state_.store(RunState::kRunning, std::memory_order_release);
      return true;
    }
    irq_.wait_until(std::chrono::steady_clock::now() + kParkedWake);
  }
}

}  // namespace vessel::rv
