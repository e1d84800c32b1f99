// The translator's code generator for one block: where the guest state lives (offsets into
// HartState through rbx), how pc and instret are brought up to date lazily, and the emitters
// for each kind of instruction (emit_int.cpp, emit_bitmanip.cpp, emit_mem.cpp, emit_fp.cpp,
// emitter.cpp).
#pragma once

#define XBYAK_NO_OP_NAMES  // and(), or(), xor() would clash with the alternative tokens
#include <xbyak/xbyak.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <utility>
#include <vector>

#include "cpu/riscv/decoded.hpp"
#include "cpu/riscv/engine.hpp"
#include "cpu/riscv/hart_state.hpp"

namespace vessel::rv {
class Hart;
}

namespace vessel::rv::jit {

// Offsets of the state translated code reads and writes, all within a 32-bit displacement.
namespace off {
inline constexpr int32_t x(unsigned r) {
  return static_cast<int32_t>(offsetof(HartState, x) + 8 * r);
}
inline constexpr int32_t kPc = offsetof(HartState, pc);
inline constexpr int32_t kInstret = offsetof(HartState, instret);
inline constexpr int32_t kJumpXor = offsetof(HartState, jump_xor);
inline constexpr int32_t kMstatus = offsetof(HartState, mstatus_);
inline constexpr int32_t kFflags = offsetof(HartState, fflags);
inline constexpr int32_t kFrm = offsetof(HartState, frm);
inline constexpr int32_t kFpReady = offsetof(HartState, fp_ready);
inline constexpr int32_t kCboZeroOk = offsetof(HartState, cbo_zero_ok);
inline constexpr int32_t f(unsigned r) {
  return static_cast<int32_t>(offsetof(HartState, f) + 8 * r);
}
inline constexpr int32_t kPollLimit = offsetof(HartState, poll_limit);
inline constexpr int32_t kCodeGeneration = offsetof(HartState, code_generation);
inline constexpr int32_t kReadTlb = offsetof(HartState, read_tlb);
inline constexpr int32_t kWriteTlb = offsetof(HartState, write_tlb);
inline constexpr int32_t kFetchTlb = offsetof(HartState, fetch_tlb);
inline constexpr int32_t kJumpCache = offsetof(HartState, jump_cache);
inline constexpr int32_t kStubExit = offsetof(HartState, jit) + offsetof(HartState::JitStubs, exit);
inline constexpr int32_t kStubExitTrap =
    offsetof(HartState, jit) + offsetof(HartState::JitStubs, exit_trap);
inline constexpr int32_t kStubExitPoll =
    offsetof(HartState, jit) + offsetof(HartState::JitStubs, exit_poll);
inline constexpr int32_t kStubHelperExit =
    offsetof(HartState, jit) + offsetof(HartState::JitStubs, helper_exit);
inline constexpr int32_t kStubLookup =
    offsetof(HartState, jit) + offsetof(HartState::JitStubs, lookup);
// The registers sit at the start, so most of them take a one-byte displacement.
static_assert(offsetof(HartState, x) == 0);
static_assert(offsetof(HartState, jump_cache) + sizeof(HartState::jump_cache) < (1U << 31));
static_assert(offsetof(TlbEntry, vpage) == 0 && offsetof(TlbEntry, addend) == 8);
// The write set of a mode lies this far past its read set (translated code keeps only the
// read set's address, in rbp).
inline constexpr int32_t kWriteSet = sizeof(HartState::tlb[0]);
static_assert(offsetof(HartState, tlb) + HartState::kWrite * sizeof(HartState::tlb[0]) ==
              offsetof(HartState, tlb) + HartState::kRead * sizeof(HartState::tlb[0]) + kWriteSet);
static_assert(offsetof(JumpEntry, tag) == 0 && offsetof(JumpEntry, gen) == 8 &&
              offsetof(JumpEntry, host) == 16 && offsetof(JumpEntry, native) == 32);
}  // namespace off

struct Straddler;  // translator.hpp

class Emitter : public Xbyak::CodeGenerator {
 public:
  Emitter(uint8_t* buffer, size_t size, JitStats& stats)
      : Xbyak::CodeGenerator(size, buffer), stats_(stats) {}

  // Ready for the next block in the same buffer (one Emitter serves every block: building
  // a code generator per block cost more than emitting the block).
  void start();
  // Emits the block: the poll check, every instruction, then the out-of-line paths. The
  // code is position-independent (relative jumps inside it, absolute addresses outside), so
  // it can be copied where it will run.
  // `straddles_on`: the block falls through into an instruction across its page's end, which
  // it runs inline when `straddler` gives it, behind a check that the next page is still in
  // the fetch TLB and holds the same upper half, and otherwise through a helper
  // (Hart::straddler_for_jit), before it leaves.
  void block(Hart& h, const DecodedInsn* begin, const DecodedInsn* end, uint64_t page_offset,
             uint64_t host, bool straddles_on = false, const Straddler* straddler = nullptr);
  // Helper calls the block makes (emitters that fall back to the semantics): for tests.
  unsigned helpers_emitted() const { return helpers_emitted_; }

