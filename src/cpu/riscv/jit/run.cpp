// The run loop's side of the translator: enter a block's host code, and act on how it left.
#include "cpu/riscv/fpu/host_flags.hpp"
#include "cpu/riscv/hart.hpp"
#include "cpu/riscv/jit/translator.hpp"

namespace vessel::rv {

Result<void> Hart::set_engine(Engine engine, uint64_t jit_cache_bytes) {
  engine_ = jit_supported() ? engine : Engine::kInterp;
  jit_.reset();
  jit_stats_ = JitStats{};
  if (engine_ == Engine::kJit) {
    jit_ = TRY(jit::Translator::create(jit_cache_bytes, jit_stats_));
    jit_->install(*this);
    jit_stats_.cache_bytes = jit_cache_bytes;
  }
  return {};
}

const void* Hart::native_code(Block* b) {
  if (b->native == nullptr && !jit_->translate(*this, *b, pc)) {
    // The arena is full: start it again. Every translation goes, and with them every link
    // and jump-cache entry that pointed into the arena.
    jit_->refill();
    code_.drop_native();
    for (JumpEntry& e : jump_cache) e.native = nullptr;
    pending_chain_ = 0;
    if (!jit_->translate(*this, *b, pc)) return nullptr;  // cannot happen: a block fits
  }
  JumpEntry& e = jump_cache[(pc >> 1) % kJumpCacheSize];
  if (e.block == b) e.native = b->native;
  // The block that jumped here can now jump straight to it, if nothing was dropped or
  // refilled since it exited and this is the block its jump names.
  if (pending_chain_ != 0) {
    const auto* info = reinterpret_cast<const jit::ChainInfo*>(pending_chain_);
    if (pending_chain_epoch_ == jit_->epoch() && info->target_host == b->host) {
      jit_->chain(pending_chain_, b->native);
    }
    pending_chain_ = 0;
  }
  return b->native;
}

bool Hart::run_translated(bool& check_interrupts, uint64_t& next_poll) {
  Block* b = lookup_block();
  if (b == nullptr) {  // the fetch trapped, or a lone page-straddling instruction ran
    pending_chain_ = 0;
    return !trap_loop();
  }
  if (b->native == nullptr && b->heat + 1U < jit_threshold_) {  // not hot yet
    ++b->heat;
    ++jit_stats_.cold_runs;
    pending_chain_ = 0;
    return run_interpreted(b, check_interrupts, next_poll);
  }
  const void* code = native_code(b);
  if (code == nullptr) return run_interpreted(b, check_interrupts, next_poll);
  irq_.arm_poll(std::min(next_poll, hpm_deadline()));
  // The FP ops translated code runs on the host leave their flags in MXCSR: start it clean
  // (the run loop's own host arithmetic may have raised some), and take them in after.
  (void)fp::host::take_flags();
  host_fflags = true;
  const uintptr_t exit = jit_->enter(*this, code);
  host_fflags = false;
  fflags |= fp::host::take_flags();
  ++jit_stats_.unchained_exits;
  switch (exit) {
    case jit::kExitTrap: return !trap_loop();
    case jit::kExitBreak: after_break(check_interrupts, next_poll); return true;
    case jit::kExitJump:
    case jit::kExitPoll: return true;
    default:
      pending_chain_ = exit;
      pending_chain_epoch_ = jit_->epoch();
      return true;
  }
}

}  // namespace vessel::rv
