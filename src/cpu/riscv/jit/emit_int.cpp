// Emitters for the integer instructions: RV64I arithmetic, M, jumps and branches. Guest
// registers come from the block's register cache (emitter.cpp) or HartState; rax, rcx and
// rdx are scratch.
#include <algorithm>
#include <iterator>
#include <utility>

#include "cpu/riscv/decoder.hpp"
#include "cpu/riscv/jit/emitter.hpp"

namespace vessel::rv::jit {

using namespace Xbyak::util;

namespace {
bool fits_i32(int64_t v) { return v >= INT32_MIN && v <= INT32_MAX; }
}  // namespace

bool has_emitter(Op op) {
  switch (op) {
    case Op::lui:
    case Op::auipc:
    case Op::jal:
    case Op::jalr:
    case Op::beq:
    case Op::bne:
    case Op::blt:
    case Op::bge:
    case Op::bltu:
    case Op::bgeu:
    case Op::lb:
    case Op::lh:
    case Op::lw:
    case Op::ld:
    case Op::lbu:
    case Op::lhu:
    case Op::lwu:
    case Op::sb:
    case Op::sh:
    case Op::sw:
    case Op::sd:
    case Op::addi:
    case Op::slti:
    case Op::sltiu:
    case Op::xori:
    case Op::ori:
    case Op::andi:
    case Op::slli:
    case Op::srli:
    case Op::srai:
    case Op::add:
    case Op::sub:
    case Op::sll:
    case Op::slt:
    case Op::sltu:
    case Op::xor_:
    case Op::srl:
    case Op::sra:
    case Op::or_:
    case Op::and_:
    case Op::addiw:
    case Op::slliw:
    case Op::srliw:
    case Op::sraiw:
    case Op::addw:
    case Op::subw:
    case Op::sllw:
    case Op::srlw:
    case Op::sraw:
    case Op::cbo_zero:
    case Op::fence:
    case Op::flw:
    case Op::fld:
    case Op::fsw:
    case Op::fsd:
    case Op::mul:
    case Op::mulh:
    case Op::mulhsu:
    case Op::mulhu:
    case Op::div:
    case Op::divu:
    case Op::rem:
    case Op::remu:
    case Op::mulw:
    case Op::divw:
    case Op::divuw:
    case Op::remw:
    case Op::remuw: return true;
    default: return has_bitmanip_emitter(op) || has_fp_emitter(op);
  }
}

bool Emitter::emit(const DecodedInsn& d) {
  if (has_fp_emitter(d.op)) return emit_fp(d);  // false: the semantics
  if (!has_emitter(d.op)) return false;
  if (d.op == Op::flw || d.op == Op::fld || d.op == Op::fsw || d.op == Op::fsd) {
    return emit_fp_memory(d);
  }
  if (d.op == Op::cbo_zero) return emit_cbo_zero(d);
  if (is_load(d.op)) return emit_load(d);
  if (is_store(d.op)) return emit_store(d);
  if (emit_control(d)) return true;
  // What is left computes rd and nothing else (division included: it never traps), so a
  // write to x0 needs no code.
  if (writes_int_rd(d.op) && d.rd == kZeroSink) {
    ++retired_;
    return true;
  }
  const bool done = emit_alu(d) || emit_alu_w(d) || emit_muldiv(d) || emit_bitmanip(d);
  if (done) ++retired_;
  return done;
}

Emitter::Operands Emitter::operands(const DecodedInsn& d, bool commutative) {
  unsigned a = d.rs1;
  unsigned b = d.rs2;
  Xbyak::Reg64 out = dest(d.rd);
  if (b == d.rd && a != d.rd) {  // moving rs1 into rd's register would lose rs2
    if (commutative) {
      std::swap(a, b);
    } else {
      out = rax;
    }
  }
  const Xbyak::Reg64 rhs = src(b, rcx);
  load_x(out, a);
  return {out, rhs};
}

bool Emitter::emit_alu(const DecodedInsn& d) {
  const unsigned rd = d.rd;
  const auto imm = static_cast<int32_t>(d.imm);  // 12-bit, or 32-bit for lui
  if (d.op == Op::fence) {
    // As the semantics: only an ordering of earlier stores before later loads needs a host
    // fence on x86 (TSO); every other fence is already kept by the host.
    const bool pred_w = ((d.raw >> 24) & 0b0101) != 0;
    const bool succ_r = ((d.raw >> 20) & 0b1010) != 0;
    const bool tso = (d.raw >> 28) == 0b1000;
    if (pred_w && succ_r && !tso) mfence();
    return true;
  }
  auto rr = [&](auto op, bool commutative) {  // rd = rs1 op rs2
    // With x0 on one side add, or and xor are a move (c.mv is add rd, x0, rs2), and so is
    // sub from x0's other side.
    const bool identity = d.op != Op::and_ && (d.rs2 == 0 || (commutative && d.rs1 == 0));
    if (identity) {
      move_x(rd, d.rs2 == 0 ? d.rs1 : d.rs2);
      return;
    }
    const auto [out, rhs] = operands(d, commutative);
    op(out, rhs);
    write_x(rd, out);
  };
  auto ri = [&](auto op) {                 // rd = rs1 op imm
    if (d.rs1 == rd && dest(rd) == rax) {  // rd is not cached: work in memory
      op(xreg(rd), imm);
      return;
    }
    const Xbyak::Reg64 out = dest(rd);
    load_x(out, d.rs1);
    op(out, imm);
    write_x(rd, out);
  };
  auto set_if = [&](bool immediate, bool is_signed) {
    const Xbyak::Reg64 lhs = src(d.rs1, rax);
    if (immediate) {
      cmp(lhs, imm);
    } else {
      cmp(lhs, src(d.rs2, rcx));
    }
    if (is_signed) {
      setl(al);
    } else {
      setb(al);
    }
    const Xbyak::Reg64 out = dest(rd);
    movzx(out.cvt32(), al);
    write_x(rd, out);
  };
  auto shift_reg = [&](auto op) {
    load_x(rcx, d.rs2);
    const Xbyak::Reg64 out = dest(rd);
    load_x(out, d.rs1);
    op(out, cl);  // x86 masks a 64-bit shift count to 6 bits, as RISC-V does
    write_x(rd, out);
  };
  switch (d.op) {
    case Op::lui:
      if (dest(rd) == rax) {  // not cached: straight into the state
        mov(xreg(rd), imm);
      } else {
        mov(dest(rd), static_cast<uint64_t>(d.imm));
        write_x(rd, dest(rd));
      }
      return true;
    case Op::auipc: {
      const int64_t v = static_cast<int64_t>(off_) - synced_ + d.imm;
      const Xbyak::Reg64 out = dest(rd);
      if (fits_i32(v)) {
        lea(out, ptr[r14 + static_cast<int32_t>(v)]);
      } else {
        mov(out, v);
        add(out, r14);
      }
      write_x(rd, out);
      return true;
    }
    case Op::addi:
      if (d.rs1 != rd) {  // li, a move, or rd = rs1 + imm in one lea
        const Xbyak::Reg64 out = dest(rd);
        if (d.rs1 == 0) {
          mov(out, static_cast<uint64_t>(d.imm));
        } else if (const Xbyak::Reg64 from = src(d.rs1, out); d.imm != 0) {
          lea(out, ptr[from + imm]);
        } else if (from.getIdx() != out.getIdx()) {
          mov(out, from);
        }
        write_x(rd, out);
        return true;
      }
      ri([&](const auto& a, int32_t b) { add(a, b); });
      return true;
    case Op::xori: ri([&](const auto& a, int32_t b) { xor_(a, b); }); return true;
    case Op::ori: ri([&](const auto& a, int32_t b) { or_(a, b); }); return true;
    case Op::andi: ri([&](const auto& a, int32_t b) { and_(a, b); }); return true;
    case Op::slli: ri([&](const auto& a, int32_t b) { shl(a, b); }); return true;
    case Op::srli: ri([&](const auto& a, int32_t b) { shr(a, b); }); return true;
    case Op::srai: ri([&](const auto& a, int32_t b) { sar(a, b); }); return true;
    case Op::slti: set_if(true, true); return true;
    case Op::sltiu: set_if(true, false); return true;
    case Op::slt: set_if(false, true); return true;
    case Op::sltu: set_if(false, false); return true;
    case Op::add:
      rr([&](const Xbyak::Reg64& a, const Xbyak::Reg64& b) { add(a, b); }, true);
      return true;
    case Op::sub:
      rr([&](const Xbyak::Reg64& a, const Xbyak::Reg64& b) { sub(a, b); }, false);
      return true;
    case Op::xor_:
      rr([&](const Xbyak::Reg64& a, const Xbyak::Reg64& b) { xor_(a, b); }, true);
      return true;
    case Op::or_:
      rr([&](const Xbyak::Reg64& a, const Xbyak::Reg64& b) { or_(a, b); }, true);
      return true;
    case Op::and_:
      rr([&](const Xbyak::Reg64& a, const Xbyak::Reg64& b) { and_(a, b); }, true);
      return true;
    case Op::sll:
      shift_reg([&](const Xbyak::Reg64& a, const Xbyak::Reg8& c) { shl(a, c); });
      return true;
    case Op::srl:
      shift_reg([&](const Xbyak::Reg64& a, const Xbyak::Reg8& c) { shr(a, c); });
      return true;
    case Op::sra:
      shift_reg([&](const Xbyak::Reg64& a, const Xbyak::Reg8& c) { sar(a, c); });
      return true;
    default: return false;
  }
}

bool Emitter::emit_alu_w(const DecodedInsn& d) {
  const unsigned rd = d.rd;
  const auto imm = static_cast<int32_t>(d.imm);
  // The 32-bit result is computed in rd's cache register (or rax), then sign-extended.
  auto finish = [&](const Xbyak::Reg64& out) {
    movsxd(out, out.cvt32());
    write_x(rd, out);
  };
  auto ri = [&](auto op) {
    const Xbyak::Reg64 out = dest(rd);
    load_x(out, d.rs1);
    op(out.cvt32(), imm);
    finish(out);
  };
  auto rr = [&](auto op, bool commutative) {  // as emit_alu's, on the low halves
    const auto [out, rhs] = operands(d, commutative);
    op(out.cvt32(), rhs.cvt32());
    finish(out);
  };
  auto shift_reg = [&](auto op) {
    load_x(rcx, d.rs2);
    const Xbyak::Reg64 out = dest(rd);
    load_x(out, d.rs1);
    op(out.cvt32(), cl);  // a 32-bit shift count is masked to 5 bits, as the W forms ask
    finish(out);
  };
  using R32 = const Xbyak::Reg32&;
  switch (d.op) {
    case Op::addiw: {  // sext.w when imm is 0: one movsxd
      const Xbyak::Reg64 out = dest(rd);
      const Xbyak::Reg64 from = src(d.rs1, out);
      if (imm != 0) {
        lea(out.cvt32(), ptr[from + imm]);
        finish(out);
      } else {
        movsxd(out, from.cvt32());
        write_x(rd, out);
      }
      return true;
    }
    case Op::slliw: ri([&](R32 a, int32_t b) { shl(a, b); }); return true;
    case Op::srliw: ri([&](R32 a, int32_t b) { shr(a, b); }); return true;
    case Op::sraiw: ri([&](R32 a, int32_t b) { sar(a, b); }); return true;
    case Op::addw: rr([&](R32 a, R32 b) { add(a, b); }, true); return true;
    case Op::subw: rr([&](R32 a, R32 b) { sub(a, b); }, false); return true;
    case Op::sllw: shift_reg([&](R32 a, const Xbyak::Reg8& c) { shl(a, c); }); return true;
    case Op::srlw: shift_reg([&](R32 a, const Xbyak::Reg8& c) { shr(a, c); }); return true;
    case Op::sraw: shift_reg([&](R32 a, const Xbyak::Reg8& c) { sar(a, c); }); return true;
    default: return false;
  }
}

bool Emitter::emit_muldiv(const DecodedInsn& d) {
  const unsigned rd = d.rd;
  switch (d.op) {
    case Op::mul:
    case Op::mulw: {
      const auto [out, rhs] = operands(d, true);
      if (d.op == Op::mul) {
        imul(out, rhs);
      } else {
        imul(out.cvt32(), rhs.cvt32());
        movsxd(out, out.cvt32());
      }
      write_x(rd, out);
      return true;
    }
    case Op::mulh:
    case Op::mulhu:
    case Op::mulhsu:
      load_x(rax, d.rs1);
      load_x(rcx, d.rs2);
      if (d.op == Op::mulh) {
        imul(rcx);
      } else {
        mul(rcx);  // the unsigned high half, then mulhsu corrects for a negative rs1
        if (d.op == Op::mulhsu) {
          load_x(rax, d.rs1);
          sar(rax, 63);
          and_(rax, rcx);
          sub(rdx, rax);
        }
      }
      write_x(rd, rdx);
      return true;
    case Op::div: emit_div(d, false, true, false); return true;
    case Op::divu: emit_div(d, false, false, false); return true;
    case Op::rem: emit_div(d, false, true, true); return true;
    case Op::remu: emit_div(d, false, false, true); return true;
    case Op::divw: emit_div(d, true, true, false); return true;
    case Op::divuw: emit_div(d, true, false, false); return true;
    case Op::remw: emit_div(d, true, true, true); return true;
    case Op::remuw: emit_div(d, true, false, true); return true;
    default: return false;
  }
}

// RISC-V division never traps: x / 0 is all ones (x % 0 is x), and the signed overflow
// MIN / -1 is MIN (remainder 0). x86's div faults on both, so they are handled first.
void Emitter::emit_div(const DecodedInsn& d, bool is_word, bool is_signed, bool remainder) {
  Xbyak::Label& done = new_label();
  Xbyak::Label& normal = new_label();
  const Xbyak::Reg64 result = remainder ? rdx : rax;
  load_x(rax, d.rs1);
  load_x(rcx, d.rs2);
  if (is_word) {
    if (is_signed) {
      movsxd(rax, eax);
      movsxd(rcx, ecx);
    } else {
      mov(eax, eax);
      mov(ecx, ecx);
    }
  }
  // By zero.
  test(rcx, rcx);
  jnz(normal, T_NEAR);
  if (remainder) {
    mov(rdx, rax);
  } else {
    mov(rdx, -1);
  }
  jmp(done, T_NEAR);
  L(normal);
  if (is_signed) {
    Xbyak::Label& divide = new_label();
    cmp(rcx, -1);
    jne(divide, T_NEAR);
    // By -1: the quotient is -rs1 (MIN stays MIN, in 32 bits too once sign-extended below).
    if (remainder) {
      xor_(edx, edx);
    } else {
      mov(rdx, rax);
      neg(rdx);
    }
    jmp(done, T_NEAR);
    L(divide);
    cqo();
    idiv(rcx);
  } else {
    xor_(edx, edx);
    div(rcx);
  }
  if (!remainder) mov(rdx, rax);
  L(done);
  // The answer is in rdx on every path.
  (void)result;
  if (is_word) movsxd(rdx, edx);
  write_x(d.rd, rdx);
}

bool Emitter::emit_control(const DecodedInsn& d) {
  switch (d.op) {
    case Op::jal: {
      if (d.rd != kZeroSink) {
        lea(rax, ptr[r14 + static_cast<int32_t>(off_ - synced_ + d.len)]);
        write_x(d.rd, rax);
      }
      Join* j = is_local_jump(d) ? join_of(d) : nullptr;
      if (j != nullptr) {
        load_all();
        canonical_pc_instret(1);
        jump_to_join(*j, d);
      } else {
        exit_to(static_cast<int64_t>(off_) + d.imm, 1);
      }
      unreachable_ = true;
      return true;
    }
    case Op::jalr: {
      load_x(rcx, d.rs1);  // the target before rd is written (rd may be rs1)
      if (d.imm != 0) add(rcx, static_cast<int32_t>(d.imm));
      and_(rcx, -2);
      if (d.rd != kZeroSink) {
        lea(rax, ptr[r14 + static_cast<int32_t>(off_ - synced_ + d.len)]);
        write_x(d.rd, rax);
      }
      flush();
      mov(r14, rcx);
      const uint32_t n = retired_ + 1;
      add(r15, static_cast<int32_t>(n));
      jmp(qword[rbx + off::kStubLookup]);
      unreachable_ = true;
      return true;
    }
    case Op::beq:
    case Op::bne:
    case Op::blt:
    case Op::bge:
    case Op::bltu:
    case Op::bgeu: {
      // Taken, the block is left, or goes on at the join it lands on; not taken, it goes on.
      Join* j = join_of(d);
      if (j != nullptr) {  // both ways on from here count the branch as retired
        load_all();
        canonical_pc_instret(1);
      }
      const Xbyak::Reg64 a = src(d.rs1, rax);
      const Xbyak::Reg64 b = d.rs2 == 0 ? rcx : src(d.rs2, rcx);
      if (d.rs2 == 0) {
        test(a, a);
      } else {
        cmp(a, b);
      }
      if (j != nullptr) {
        jump_to_join(*j, d);
      } else {
        // The way out is a cold path, with the register cache and the lazy pc and instret
        // as they are here; not taken, the branch falls through.
        Xbyak::Label& out = new_label();
        jump_if(d.op, true, out);
        cold_.emplace_back([this, &out, dirty = dirty_now(), synced = synced_, n = retired_ + 1,
                            target = static_cast<int64_t>(off_) + d.imm] {
          L(out);
          leave(dirty, synced, n, target);
        });
        ++retired_;
      }
      return true;  // a block's last branch falls through to its end (Emitter::block)
    }
    default: return false;
  }
}

void Emitter::jump_if(Op op, bool taken, Xbyak::Label& to) {
  // After the compare of rs1 with rs2: to `to` where the branch is taken, or not taken.
  switch (op) {
    case Op::beq: taken ? je(to, T_NEAR) : jne(to, T_NEAR); break;
    case Op::bne: taken ? jne(to, T_NEAR) : je(to, T_NEAR); break;
    case Op::blt: taken ? jl(to, T_NEAR) : jge(to, T_NEAR); break;
    case Op::bge: taken ? jge(to, T_NEAR) : jl(to, T_NEAR); break;
    case Op::bltu: taken ? jb(to, T_NEAR) : jae(to, T_NEAR); break;
    default: taken ? jae(to, T_NEAR) : jb(to, T_NEAR); break;  // bgeu
  }
}

}  // namespace vessel::rv::jit
