// F, D and Zfhmin. Arithmetic is done by the exact soft-float library (fpu/softfloat.hpp); this
// file adds what the ISA layers on top: FS gating, the dynamic rounding mode, NaN boxing of
// single- and half-precision values in 64-bit registers, and sticky flag accumulation.
#pragma once

#include "cpu/riscv/fpu/softfloat.hpp"
#include "cpu/riscv/semantics/macros.hpp"

// The semantics read as a table, one instruction per line where it fits: keep it so.
// clang-format off
namespace vessel::rv {

namespace fpu_glue {

constexpr uint64_t kBoxUpper = 0xffffffff00000000ULL;

constexpr uint64_t kBoxUpper16 = 0xffffffffffff0000ULL;

inline uint32_t unbox(uint64_t v) {
  return (v & kBoxUpper) == kBoxUpper ? static_cast<uint32_t>(v) : fp::kCanonicalNaN32;
}
inline uint16_t unbox16(uint64_t v) {
  return (v & kBoxUpper16) == kBoxUpper16 ? static_cast<uint16_t>(v) : fp::kCanonicalNaN16;
}
inline void write_f16(Hart& h, uint8_t rd, uint16_t v) {
  h.f[rd] = kBoxUpper16 | v;
  h.set_fs_dirty();
}
inline void write_f32(Hart& h, uint8_t rd, uint32_t v) {
  h.f[rd] = kBoxUpper | v;
  h.set_fs_dirty();
}
inline void write_f64(Hart& h, uint8_t rd, uint64_t v) {
  h.f[rd] = v;
  h.set_fs_dirty();
}
inline void accrue(Hart& h, uint8_t flags) {
  if (flags != 0) {
    h.fflags |= flags;
    h.set_fs_dirty();
  }
}
// The effective rounding mode, or false when it is reserved (illegal instruction).
inline bool rounding_mode(const Hart& h, const DecodedInsn& d, fp::RoundingMode& rm) {
  const uint8_t r = d.rm == 7 ? h.frm : d.rm;
  if (r > 4) return false;
  rm = static_cast<fp::RoundingMode>(r);
  return true;
}

}  // namespace fpu_glue

#define FP_REQUIRE \
  if (!h.fp_enabled()) return h.illegal(d)
#define FP_RM                                                 \
  FP_REQUIRE;                                                 \
  fp::RoundingMode rm;                                        \
  if (!fpu_glue::rounding_mode(h, d, rm)) return h.illegal(d); \
  uint8_t flags = 0
#define F16(r) (fpu_glue::unbox16(h.f[r]))
#define F32(r) (fpu_glue::unbox(h.f[r]))
#define F64(r) (h.f[r])
#define WRITE_F16(v) fpu_glue::write_f16(h, d.rd, (v))
#define WRITE_F32(v) fpu_glue::write_f32(h, d.rd, (v))
#define WRITE_F64(v) fpu_glue::write_f64(h, d.rd, (v))
#define ACCRUE fpu_glue::accrue(h, flags)

// Loads and stores move bits: no unboxing on store, boxing on load.
VESSEL_INSN(flw) {
  FP_REQUIRE;
  uint32_t v;
  MEM_OR_TRAP(h.load<uint32_t>(RS1 + UIMM, v));
  WRITE_F32(v);
  NEXT;
}
VESSEL_INSN(fld) {
  FP_REQUIRE;
  uint64_t v;
  MEM_OR_TRAP(h.load<uint64_t>(RS1 + UIMM, v));
  WRITE_F64(v);
  NEXT;
}
VESSEL_INSN(fsw) {
  FP_REQUIRE;
  MEM_OR_TRAP(h.store<uint32_t>(RS1 + UIMM, static_cast<uint32_t>(h.f[d.rs2])));
  return after_store(h, d);
}
VESSEL_INSN(fsd) {
  FP_REQUIRE;
  MEM_OR_TRAP(h.store<uint64_t>(RS1 + UIMM, h.f[d.rs2]));
  return after_store(h, d);
}

VESSEL_INSN(fmadd_s) { FP_RM; WRITE_F32(fp::f32_muladd(F32(d.rs1), F32(d.rs2), F32(d.rs3), rm, flags, false, false)); ACCRUE; NEXT; }
VESSEL_INSN(fmsub_s) { FP_RM; WRITE_F32(fp::f32_muladd(F32(d.rs1), F32(d.rs2), F32(d.rs3), rm, flags, false, true)); ACCRUE; NEXT; }
VESSEL_INSN(fnmsub_s) { FP_RM; WRITE_F32(fp::f32_muladd(F32(d.rs1), F32(d.rs2), F32(d.rs3), rm, flags, true, false)); ACCRUE; NEXT; }
VESSEL_INSN(fnmadd_s) { FP_RM; WRITE_F32(fp::f32_muladd(F32(d.rs1), F32(d.rs2), F32(d.rs3), rm, flags, true, true)); ACCRUE; NEXT; }
VESSEL_INSN(fmadd_d) { FP_RM; WRITE_F64(fp::f64_muladd(F64(d.rs1), F64(d.rs2), F64(d.rs3), rm, flags, false, false)); ACCRUE; NEXT; }
VESSEL_INSN(fmsub_d) { FP_RM; WRITE_F64(fp::f64_muladd(F64(d.rs1), F64(d.rs2), F64(d.rs3), rm, flags, false, true)); ACCRUE; NEXT; }
VESSEL_INSN(fnmsub_d) { FP_RM; WRITE_F64(fp::f64_muladd(F64(d.rs1), F64(d.rs2), F64(d.rs3), rm, flags, true, false)); ACCRUE; NEXT; }
VESSEL_INSN(fnmadd_d) { FP_RM; WRITE_F64(fp::f64_muladd(F64(d.rs1), F64(d.rs2), F64(d.rs3), rm, flags, true, true)); ACCRUE; NEXT; }

#define VESSEL_FP_BINARY(id, W, fn)                                           \
  VESSEL_INSN(id) {                                                           \
    FP_RM;                                                                    \
    WRITE_##W(fp::fn(W(d.rs1), W(d.rs2), rm, flags));                         \
    ACCRUE;                                                                   \
    NEXT;                                                                     \
  }
VESSEL_FP_BINARY(fadd_s, F32, f32_add)
VESSEL_FP_BINARY(fsub_s, F32, f32_sub)
VESSEL_FP_BINARY(fmul_s, F32, f32_mul)
VESSEL_FP_BINARY(fdiv_s, F32, f32_div)
VESSEL_FP_BINARY(fadd_d, F64, f64_add)
VESSEL_FP_BINARY(fsub_d, F64, f64_sub)
VESSEL_FP_BINARY(fmul_d, F64, f64_mul)
VESSEL_FP_BINARY(fdiv_d, F64, f64_div)
#undef VESSEL_FP_BINARY

VESSEL_INSN(fsqrt_s) { FP_RM; WRITE_F32(fp::f32_sqrt(F32(d.rs1), rm, flags)); ACCRUE; NEXT; }
VESSEL_INSN(fsqrt_d) { FP_RM; WRITE_F64(fp::f64_sqrt(F64(d.rs1), rm, flags)); ACCRUE; NEXT; }

// Sign injection: bit operations on the (unboxed) values, never any flag.
constexpr uint32_t kSign32 = 0x80000000u;
constexpr uint64_t kSign64 = 0x8000000000000000ULL;
VESSEL_INSN(fsgnj_s) { FP_REQUIRE; WRITE_F32((F32(d.rs1) & ~kSign32) | (F32(d.rs2) & kSign32)); NEXT; }
VESSEL_INSN(fsgnjn_s) { FP_REQUIRE; WRITE_F32((F32(d.rs1) & ~kSign32) | (~F32(d.rs2) & kSign32)); NEXT; }
VESSEL_INSN(fsgnjx_s) { FP_REQUIRE; WRITE_F32(F32(d.rs1) ^ (F32(d.rs2) & kSign32)); NEXT; }
VESSEL_INSN(fsgnj_d) { FP_REQUIRE; WRITE_F64((F64(d.rs1) & ~kSign64) | (F64(d.rs2) & kSign64)); NEXT; }
VESSEL_INSN(fsgnjn_d) { FP_REQUIRE; WRITE_F64((F64(d.rs1) & ~kSign64) | (~F64(d.rs2) & kSign64)); NEXT; }
VESSEL_INSN(fsgnjx_d) { FP_REQUIRE; WRITE_F64(F64(d.rs1) ^ (F64(d.rs2) & kSign64)); NEXT; }

#define VESSEL_FP_MINMAX(id, W, fn)                  \
  VESSEL_INSN(id) {                                  \
    FP_REQUIRE;                                      \
    uint8_t flags = 0;                               \
    WRITE_##W(fp::fn(W(d.rs1), W(d.rs2), flags));    \
    ACCRUE;                                          \
    NEXT;                                            \
  }
VESSEL_FP_MINMAX(fmin_s, F32, f32_min)
VESSEL_FP_MINMAX(fmax_s, F32, f32_max)
VESSEL_FP_MINMAX(fmin_d, F64, f64_min)
VESSEL_FP_MINMAX(fmax_d, F64, f64_max)
#undef VESSEL_FP_MINMAX

#define VESSEL_FP_COMPARE(id, W, fn)              \
  VESSEL_INSN(id) {                               \
    FP_REQUIRE;                                   \
    uint8_t flags = 0;                            \
    WRITE_RD(fp::fn(W(d.rs1), W(d.rs2), flags) ? 1 : 0); \
    ACCRUE;                                       \
    NEXT;                                         \
  }
VESSEL_FP_COMPARE(feq_s, F32, f32_eq)
VESSEL_FP_COMPARE(flt_s, F32, f32_lt)
VESSEL_FP_COMPARE(fle_s, F32, f32_le)
VESSEL_FP_COMPARE(feq_d, F64, f64_eq)
VESSEL_FP_COMPARE(flt_d, F64, f64_lt)
VESSEL_FP_COMPARE(fle_d, F64, f64_le)
#undef VESSEL_FP_COMPARE

VESSEL_INSN(fclass_s) { FP_REQUIRE; WRITE_RD(fp::f32_classify(F32(d.rs1))); NEXT; }
VESSEL_INSN(fclass_d) { FP_REQUIRE; WRITE_RD(fp::f64_classify(F64(d.rs1))); NEXT; }

// Float -> integer. 32-bit results are sign-extended, the unsigned ones included.
#define VESSEL_FP_TO_INT(id, W, fn, widen)             \
  VESSEL_INSN(id) {                                    \
    FP_RM;                                             \
    WRITE_RD(widen(fp::fn(W(d.rs1), rm, flags)));      \
    ACCRUE;                                            \
    NEXT;                                              \
  }
#define VESSEL_SEXT32(v) static_cast<int64_t>(static_cast<int32_t>(v))
#define VESSEL_AS_IS(v) (v)
VESSEL_FP_TO_INT(fcvt_w_s, F32, f32_to_i32, VESSEL_SEXT32)
VESSEL_FP_TO_INT(fcvt_wu_s, F32, f32_to_u32, VESSEL_SEXT32)
VESSEL_FP_TO_INT(fcvt_l_s, F32, f32_to_i64, VESSEL_AS_IS)
VESSEL_FP_TO_INT(fcvt_lu_s, F32, f32_to_u64, VESSEL_AS_IS)
VESSEL_FP_TO_INT(fcvt_w_d, F64, f64_to_i32, VESSEL_SEXT32)
VESSEL_FP_TO_INT(fcvt_wu_d, F64, f64_to_u32, VESSEL_SEXT32)
VESSEL_FP_TO_INT(fcvt_l_d, F64, f64_to_i64, VESSEL_AS_IS)
VESSEL_FP_TO_INT(fcvt_lu_d, F64, f64_to_u64, VESSEL_AS_IS)
#undef VESSEL_FP_TO_INT

// Integer -> float.
#define VESSEL_INT_TO_FP(id, W, fn, narrow)            \
  VESSEL_INSN(id) {                                    \
    FP_RM;                                             \
    WRITE_##W(fp::fn(narrow(RS1), rm, flags));         \
    ACCRUE;                                            \
    NEXT;                                              \
  }
#define VESSEL_I32(v) static_cast<int32_t>(v)
#define VESSEL_U32(v) static_cast<uint32_t>(v)
#define VESSEL_I64(v) static_cast<int64_t>(v)
VESSEL_INT_TO_FP(fcvt_s_w, F32, f32_from_i32, VESSEL_I32)
VESSEL_INT_TO_FP(fcvt_s_wu, F32, f32_from_u32, VESSEL_U32)
VESSEL_INT_TO_FP(fcvt_s_l, F32, f32_from_i64, VESSEL_I64)
VESSEL_INT_TO_FP(fcvt_s_lu, F32, f32_from_u64, VESSEL_AS_IS)
VESSEL_INT_TO_FP(fcvt_d_w, F64, f64_from_i32, VESSEL_I32)
VESSEL_INT_TO_FP(fcvt_d_wu, F64, f64_from_u32, VESSEL_U32)
VESSEL_INT_TO_FP(fcvt_d_l, F64, f64_from_i64, VESSEL_I64)
VESSEL_INT_TO_FP(fcvt_d_lu, F64, f64_from_u64, VESSEL_AS_IS)
#undef VESSEL_INT_TO_FP
#undef VESSEL_I32
#undef VESSEL_U32
#undef VESSEL_I64
#undef VESSEL_SEXT32
#undef VESSEL_AS_IS

VESSEL_INSN(fcvt_s_d) { FP_RM; WRITE_F32(fp::f64_to_f32(F64(d.rs1), rm, flags)); ACCRUE; NEXT; }
VESSEL_INSN(fcvt_d_s) { FP_RM; WRITE_F64(fp::f32_to_f64(F32(d.rs1), flags)); ACCRUE; NEXT; }

// Moves between register files copy bits (fmv.x.w sign-extends the low word, unboxed).
VESSEL_INSN(fmv_x_w) { FP_REQUIRE; WRITE_RD(sext32(h.f[d.rs1])); NEXT; }
VESSEL_INSN(fmv_w_x) { FP_REQUIRE; WRITE_F32(static_cast<uint32_t>(RS1)); NEXT; }
VESSEL_INSN(fmv_x_d) { FP_REQUIRE; WRITE_RD(h.f[d.rs1]); NEXT; }
VESSEL_INSN(fmv_d_x) { FP_REQUIRE; WRITE_F64(RS1); NEXT; }

// Zfhmin: half-precision values live NaN-boxed in the f registers (bits 63:16 all ones; an
// improperly boxed value reads as the canonical half NaN). Loads box, stores and fmv.x.h move
// the low 16 bits as they are; the conversions round by rm as the soft-float library does.
VESSEL_INSN(flh) {
  FP_REQUIRE;
  uint16_t v;
  MEM_OR_TRAP(h.load<uint16_t>(RS1 + UIMM, v));
  WRITE_F16(v);
  NEXT;
}
VESSEL_INSN(fsh) {
  FP_REQUIRE;
  MEM_OR_TRAP(h.store<uint16_t>(RS1 + UIMM, static_cast<uint16_t>(h.f[d.rs2])));
  return after_store(h, d);
}
VESSEL_INSN(fcvt_s_h) { FP_RM; WRITE_F32(fp::f16_to_f32(F16(d.rs1), flags)); ACCRUE; NEXT; }
VESSEL_INSN(fcvt_d_h) { FP_RM; WRITE_F64(fp::f16_to_f64(F16(d.rs1), flags)); ACCRUE; NEXT; }
VESSEL_INSN(fcvt_h_s) { FP_RM; WRITE_F16(fp::f32_to_f16(F32(d.rs1), rm, flags)); ACCRUE; NEXT; }
VESSEL_INSN(fcvt_h_d) { FP_RM; WRITE_F16(fp::f64_to_f16(F64(d.rs1), rm, flags)); ACCRUE; NEXT; }
VESSEL_INSN(fmv_x_h) { FP_REQUIRE; WRITE_RD(static_cast<int64_t>(static_cast<int16_t>(h.f[d.rs1]))); NEXT; }
VESSEL_INSN(fmv_h_x) { FP_REQUIRE; WRITE_F16(static_cast<uint16_t>(RS1)); NEXT; }

#undef FP_REQUIRE
#undef FP_RM
#undef F16
#undef F32
#undef F64
#undef WRITE_F16
#undef WRITE_F32
#undef WRITE_F64
#undef ACCRUE

}  // namespace vessel::rv
// clang-format on