 private:
  // --- state of the walk through the block ---
  // While translated code runs, pc is in r14 and instret in r15 (the state's copies are
  // written when control leaves for the run loop or a helper, and read back after). r14
  // holds entry pc + synced_ while the block runs; r15 lags instret by retired_.
  uint32_t off_ = 0;      // the current instruction's offset from the entry pc
  uint32_t synced_ = 0;   // what [pc] holds, as an offset from the entry pc
  uint32_t retired_ = 0;  // instructions retired since [instret] was last written
  uint64_t page_offset_ = 0;
  uint64_t host_ = 0;
  JitStats& stats_;
  std::deque<Xbyak::Label> labels_;  // the first labels_used_ are this block's
  size_t labels_used_ = 0;
  std::deque<std::function<void()>> cold_;  // out-of-line code, emitted after the block
  // No path reaches the current instruction: it follows a plain jump, or the block's end
  // has been emitted. Code is emitted again from the next join.
  bool unreachable_ = false;
  Xbyak::Label* helper_exit_ = nullptr;  // a helper returned something other than kNext
  unsigned helpers_emitted_ = 0;
  Xbyak::Label& helper_exit();

  Xbyak::Label& new_label() {
    if (labels_used_ == labels_.size()) labels_.emplace_back();
    return labels_[labels_used_++];
  }

  // --- jumps within the block ---
  // An instruction that a branch or plain jump of the block lands on is a join. Every path
  // reaches a join in one state: each cache slot in its register and counted as written, r14
  // the entry pc and r15 instret exact. A jump there is then one host jump (a jump back, to a
  // loop head, checks the poll limit first).
  struct Join {
    Xbyak::Label* label = nullptr;
    bool head = false;
    // The slots some way in may bring written (by bit): the jumps to it emitted so far and,
    // for a head, every slot the block writes.
    uint16_t dirty_in = 0;
  };
  std::vector<uint32_t> at_;     // each instruction's offset from the entry pc
  std::vector<Join> joins_;      // by instruction index
  std::vector<unsigned> depth_;  // how many loops of the block hold each instruction
  void seed_heads(const DecodedInsn* begin, const DecodedInsn* end);
  void find_joins(const DecodedInsn* begin, const DecodedInsn* end);
  // The index of the instruction at `offset` from the entry pc, or -1 (none starts there).
  int64_t index_at(int64_t offset) const;
  // The join a local jump at off_ lands on, or nullptr (its target is outside the block).
  Join* join_of(const DecodedInsn& d);
  // Falls into (unless unreachable) and places join j.
  void enter_join(const Join& j);
  // Loads every slot not in its register (a join expects them all there).
  void load_all();
  // r14 back to the entry pc and r15 past `extra` more instructions (synced_ = retired_ = 0).
  void canonical_pc_instret(uint32_t extra);
  // Local jump d to join j, with the state already as a join expects (load_all(), then
  // canonical_pc_instret(1) before a branch's compare, whose flags it would clobber): the
  // host jump, behind the poll check when it goes back.
  void jump_to_join(Join& j, const DecodedInsn& d);
  uint16_t dirty_mask() const;

