// Loads and stores: the soft-TLB probe inline (index, tag compare, add the host offset), and
// a call into the hart only on a miss, MMIO, a misaligned access across a page, or a store to
// a page holding code (those pages never get a write mapping).
#include "cpu/riscv/decoder.hpp"
#include "cpu/riscv/hart.hpp"
#include "cpu/riscv/jit/emitter.hpp"

namespace vessel::rv::jit {

using namespace Xbyak::util;

namespace {

// The slow paths, called from translated code with pc and instret exact. Each returns the
// ExecStatus the semantics would: kNext, kTrap (entered), or kBreak after a store that hit
// code (pc already past the store).
template <typename T>
ExecStatus load_slow(Hart* h, uint64_t va, uint64_t rd) {
  T value;
  if (!h->load<T>(va, value)) return ExecStatus::kTrap;
  h->x[rd] = static_cast<uint64_t>(static_cast<int64_t>(value));
  return ExecStatus::kNext;
}

template <typename T>
ExecStatus store_slow(Hart* h, uint64_t va, uint64_t value, uint64_t len) {
  if (!h->store<T>(va, static_cast<T>(value))) return ExecStatus::kTrap;
  if (h->stop_block) {  // it wrote this block's page (or another of this hart's code pages)
    h->stop_block = false;
    h->pc += len;
    return ExecStatus::kBreak;
  }
  return ExecStatus::kNext;
}

const void* load_fn(Op op) {
  switch (op) {
    case Op::lb: return reinterpret_cast<const void*>(&load_slow<int8_t>);
    case Op::lh: return reinterpret_cast<const void*>(&load_slow<int16_t>);
    case Op::lw: return reinterpret_cast<const void*>(&load_slow<int32_t>);
    case Op::ld: return reinterpret_cast<const void*>(&load_slow<int64_t>);
    case Op::lbu: return reinterpret_cast<const void*>(&load_slow<uint8_t>);
    case Op::lhu: return reinterpret_cast<const void*>(&load_slow<uint16_t>);
    default: return reinterpret_cast<const void*>(&load_slow<uint32_t>);
  }
}

const void* store_fn(unsigned width) {
  switch (width) {
    case 1: return reinterpret_cast<const void*>(&store_slow<uint8_t>);
    case 2: return reinterpret_cast<const void*>(&store_slow<uint16_t>);
    case 4: return reinterpret_cast<const void*>(&store_slow<uint32_t>);
    default: return reinterpret_cast<const void*>(&store_slow<uint64_t>);
  }
}

}  // namespace

void Emitter::tlb_probe(bool write, unsigned width, Xbyak::Label& miss, const Xbyak::Reg64& va) {
  // The entry for va's page; a hit needs the page of va's last byte to be the entry's page,
  // which also rules out an access that crosses into the next page (that page would index
  // another entry). On a hit rdx = the entry's addend.
  static_assert(HartState::kTlbSize == 256 && sizeof(TlbEntry) == 16);
  const int32_t set = write ? off::kWriteSet : 0;
  mov(rcx, va);
  shr(rcx, 12 - 4);
  and_(ecx, (HartState::kTlbSize - 1) << 4);
  lea(rdx, ptr[va + (width - 1)]);
  and_(rdx, -4096);
  cmp(rdx, qword[rbp + rcx + set]);
  jne(miss, T_NEAR);
  mov(rdx, qword[rbp + rcx + (set + 8)]);
}

void Emitter::address(const DecodedInsn& d) {
  const Xbyak::Reg64 va = address_reg(d);
  if (va.getIdx() != rax.getIdx()) mov(rax, va);
}

Xbyak::Reg64 Emitter::address_reg(const DecodedInsn& d) {
  // With no offset, a cached base register is the address itself: no copy into rax.
  const Xbyak::Reg64 base = src(d.rs1, rax);
  if (d.imm == 0) return base;
  lea(rax, ptr[base + static_cast<int32_t>(d.imm)]);
  return rax;
}

bool Emitter::emit_load(const DecodedInsn& d) {
  const unsigned width = mem_width(d.op);
  Xbyak::Label& miss = new_label();
  Xbyak::Label& done = new_label();
  const Xbyak::Reg64 va = address_reg(d);
  const unsigned rd = d.rd;
  // The value goes straight into rd's cache register (or rax); the slow path reads it back
  // from the state, where the helper wrote it.
  const Xbyak::Reg64 out = dest(rd);
  cold_call(
      miss, done, load_fn(d.op), HelperKind::kMemory,
      [this, rd, va] {
        if (va.getIdx() != rsi.getIdx()) mov(rsi, va);  // before rdi: va may be in rdi
        mov(rdi, rbx);
        mov(edx, rd);
      },
      [this, rd, out] { mov(out, xreg(rd)); });
  tlb_probe(false, width, miss, va);
  const bool sign = mem_signed(d.op);
  const Xbyak::RegExp at = va + rdx;
  switch (width) {
    case 1: sign ? movsx(out, byte[at]) : movzx(out.cvt32(), byte[at]); break;
    case 2: sign ? movsx(out, word[at]) : movzx(out.cvt32(), word[at]); break;
    case 4:
      if (sign) {
        movsxd(out, dword[at]);
      } else {
        mov(out.cvt32(), dword[at]);
      }
      break;
    default: mov(out, qword[at]); break;
  }
  L(done);
  write_x(d.rd, out);
  ++retired_;
  return true;
}

bool Emitter::emit_store(const DecodedInsn& d) {
  const unsigned width = mem_width(d.op);
  Xbyak::Label& miss = new_label();
  Xbyak::Label& done = new_label();
  const Xbyak::Reg64 va = address_reg(d);
  // The value: its cache register (untouched by the probe) or, uncached, memory.
  const Xbyak::Reg64* value_reg = cached(d.rs2);
  const Xbyak::Reg64 value = value_reg != nullptr ? *value_reg : Xbyak::Reg64(0);
  const bool in_reg = value_reg != nullptr;
  const unsigned rs2 = d.rs2;
  const unsigned len = d.len;
  cold_call(miss, done, store_fn(width), HelperKind::kMemory, [this, in_reg, value, rs2, len, va] {
    // In this order: the value and va may sit in rsi or rdi.
    if (in_reg) {
      mov(rdx, value);
    } else if (rs2 == 0) {
      xor_(edx, edx);
    } else {
      mov(rdx, xreg(rs2));
    }
    if (va.getIdx() != rsi.getIdx()) mov(rsi, va);
    mov(rdi, rbx);
    mov(ecx, len);
  });
  tlb_probe(true, width, miss, va);
  const Xbyak::RegExp at = va + rdx;
  if (rs2 == 0) {
    switch (width) {
      case 1: mov(byte[at], 0); break;
      case 2: mov(word[at], 0); break;
      case 4: mov(dword[at], 0); break;
      default: mov(qword[at], 0); break;
    }
  } else {
    const Xbyak::Reg64 v = in_reg ? value : rcx;
    if (!in_reg) load_x(rcx, rs2);
    switch (width) {
      case 1: mov(byte[at], v.cvt8()); break;
      case 2: mov(word[at], v.cvt16()); break;
      case 4: mov(dword[at], v.cvt32()); break;
      default: mov(qword[at], v); break;
    }
  }
  L(done);
  ++retired_;
  return true;
}

void Emitter::cold_call(Xbyak::Label& from, Xbyak::Label& back, const void* fn, HelperKind kind,
                        std::function<void()> args, std::function<void()> after) {
  cold_calls_.push_back(ColdCall{&from, &back, fn, kind, std::move(args), std::move(after),
                                 dirty_now(), volatile_loaded(), off_ - synced_, retired_});
  // Moved out before it is emitted: emitting could add to cold_calls_ and move its elements.
  cold_.emplace_back([this, i = cold_calls_.size() - 1] {
    const ColdCall c = std::move(cold_calls_[i]);
    emit_cold_call(c);
  });
}

void Emitter::emit_cold_call(const ColdCall& c) {
  L(*c.from);
  store_back(c.dirty);
  if (c.pc_delta != 0) add(r14, static_cast<int32_t>(c.pc_delta));
  if (c.retired != 0) add(r15, static_cast<int32_t>(c.retired));
  spill_pc_instret();
  c.args();
  call(c.fn);
  count_helper(c.kind);
  test(al, al);
  jnz(helper_exit(), T_NEAR);
  if (c.pc_delta != 0) sub(r14, static_cast<int32_t>(c.pc_delta));
  if (c.retired != 0) sub(r15, static_cast<int32_t>(c.retired));
  reload_tlb();  // a helper's semantics may change the privilege, MPRV or SUM
  for (const auto& [guest, slot] : c.reload) {
    mov(host_of(static_cast<unsigned>(slot)), xreg(guest));
  }
  if (c.after) c.after();
  jmp(*c.back, T_NEAR);
}

void Emitter::cold_helper(const DecodedInsn& d, HelperKind kind, Xbyak::Label& from,
                          Xbyak::Label& back) {
  cold_call(from, back, reinterpret_cast<const void*>(d.fn), kind, [this, &d] {
    mov(rdi, rbx);
    mov(rsi, reinterpret_cast<uintptr_t>(&d));
  });
}

// flw, fld, fsw, fsd: inline while FS is Dirty (at V=1 vsstatus.FS too; as it stays once a program
// uses the FPU) and the soft TLB hits; otherwise their semantics, which also make FS Dirty or trap.
bool Emitter::emit_fp_memory(const DecodedInsn& d) {
  const unsigned width = mem_width(d.op);
  const bool load = is_load(d.op);
  Xbyak::Label& slow = new_label();
  Xbyak::Label& done = new_label();
  address(d);
  cold_helper(d, HelperKind::kFloat, slow, done);
  // HartState::fp_ready's Dirty: mstatus.FS and, at V=1, vsstatus.FS both Dirty (testing
  // mstatus alone let a guest whose own FS was Off or Initial use the FPU unseen).
  test(byte[rbx + off::kFpReady], HartState::kFpDirty);
  jz(slow, T_NEAR);
  tlb_probe(!load, width, slow, rax);
  if (load) {
    if (width == 4) {
      mov(eax, dword[rax + rdx]);
      mov(rcx, 0xffffffff00000000ULL);  // NaN-boxed in the 64-bit register
      or_(rax, rcx);
    } else {
      mov(rax, qword[rax + rdx]);
    }
    mov(qword[rbx + off::f(d.rd)], rax);
  } else {
    mov(rcx, qword[rbx + off::f(d.rs2)]);
    if (width == 4) {
      mov(dword[rax + rdx], ecx);
    } else {
      mov(qword[rax + rdx], rcx);
    }
  }
  L(done);
  ++retired_;
  return true;
}

// cbo.zero: the 64-byte block holding rs1 zeroed inline while cbo.zero is enabled at this
// privilege (HartState::cbo_zero_ok) and the write TLB holds the block's page, which makes it
// writable RAM that PMP allows, no data trigger watches and no translated code lives on;
// otherwise its semantics (which also raise the faults). Debian's kernel clears pages with it.
bool Emitter::emit_cbo_zero(const DecodedInsn& d) {
  Xbyak::Label& slow = new_label();
  Xbyak::Label& done = new_label();
  address(d);  // before the cold path: rs1 in its cache register on both paths
  cold_helper(d, HelperKind::kMemory, slow, done);
  test(byte[rbx + off::kCboZeroOk], 1);
  jz(slow, T_NEAR);
  and_(rax, -static_cast<int32_t>(kCacheBlockSize));
  tlb_probe(true, kCacheBlockSize, slow, rax);
  xorps(xmm0, xmm0);
  for (int32_t k = 0; k < static_cast<int32_t>(kCacheBlockSize); k += 16) {
    movups(xword[rax + rdx + k], xmm0);
  }
  L(done);
  ++retired_;
  return true;
}

}  // namespace vessel::rv::jit
