// The block driver: the poll check at entry, pc and instret kept lazily, helper calls for the
// ops without an emitter, and the ways out of a block (chained jumps, the jump cache).
#include "cpu/riscv/jit/emitter.hpp"

#include <algorithm>
#include <cstring>

#include "cpu/riscv/decoder.hpp"
#include "cpu/riscv/hart.hpp"
#include "cpu/riscv/jit/translator.hpp"

namespace vessel::rv::jit {

using namespace Xbyak::util;

HelperKind helper_kind(Op op) {
  if (op == Op::kIllegal) return HelperKind::kSystem;  // no table row to read
  const Ext ext = insn_info(op).ext;
  if (is_load(op) || is_store(op)) {
    if (ext == Ext::A || ext == Ext::Zacas) return HelperKind::kAtomic;
    if (ext == Ext::F || ext == Ext::D || ext == Ext::Zfhmin) return HelperKind::kFloat;
    return HelperKind::kMemory;
  }
  switch (ext) {
    case Ext::F:
    case Ext::D:
    case Ext::Zfhmin: return HelperKind::kFloat;
    case Ext::A: return HelperKind::kAtomic;
    case Ext::Zicsr: return HelperKind::kCsr;
    case Ext::Zicbom:
    case Ext::Zicboz: return HelperKind::kMemory;
    case Ext::Zba:
    case Ext::Zbb:
    case Ext::Zbs:
    case Ext::Zicond: return HelperKind::kInteger;
    case Ext::RV64I:
    case Ext::M:
      return op == Op::ecall || op == Op::ebreak ? HelperKind::kSystem : HelperKind::kInteger;
    default: return HelperKind::kSystem;
  }
}

void Emitter::block(Hart& h, const DecodedInsn* begin, const DecodedInsn* end, uint64_t page_offset,
                    uint64_t host, bool straddles_on, const Straddler* straddler) {
  (void)h;
  page_offset_ = page_offset;
  host_ = host;
  unreachable_ = false;
  find_joins(begin, end);
  allocate(begin, end);
  seed_heads(begin, end);
  // Entry: a chain of blocks comes back to the run loop when instret reaches the poll limit
  // or another thread wants the hart's attention.
  Xbyak::Label& poll = new_label();
  poll_check(poll);
  cold_.emplace_back([this, &poll] {
    L(poll);
    jmp(qword[rbx + off::kStubExitPoll]);
  });
  for (const DecodedInsn* d = begin; d != end; ++d) {
    const Join& j = joins_[static_cast<size_t>(d - begin)];
    if (j.label != nullptr) enter_join(j);
    if (!unreachable_ && !emit(*d)) emit_helper(*d, helper_kind(d->op));
    off_ += d->len;
  }
  if (!unreachable_ && straddles_on && straddler == nullptr) {
    emit_straddler();
  } else if (!unreachable_) {
    if (straddles_on) emit_inline_straddler(*straddler);
    exit_to(off_, 0);
  }
  // By index: a cold path may queue another (a chained exit's stub), which a deque keeps
  // the earlier ones in place for.
  for (size_t k = 0; k < cold_.size(); ++k) cold_[k]();
  L(*helper_exit_);
  jmp(qword[rbx + off::kStubHelperExit]);
}

void Emitter::find_joins(const DecodedInsn* begin, const DecodedInsn* end) {
  at_.clear();
  uint32_t at = 0;  // offsets rise: at_ is sorted for index_at
  for (const DecodedInsn* d = begin; d != end; ++d) {
    at_.push_back(at);
    at += d->len;
  }
  joins_.assign(at_.size(), Join{});
  depth_.assign(at_.size(), 0);
  for (size_t k = 0; k < at_.size(); ++k) {
    if (!is_local_jump(begin[k])) continue;
    const int64_t target = static_cast<int64_t>(at_[k]) + begin[k].imm;
    const int64_t found = index_at(target);
    if (found < 0) continue;
    const auto to = static_cast<size_t>(found);
    Join& j = joins_[to];
    if (j.label == nullptr) j.label = &new_label();
    if (to <= k) {  // a loop: from its head to this jump back
      j.head = true;
      for (size_t i = to; i <= k; ++i) ++depth_[i];
    }
  }
}

void Emitter::seed_heads(const DecodedInsn* begin, const DecodedInsn* end) {
  // A jump back to a head may come along any path of the block, through other joins too
  // (from before the head into its loop, out past the jump back and back in), so what it
  // brings written is taken as any slot the block writes.
  uint16_t written = 0;
  for (const DecodedInsn* d = begin; d != end; ++d) {
    if (!writes_int_rd(d->op) || d->rd >= 32 || slot_of_[d->rd] < 0) continue;
    written = static_cast<uint16_t>(written | (1U << slot_of_[d->rd]));
  }
  for (Join& j : joins_) {
    if (j.head) j.dirty_in = written;
  }
}

int64_t Emitter::index_at(int64_t offset) const {
  const auto it = std::lower_bound(at_.begin(), at_.end(), offset);
  return it == at_.end() || *it != offset ? -1 : it - at_.begin();
}

Emitter::Join* Emitter::join_of(const DecodedInsn& d) {
  const int64_t k = index_at(static_cast<int64_t>(off_) + d.imm);
  return k < 0 ? nullptr : &joins_[static_cast<size_t>(k)];
}

void Emitter::load_all() {
  for (const Slot& s : slots_) {
    if (s.guest != 0) (void)cached(s.guest);
  }
}

void Emitter::canonical_pc_instret(uint32_t extra) {
  const uint32_t n = retired_ + extra;
  if (n != 0) add(r15, static_cast<int32_t>(n));
  if (synced_ != 0) sub(r14, static_cast<int32_t>(synced_));
  retired_ = 0;
  synced_ = 0;
}

void Emitter::enter_join(const Join& j) {
  uint16_t dirty = j.dirty_in;
  if (!unreachable_) {  // the instruction before falls through into it
    load_all();
    canonical_pc_instret(0);
    dirty = static_cast<uint16_t>(dirty | dirty_mask());
  }
  unreachable_ = false;
  for (unsigned k = 0; k < kCacheSlots; ++k) {
    if (slots_[k].guest == 0) continue;
    slots_[k].loaded = true;
    slots_[k].dirty = ((dirty >> k) & 1) != 0;
  }
  retired_ = 0;
  synced_ = 0;
  L(*j.label);
}

uint16_t Emitter::dirty_mask() const {
  uint16_t mask = 0;
  for (unsigned k = 0; k < kCacheSlots; ++k) {
    if (slots_[k].dirty) mask = static_cast<uint16_t>(mask | (1U << k));
  }
  return mask;
}

void Emitter::jump_to_join(Join& j, const DecodedInsn& d) {
  const bool branch = d.op != Op::jal;
  if (d.imm <= 0) {
    // The head is placed already, with what it takes as written: anything else written
    // here goes back to the state first (seed_heads makes this never happen; stores leave
    // the compare's flags alone).
    for (unsigned k = 0; k < kCacheSlots; ++k) {
      if (!slots_[k].dirty || ((j.dirty_in >> k) & 1) != 0) continue;
      mov(xreg(slots_[k].guest), host_of(k));
      slots_[k].dirty = false;
    }
  }
  j.dirty_in = static_cast<uint16_t>(j.dirty_in | dirty_mask());
  if (d.imm > 0) {
    if (branch) {
      jump_if(d.op, true, *j.label);
    } else {
      jmp(*j.label, T_NEAR);
    }
    return;
  }
  // Back to an earlier instruction: a loop, which must still come back to the run loop in
  // bounded time. Only the jump back checks, so a block run once ends where the
  // interpreter's does (at the jump).
  Xbyak::Label& on = new_label();
  if (branch) jump_if(d.op, false, on);
  Xbyak::Label& leave = new_label();
  poll_check(leave);
  jmp(*j.label, T_NEAR);
  cold_.emplace_back([this, &leave, dirty = dirty_now(), at = off_ + d.imm] {
    L(leave);
    store_back(dirty);
    if (at != 0) add(r14, static_cast<int32_t>(at));
    jmp(qword[rbx + off::kStubExitPoll]);
  });
  L(on);
}

Xbyak::Reg64 Emitter::host_of(unsigned slot) {
  // Callee-saved first (they survive calls); r14 and r15 hold pc and instret, rbp the data
  // TLB; rax, rcx and rdx are the emitters' scratch.
  static constexpr int kRegs[kCacheSlots] = {
      Xbyak::Operand::R12, Xbyak::Operand::R13, Xbyak::Operand::RSI, Xbyak::Operand::RDI,
      Xbyak::Operand::R8,  Xbyak::Operand::R9,  Xbyak::Operand::R10, Xbyak::Operand::R11};
  return Xbyak::Reg64(kRegs[slot]);
}

void Emitter::allocate(const DecodedInsn* begin, const DecodedInsn* end) {
  // Uses weighted by loop depth: an inner loop's registers go first.
  unsigned uses[32] = {};
  for (const DecodedInsn* d = begin; d != end; ++d) {
    if (!has_emitter(d->op)) continue;
    const unsigned weight = 1U << (3 * std::min(depth_[static_cast<size_t>(d - begin)], 3U));
    // The integer registers it reads: by its immediate's format (U and J read none) for rs1,
    // and for rs2 by its operands ('t' is an integer rs2: not in the I-type and one-operand
    // rows, whose rs2 field is part of the encoding); an FP instruction reads an integer
    // register only as an address.
    const InsnInfo& info = insn_info(d->op);
    const bool fp = info.ext == Ext::F || info.ext == Ext::D || info.ext == Ext::Zfhmin;
    const bool reads_rs1 = info.imm != ImmKind::kU && info.imm != ImmKind::kJ &&
                           (!fp || is_load(d->op) || is_store(d->op));
    const bool reads_rs2 = std::strchr(info.operands, 't') != nullptr;
    if (reads_rs1) uses[d->rs1 & 31] += weight;
    if (reads_rs2) uses[d->rs2 & 31] += weight;
    if (writes_int_rd(d->op) && d->rd != kZeroSink) uses[d->rd] += weight;
  }
  uses[0] = 0;
  for (int& s : slot_of_) s = -1;
  for (unsigned slot = 0; slot < kCacheSlots; ++slot) {
    unsigned best = 0;
    for (unsigned r = 1; r < 32; ++r) {
      if (slot_of_[r] < 0 && uses[r] > uses[best]) best = r;
    }
    if (uses[best] < 2) break;  // used once outside any loop: memory serves as well
    slots_[slot] = Slot{best, false, false};
    slot_of_[best] = static_cast<int>(slot);
  }
}

const Xbyak::Reg64* Emitter::cached(unsigned r) {
  if (r >= 32 || slot_of_[r] < 0) return nullptr;
  const auto slot = static_cast<unsigned>(slot_of_[r]);
  cached_reg_ = host_of(slot);
  if (!slots_[slot].loaded) {
    mov(cached_reg_, xreg(r));
    slots_[slot].loaded = true;
  }
  return &cached_reg_;
}

Xbyak::Reg64 Emitter::src(unsigned r, const Xbyak::Reg64& scratch) {
  if (const Xbyak::Reg64* h = cached(r)) return *h;
  load_x(scratch, r);
  return scratch;
}

void Emitter::load_x(const Xbyak::Reg64& dst, unsigned r) {
  if (r == 0) {
    xor_(dst.cvt32(), dst.cvt32());
  } else if (const Xbyak::Reg64* h = cached(r)) {
    if (h->getIdx() != dst.getIdx()) mov(dst, *h);
  } else {
    mov(dst, xreg(r));
  }
}

void Emitter::move_x(unsigned rd, unsigned rs) {
  const Xbyak::Reg64 out = dest(rd);
  load_x(out, rs);
  write_x(rd, out);
}

void Emitter::write_x(unsigned rd, const Xbyak::Reg64& value) {
  if (rd == kZeroSink) return;
  if (rd < 32 && slot_of_[rd] >= 0) {
    Slot& s = slots_[slot_of_[rd]];
    const Xbyak::Reg64 h = host_of(static_cast<unsigned>(slot_of_[rd]));
    if (h.getIdx() != value.getIdx()) mov(h, value);
    s.loaded = true;
    s.dirty = true;
    return;
  }
  mov(xreg(rd), value);
}

Xbyak::Reg64 Emitter::dest(unsigned rd) const {
  if (rd < 32 && slot_of_[rd] >= 0) return host_of(static_cast<unsigned>(slot_of_[rd]));
  return rax;
}

Emitter::SlotList Emitter::dirty_now() const {
  SlotList out;
  for (unsigned k = 0; k < kCacheSlots; ++k) {
    if (slots_[k].dirty) out.push(slots_[k].guest, static_cast<int>(k));
  }
  return out;
}

void Emitter::store_back(const SlotList& dirty) {
  for (const auto& [guest, slot] : dirty) mov(xreg(guest), host_of(static_cast<unsigned>(slot)));
}

Emitter::SlotList Emitter::volatile_loaded() const {
  SlotList out;
  for (unsigned k = kCalleeSaved; k < kCacheSlots; ++k) {
    if (slots_[k].loaded) out.push(slots_[k].guest, static_cast<int>(k));
  }
  return out;
}

void Emitter::poll_check(Xbyak::Label& leave) {
  mov(rax, state(off::kPollLimit));
  cmp(r15, qword[rax]);
  jae(leave, T_NEAR);
}

void Emitter::spill_pc_instret() {
  mov(state(off::kPc), r14);
  mov(state(off::kInstret), r15);
}

void Emitter::reload_pc_instret() {
  mov(r14, state(off::kPc));
  mov(r15, state(off::kInstret));
}

void Emitter::reload_tlb() { mov(rbp, state(off::kReadTlb)); }

void Emitter::flush() {
  store_back(dirty_now());
  for (Slot& s : slots_) s.dirty = false;
}

void Emitter::forget() {
  for (Slot& s : slots_) s.loaded = false;
}

void Emitter::sync() {
  if (off_ != synced_) add(r14, static_cast<int32_t>(off_ - synced_));
  synced_ = off_;
  if (retired_ != 0) add(r15, static_cast<int32_t>(retired_));
  retired_ = 0;
}

void Emitter::call(const void* fn) {
  mov(rax, reinterpret_cast<uintptr_t>(fn));
  Xbyak::CodeGenerator::call(rax);
}

void Emitter::count_helper(HelperKind kind) {
  mov(rcx, reinterpret_cast<uintptr_t>(&stats_.helper_calls[static_cast<unsigned>(kind)]));
  inc(qword[rcx]);
}

Xbyak::Label& Emitter::helper_exit() { return *helper_exit_; }

void Emitter::start() {
  cold_.clear();
  cold_calls_.clear();
  // The block's labels are used again for the next one rather than destroyed and made anew.
  // reset() detaches those the label manager knows (the placed ones); a label jumped to but
  // never placed would keep an id without a manager, which the next block could give another
  // label: each is cleared here.
  reset();
  for (size_t i = 0; i < labels_used_; ++i) labels_[i].clear();
  labels_used_ = 0;
  off_ = synced_ = retired_ = 0;
  helpers_emitted_ = 0;
  unreachable_ = false;
  for (Slot& s : slots_) s = Slot{};
  helper_exit_ = &new_label();
}

void Emitter::emit_helper(const DecodedInsn& d, HelperKind kind) {
  ++helpers_emitted_;
  flush();
  sync();
  spill_pc_instret();
  mov(rdi, rbx);
  mov(rsi, reinterpret_cast<uintptr_t>(&d));
  call(reinterpret_cast<const void*>(d.fn));
  forget();
  reload_pc_instret();
  reload_tlb();  // it may have changed the privilege, MPRV or SUM
  count_helper(kind);
  test(al, al);  // ExecStatus::kNext is 0
  jnz(helper_exit(), T_NEAR);
  // It retired; [pc] still holds its address (the semantics leave pc to the loop on kNext).
  retired_ = 1;
}

namespace {
ExecStatus run_straddler(Hart* h) { return h->straddler_for_jit(); }
}  // namespace

void Emitter::emit_straddler() {
  flush();
  sync();
  spill_pc_instret();
  mov(rdi, rbx);
  call(reinterpret_cast<const void*>(&run_straddler));
  count_helper(HelperKind::kSystem);
  jmp(qword[rbx + off::kStubHelperExit]);  // kJump, kBreak or kTrap, as a helper that leaves
}

void Emitter::emit_inline_straddler(const Straddler& s) {
  Xbyak::Label& changed = new_label();
  Xbyak::Label& unused = new_label();  // the helper never returns kNext (kJump instead)
  cold_call(changed, unused, reinterpret_cast<const void*>(&run_straddler), HelperKind::kSystem,
            [this] { mov(rdi, rbx); });
  // The upper half's page: in the fetch TLB (so fetchable in this mode), holding those bytes.
  static_assert(HartState::kTlbSize == 256 && sizeof(TlbEntry) == 16);
  lea(rax, ptr[r14 + static_cast<int32_t>(off_ + 2 - synced_)]);
  mov(rcx, rax);
  shr(rcx, 12 - 4);
  and_(ecx, (HartState::kTlbSize - 1) << 4);
  add(rcx, qword[rbx + off::kFetchTlb]);
  cmp(rax, qword[rcx]);
  jne(changed, T_NEAR);
  add(rax, qword[rcx + 8]);
  movzx(eax, word[rax]);
  cmp(eax, s.high);
  jne(changed, T_NEAR);
  L(unused);
  if (!emit(s.insn)) emit_helper(s.insn, helper_kind(s.insn.op));
  off_ += s.insn.len;
}

void Emitter::exit_to(int64_t target, uint32_t extra) {
  leave(dirty_now(), synced_, retired_ + extra, target);
  for (Slot& s : slots_) s.dirty = false;
}

void Emitter::leave(const SlotList& dirty, uint32_t synced, uint32_t retired, int64_t target) {
  store_back(dirty);
  const int64_t delta = target - static_cast<int64_t>(synced);
  if (delta != 0) add(r14, static_cast<int32_t>(delta));
  if (retired != 0) add(r15, static_cast<int32_t>(retired));
  // Chained only within one guest page that is also one host page (guest RAM is page-aligned
  // on the host; the tests' RAM may not be), since blocks are dropped by host page.
  const int64_t in_page = static_cast<int64_t>(page_offset_) + target;
  const uint64_t target_host = host_ + static_cast<uint64_t>(target);
  if (in_page >= 0 && in_page < 4096 && (target_host ^ host_) < 4096 &&
      (target_host >> 12) == (host_ >> 12)) {
    chain_exit(target);
  } else {
    jmp(qword[rbx + off::kStubLookup]);
  }
}

void Emitter::chain_exit(int64_t target) {
  // A 5-byte jmp rel32 that first goes to its exit stub; Translator::chain repoints it at the
  // target block once that is translated. Both lie in one guest page, so they are dropped
  // together when the page is written, and the link never outlives its target.
  Xbyak::Label& stub = new_label();
  const size_t site = getSize();
  jmp(stub, T_NEAR);
  const uint64_t target_host = host_ + static_cast<uint64_t>(target);
  cold_.emplace_back([this, &stub, site, target_host] {
    L(stub);
    Xbyak::Label& info = new_label();
    lea(rax, ptr[rip + info]);
    jmp(qword[rbx + off::kStubExit]);
    align(8);
    L(info);
    dq(getSize() - site);
    dq(target_host);
  });
}

}  // namespace vessel::rv::jit