  // --- guest registers cached in host registers within the block ---
  // The block's most used guest registers live in host registers from their first use;
  // written ones are stored back before anything that reads HartState::x (a helper, a cold
  // path's call, leaving the block). Slots past the callee-saved ones are reloaded after a
  // cold path's call.
  static constexpr unsigned kCacheSlots = 8;
  static constexpr unsigned kCalleeSaved = 2;  // the first slots' registers survive calls
  static_assert(kCacheSlots <= 16, "Join::dirty_in has a bit per slot");
  struct Slot {
    unsigned guest = 0;
    bool loaded = false;
    bool dirty = false;
  };
  Slot slots_[kCacheSlots];
  // Some of the slots, as (guest register, slot) pairs: what a cold path must store back or
  // load again. At most one pair a slot, so a fixed array: a block takes several of these
  // (two for each memory access), and a heap vector for each was a good part of the emitting's
  // allocations (bench/translate).
  struct SlotList {
    std::array<std::pair<unsigned, int>, kCacheSlots> items{};
    unsigned size = 0;
    void push(unsigned guest, int slot) { items[size++] = {guest, slot}; }
    const std::pair<unsigned, int>* begin() const { return items.data(); }
    const std::pair<unsigned, int>* end() const { return items.data() + size; }
  };
  int slot_of_[33] = {};
  static Xbyak::Reg64 host_of(unsigned slot);
  void allocate(const DecodedInsn* begin, const DecodedInsn* end);
  // The host register holding guest register r (loaded on first use), or nullptr.
  const Xbyak::Reg64* cached(unsigned r);
  Xbyak::Reg64 cached_reg_ = Xbyak::Reg64(0);
  // r's value in a register: its cache register, or `scratch` loaded from memory.
  Xbyak::Reg64 src(unsigned r, const Xbyak::Reg64& scratch);
  void write_x(unsigned rd, const Xbyak::Reg64& value);
  void move_x(unsigned rd, unsigned rs);  // rd = rs
  // Where to compute rd's new value: its cache register (not loaded: it is about to be
  // written), or rax when rd is not cached. write_x(rd, dest(rd)) then completes the write.
  Xbyak::Reg64 dest(unsigned rd) const;
  // For rd = rs1 op rs2: `out` holds rs1 (or, for a commutative op, rs2) and is where the
  // result goes, rd's cache register where it has one; `rhs` holds the other operand. When
  // rd's register holds rs2 and the op does not commute, out is rax.
  struct Operands {
    Xbyak::Reg64 out;
    Xbyak::Reg64 rhs;
  };
  Operands operands(const DecodedInsn& d, bool commutative);
  // Jumps to `leave` when instret (r15) has reached the poll limit: the run loop must look
  // at the platform, or another thread kicked the hart.
  void poll_check(Xbyak::Label& leave);
  // Store back every written cached register (state unchanged for later code: still cached).
  void flush();
  // What flush() would store now, for a cold path to store.
  SlotList dirty_now() const;
  void store_back(const SlotList& dirty);
  // The caller-saved slots loaded now, to be loaded again after a cold path's call.
  SlotList volatile_loaded() const;
  // The state's pc and instret from r14/r15 around a call.
  void spill_pc_instret();
  void reload_pc_instret();
  // rbp = the data TLB loads use (HartState::read_tlb; stores use the set kWriteSet bytes on),
  // again after a call that may have changed it.
  void reload_tlb();
  // After a helper: any guest register may have changed in memory.
  void forget();
  static Xbyak::Address xreg(unsigned r) {
    return Xbyak::util::qword[Xbyak::util::rbx + off::x(r)];
  }
  Xbyak::Address state(int32_t offset) { return qword[rbx + offset]; }
  void load_x(const Xbyak::Reg64& dst, unsigned r);  // dst = x[r] (through the cache)
  // pc and instret made exact for the current instruction (before a call that may trap).
  void sync();
  void count_helper(HelperKind kind);
  void call(const void* fn);

