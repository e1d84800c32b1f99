// The execution loop: decode once into blocks, find blocks through a per-hart jump cache,
// run them with one indirect call per instruction, and look at interrupts between blocks.
#include <algorithm>
#include <array>
#include <span>

#include "base/bits.hpp"
#include "cpu/riscv/decoder.hpp"
#include "cpu/riscv/dispatch.hpp"
#include "cpu/riscv/hart.hpp"

namespace vessel::rv {

namespace {
constexpr unsigned kMaxBlockInsns = 64;
// A block goes on past conditional branches, up to this many: a taken one leaves it, unless
// its target is a later instruction of the block (both engines go on there), and the
// translator also keeps a jump back to an earlier one inside. A loop with its tests and
// its if/else arms then forms one block, whose registers stay in host registers.
constexpr unsigned kMaxBlockBranches = 16;
// How many instructions may retire between looks at timer interrupts, device lines, stop and
// remote requests. At ~100 MIPS this is ~40 us of guest time.
constexpr uint64_t kPollInterval = 4096;

// The later instruction of the block that a jump from `from` (at from_pc) to to_pc lands on,
// or nullptr: a taken branch or plain jump forward within its block does not end the block.
const DecodedInsn* forward_in_block(const DecodedInsn* from, const DecodedInsn* end,
                                    uint64_t from_pc, uint64_t to_pc) {
  if (!is_local_jump(*from) || to_pc <= from_pc || to_pc - from_pc >= 0x1000) return nullptr;
  uint64_t at = from_pc + from->len;
  const DecodedInsn* i = from + 1;
  while (i != end && at < to_pc) {
    at += i->len;
    ++i;
  }
  return i != end && at == to_pc ? i : nullptr;
}
}  // namespace

Block* Hart::build_block(uint64_t va, const uint8_t* host) {
  // On the stack: a block is built for every run of code seen for the first time, and a
  // heap vector's allocation and growth cost more than the decoding.
  std::array<DecodedInsn, kMaxBlockInsns> insns;
  size_t count = 0;
  unsigned offset = static_cast<unsigned>(va & 0xfff);
  unsigned branches = 0;
  unsigned reach = 0;  // the furthest offset a forward jump of the block lands on
  bool straddles = false;
  while (offset + 2 <= 0x1000 && count < kMaxBlockInsns) {
    const uint16_t low = load_le<uint16_t>(host + (offset - (va & 0xfff)));
    uint32_t raw = low;
    if (insn_length(low) == 4) {
      if (offset + 4 > 0x1000) {  // straddles the page end: run on its own after the block
        straddles = count != 0;
        break;
      }
      raw = load_le<uint32_t>(host + (offset - (va & 0xfff)));
    }
    DecodedInsn d = decode(raw, extensions_);
    insns[count++] = d;
    const unsigned at = offset;
    offset += d.len;
    if (is_local_jump(d) && d.imm > 0 && at + d.imm < 0x1000) {
      reach = std::max(reach, static_cast<unsigned>(at + d.imm));
    }
    if (is_branch(d.op) && ++branches == kMaxBlockBranches) break;
    // A plain jump ends the block unless an earlier forward jump lands past it: the code
    // after it is then reached from within the block (an if/else, a loop's exit).
    if (ends_block(d.op) && !(is_local_jump(d) && reach >= offset)) break;
  }
  if (count == 0) return nullptr;
  ++stats.blocks_built;
  Block* b = code_.insert(reinterpret_cast<uint64_t>(host), std::span(insns.data(), count));
  b->straddles_on = straddles;
  return b;
}

Block* Hart::lookup_block() {
  JumpEntry& e = jump_cache[(pc >> 1) % kJumpCacheSize];
  const uint64_t gen = code_.generation();
  const uint64_t tag = jump_tag();
  const TlbEntry& t = tlb[kFetch][fetch_mode][(pc >> 12) % kTlbSize];
  if (e.tag == tag && e.gen == gen && t.vpage == (pc & ~0xfffULL) && e.host == pc + t.addend)
      [[likely]] {
    return e.block;
  }
  ++stats.jump_cache_misses;
  const uint8_t* host = fetch_host(pc);
  if (host == nullptr) return nullptr;
  if (fetch_tlb[(pc >> 12) % kTlbSize].vpage != (pc & ~0xfffULL)) {
    // The page could not be cached for fetch: PMP treats parts of it differently. A block
    // would run on past a boundary its first fetch did not see, so each instruction here is
    // fetched, checked and run on its own.
    exec_one();
    return nullptr;
  }
  // The entry may have missed only for the fetch TLB, flushed since it was made (an address
  // space switch flushes it all): the fetch above mapped the page again, and the block is the
  // same one, unless the code cache dropped some since (its generation).
  if (e.tag == tag && e.gen == gen && e.host == reinterpret_cast<uint64_t>(host)) return e.block;
  Block* b = code_.find(reinterpret_cast<uint64_t>(host));
  if (b == nullptr) b = build_block(pc, host);
  if (b == nullptr) {  // the first instruction straddles the page end
    exec_one();
    return nullptr;
  }
  e.tag = tag;
  e.gen = code_.generation();
  e.host = reinterpret_cast<uint64_t>(host);
  e.block = b;
  e.native = b->native;  // translated code's lookup jumps there: never the last owner's code
  return b;
}

Block* Hart::next_block(Block* from, uint64_t entry_pc) {
  if (((pc ^ entry_pc) & ~0xfffULL) != 0) return lookup_block();
  const uint64_t gen = code_.generation();
  const auto offset = static_cast<uint16_t>(pc & 0xfff);
  for (unsigned k = 0; k < 2; ++k) {
    if (from->link_offset[k] == offset && from->links[k].gen == gen) return from->links[k].block;
  }
  Block* next = lookup_block();
  if (next != nullptr) {
    const unsigned k = from->next_link++ & 1;
    from->links[k] = {code_.generation(), next};
    from->link_offset[k] = offset;
  }
  return next;
}

bool Hart::run_straddler(bool& check_interrupts, uint64_t& next_poll) {
  const ExecStatus s = exec_one();
  if (s == ExecStatus::kTrap) return !trap_loop();
  if (s == ExecStatus::kBreak) after_break(check_interrupts, next_poll);
  return true;
}

void Hart::after_break(bool& check_interrupts, uint64_t& next_poll) {
  check_interrupts = true;
  if (poll_soon) {  // after WFI: look at the platform now
    poll_soon = false;
    next_poll = instret;
    platform_poll_at_ = 0;
  }
}

ExecStatus Hart::straddler_for_jit() {
  const uint64_t before = instret;
  const ExecStatus s = exec_one();
  instret = before;  // the helper_exit stub counts it, as for every helper that leaves
  return s == ExecStatus::kNext ? ExecStatus::kJump : s;  // pc is past it: on to there
}

bool Hart::fetch_insn(uint32_t& raw) {
  const uint8_t* host = fetch_host(pc);
  if (host == nullptr) return false;
  raw = load_le<uint16_t>(host);
  if (insn_length(static_cast<uint16_t>(raw)) == 4) {
    if ((pc & 0xfff) == 0xffe) {
      const uint8_t* high = fetch_host(pc + 2);
      if (high == nullptr) return false;
      raw |= static_cast<uint32_t>(load_le<uint16_t>(high)) << 16;
    } else {
      raw = load_le<uint32_t>(host);
    }
  }
  return true;
}

ExecStatus Hart::exec_one() {
  // An instruction address breakpoint comes before the fetch's faults.
  if (execute_trigger_trap()) return ExecStatus::kTrap;
  uint32_t raw = 0;
  if (!fetch_insn(raw)) return ExecStatus::kTrap;
  return exec_decoded(decode_memo_.decode(raw, extensions_));
}

ExecStatus Hart::exec_decoded(const DecodedInsn& d) {
  const ExecStatus s = d.fn(*this, d);
  if (s == ExecStatus::kNext) pc += d.len;
  if (s != ExecStatus::kTrap) ++instret;
  stop_block = false;
  return s;
}

void Hart::step_block() {
  // What a kick asks for (a look at interrupts) happens below anyway; left raised, it would
  // make translated code leave at every block entry.
  irq_.take_attention();
  if (code_.has_pending()) code_.apply_pending();
  if (instret >= hpm_deadline()) hpm_overflow();
  if (take_interrupt()) return;
  if (triggers_.watches_execute()) {
    Block* none = nullptr;
    bool check_interrupts = false;
    uint64_t next_poll = instret + 1;
    run_watched(none, check_interrupts, next_poll);
    code_.collect_garbage();
    return;
  }
  if (engine_ == Engine::kJit) {
    bool check_interrupts = false;
    uint64_t next_poll = instret + 1;  // this block's entry check passes; the next one's not
    run_translated(check_interrupts, next_poll);
    code_.collect_garbage();
    return;
  }
  Block* b = lookup_block();
  if (b == nullptr) return;
  for (const DecodedInsn* i = b->begin(); i != b->end(); ++i) {
    const uint64_t at = pc;
    const ExecStatus s = i->fn(*this, *i);
    if (s == ExecStatus::kTrap) break;
    ++instret;
    if (s == ExecStatus::kJump) {
      const DecodedInsn* to = forward_in_block(i, b->end(), at, pc);
      if (to == nullptr) break;
      i = to - 1;
      continue;
    }
    if (s != ExecStatus::kNext) break;
    pc += i->len;
    if (i + 1 == b->end() && b->straddles_on) (void)exec_one();
  }
  code_.collect_garbage();
}

void Hart::step() {
  if (code_.has_pending()) code_.apply_pending();
  if (take_interrupt()) return;
  exec_one();
}

StopReason Hart::run(const std::atomic<bool>& stop, const std::function<void()>& poll) {
  stop_ = &stop;
  uint64_t next_poll = 0;
  uint64_t mtime = 0;
  bool check_interrupts = true;
  Block* b = nullptr;  // the next block, when the previous one's link already found it
  for (;;) {
    // A counter overflow is due (Sscofpmf): both engines come back here at the first block
    // boundary from the instruction that made the counter wrap.
    if (instret >= next_poll || instret >= hpm_deadline() || irq_.has_attention()) {
      // Taken first, so that a kick arriving while we look is not lost.
      irq_.take_attention();
      mtime = clock_.mtime();
      if (poll && mtime >= platform_poll_at_) {
        poll();
        platform_poll_at_ = mtime + poll_period_;
      }
      if (stop.load(std::memory_order_acquire)) return StopReason::kRequested;
      handle_requests();
      if (!hold(stop)) return StopReason::kRequested;
      if (run_state_.load(std::memory_order_acquire) != RunState::kRunning && !park(stop)) {
        return StopReason::kRequested;
      }
      code_.collect_garbage();  // safe point: no block is running
      next_poll = instret + kPollInterval;
      if (instret >= hpm_deadline()) hpm_overflow();
      check_interrupts = true;
      b = nullptr;  // collect_garbage may have freed it
    }
    if (code_.has_pending()) {  // memory written behind the hart's back (DMA)
      code_.apply_pending();
      b = nullptr;
    }
    if (check_interrupts) {
      check_interrupts = false;
      // A debugger's step runs the instruction at pc, not an interrupt handler's first one.
      if (!debug_stepping() && take_interrupt_at(mtime)) {
        b = nullptr;
        if (trap_loop()) return StopReason::kTrapLoop;
      }
    }
    // One test per block while no execute trigger is armed, none per instruction.
    bool ok = false;
    if (debug_ != nullptr && debug_->one_at_a_time(hart_id_)) [[unlikely]] {
      ok = run_debugged(check_interrupts, next_poll);
      b = nullptr;
    } else if (triggers_.watches_execute()) [[unlikely]] {
      ok = run_watched(b, check_interrupts, next_poll);
    } else {
      ok = engine_ == Engine::kJit ? run_translated(check_interrupts, next_poll)
                                   : run_interpreted(b, check_interrupts, next_poll);
    }
    if (!ok) return StopReason::kTrapLoop;
  }
}

bool Hart::run_interpreted(Block*& b, bool& check_interrupts, uint64_t& next_poll) {
  return run_block<false>(b, check_interrupts, next_poll);
}

bool Hart::run_watched(Block*& b, bool& check_interrupts, uint64_t& next_poll) {
  pending_chain_ = 0;  // the translated block that exited last is not the one that goes on
  return run_block<true>(b, check_interrupts, next_poll);
}

// kWatch: match the execute triggers before each instruction (Sdtrig). The instruction that
// matched does not execute: the breakpoint is taken with xepc = its pc.
template <bool kWatch>
bool Hart::run_block(Block*& b, bool& check_interrupts, uint64_t& next_poll) {
  if constexpr (kWatch) {
    if (execute_trigger_trap()) {  // before the fetch, whose faults come after it
      b = nullptr;
      return !trap_loop();
    }
  }
  if (b == nullptr) {
    b = lookup_block();
    if (b == nullptr) return !trap_loop();  // the fetch trapped, or a lone straddler ran
  }
  Block* const current = b;
  b = nullptr;
  const uint64_t entry_pc = pc;
  const DecodedInsn* i = current->begin();
  const DecodedInsn* const end = current->end();
  for (;;) {
    const uint64_t at = pc;
    const ExecStatus s = i->fn(*this, *i);
    if (s == ExecStatus::kNext) [[likely]] {
      pc += i->len;
      ++instret;
      if (++i == end) {
        if (current->straddles_on) return run_straddler(check_interrupts, next_poll);
        b = next_block(current, entry_pc);
        break;
      }
      if constexpr (kWatch) {
        if (execute_trigger_trap()) return !trap_loop();
      }
      continue;
    }
    if (s == ExecStatus::kJump) {
      ++instret;
      if (const DecodedInsn* to = forward_in_block(i, end, at, pc)) {
        i = to;
        if constexpr (kWatch) {
          if (execute_trigger_trap()) return !trap_loop();
        }
        continue;
      }
      b = next_block(current, entry_pc);
    } else if (s == ExecStatus::kTrap) {
      if (trap_loop()) return false;
    } else {  // kBreak
      ++instret;
      after_break(check_interrupts, next_poll);
    }
    break;
  }
  return b != nullptr || !trap_loop();
}

}  // namespace vessel::rv