  // --- per instruction; false: no emitter, use the semantics as a helper ---
  bool emit(const DecodedInsn& d);
  bool emit_alu(const DecodedInsn& d);
  bool emit_alu_w(const DecodedInsn& d);
  bool emit_muldiv(const DecodedInsn& d);
  void emit_div(const DecodedInsn& d, bool is_word, bool is_signed, bool remainder);
  bool emit_control(const DecodedInsn& d);
  // Zba, Zbb and Zicond (emit_bitmanip.cpp): the ops has_bitmanip_emitter() names.
  bool emit_bitmanip(const DecodedInsn& d);
  void emit_shift_add(const DecodedInsn& d);
  void emit_select(const DecodedInsn& d);
  void emit_unary(const DecodedInsn& d);
  void emit_by_register(const DecodedInsn& d);
  // After a branch's compare: a jump to `to` when it is taken (or, `taken` false, when not).
  void jump_if(Op op, bool taken, Xbyak::Label& to);
  bool emit_load(const DecodedInsn& d);
  bool emit_store(const DecodedInsn& d);
  bool emit_fp_memory(const DecodedInsn& d);
  bool emit_cbo_zero(const DecodedInsn& d);
  // F and D on the host (emit_fp.cpp): the ops has_fp_emitter() names, under the conditions
  // there; false sends the rest to their semantics.
  bool emit_fp(const DecodedInsn& d);
  void emit_fp_arith(const DecodedInsn& d, bool single);
  void emit_fp_fused(const DecodedInsn& d, bool single, Xbyak::Label& slow);
  void emit_fp_sign(const DecodedInsn& d, bool single);
  void emit_fp_move(const DecodedInsn& d);
  void emit_fp_compare(const DecodedInsn& d, bool single);
  void emit_fp_to_int(const DecodedInsn& d, bool single);
  void emit_fp_from_int(const DecodedInsn& d, bool single);
  // FS must be Dirty and, for a dynamic rounding mode, frm must be RNE (HartState::fp_ready);
  // else `slow`.
  void fp_guard(const DecodedInsn& d, Xbyak::Label& slow);
  // A single in f[r] must be NaN-boxed; else `slow`.
  void fp_boxed(unsigned r, bool single, Xbyak::Label& slow);
  Xbyak::Address fp_reg(unsigned r, bool single);
  void fp_load(const Xbyak::Xmm& x, unsigned r, bool single);
  // f[rd] = x (NaN-boxed for a single), or `slow` when x is a NaN.
  void fp_result(const Xbyak::Xmm& x, unsigned rd, bool single, Xbyak::Label& slow);
  // f[rd] = x, or the low bits of a register, NaN-boxed for a single; no NaN check.
  void fp_store(const Xbyak::Xmm& x, unsigned rd, bool single);
  void fp_store(const Xbyak::Reg64& bits, unsigned rd, bool single);
  // The start of an op that writes integer rd, whose value is in `out` at `back`: its
  // semantics on a cold path from `from`, fp_guard and fp_boxed(rs1).
  void fp_to_x_entry(const DecodedInsn& d, bool single, Xbyak::Label& from, Xbyak::Label& back,
                     const Xbyak::Reg64& out);
  // A call into C++ on a cold path reached from `from`, for the current instruction, with
  // the register cache as it stands now: the written cached registers are stored back and pc
  // and instret made exact; `args` loads the arguments (rdi, rsi, ...) and `fn` returns an
  // ExecStatus. Anything but kNext leaves the block; on kNext pc, instret and the clobbered
  // cache registers are put back, `after` runs, and the code goes on at `back`.
  void cold_call(Xbyak::Label& from, Xbyak::Label& back, const void* fn, HelperKind kind,
                 std::function<void()> args, std::function<void()> after = {});
  // What cold_call emits later, kept here so that its entry in cold_ is a pointer and an
  // index (which std::function holds without allocating), in a vector that keeps its
  // capacity from block to block: a block has a cold call for each memory access, and a
  // closure holding this whole record was a heap allocation each.
  struct ColdCall {
    Xbyak::Label* from;
    Xbyak::Label* back;
    const void* fn;
    HelperKind kind;
    std::function<void()> args, after;
    SlotList dirty, reload;
    uint32_t pc_delta, retired;
  };
  std::vector<ColdCall> cold_calls_;
  void emit_cold_call(const ColdCall& c);
  // Calls d's semantics that way.
  void cold_helper(const DecodedInsn& d, HelperKind kind, Xbyak::Label& from, Xbyak::Label& back);
  // The inline soft-TLB probe, through rbp: on a hit, rdx = what to add to va (in rax) for
  // the host address of `width` bytes; otherwise a jump to `miss`.
  void tlb_probe(bool write, unsigned width, Xbyak::Label& miss, const Xbyak::Reg64& va);
  // rax = rs1 + imm, the address a load or store accesses.
  void address(const DecodedInsn& d);  // rax = rs1 + imm
  // The register holding rs1 + imm: rs1's cache register when imm is 0, else rax.
  Xbyak::Reg64 address_reg(const DecodedInsn& d);
  void emit_helper(const DecodedInsn& d, HelperKind kind);
  // The instruction after the block, across the page end: run on its own, then on through
  // the helper_exit stub (the lookup, on kJump).
  void emit_straddler();
  // The same, inline: the check, then the instruction; the helper when the check fails.
  void emit_inline_straddler(const Straddler& s);

  // --- leaving the block ---
  // pc = entry + target (an offset from the entry pc), instret += retired + `extra`, then on
  // to the target: chained when it lies in this page, through the jump cache otherwise.
  void exit_to(int64_t target, uint32_t extra);
  // The same from a cold path, with the state its branch saw: the written registers stored,
  // pc = entry + target (r14 holding entry + synced), instret += retired, then on.
  void leave(const SlotList& dirty, uint32_t synced, uint32_t retired, int64_t target);
  void chain_exit(int64_t target);
};

// Which helper kind an op without an emitter is counted under.
HelperKind helper_kind(Op op);
// Whether the translator has a native emitter for `op` (the rest run their semantics). The FP
// arithmetic emitters need round-to-nearest-even (by the instruction or frm at run time).
bool has_emitter(Op op);
// The part of has_emitter() for Zba, Zbb, Zbs and Zicond (emit_bitmanip.cpp).
bool has_bitmanip_emitter(Op op);
// The part of has_emitter() for F and D (emit_fp.cpp).
bool has_fp_emitter(Op op);
// Whether the host has FMA (fmul and fdiv find their inexact flag with it).
bool host_has_fma();

}  // namespace vessel::rv::jit
