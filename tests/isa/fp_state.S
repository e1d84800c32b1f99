/* Floating-point state: NaN boxing of single-precision operands (a value
 * whose upper 32 bits are not all ones reads as the canonical NaN for
 * single operations, but moves and stores see its raw low word), and
 * mstatus.FS: Off makes every F/D instruction and fcsr access illegal;
 * any write to FP state makes FS Dirty and sets SD. */
#include "test_macros.h"

/* f-reg `freg` gets a 64-bit pattern that is not a valid NaN box. */
#define LOAD_UNBOXED(freg, bits) \
  li t6, bits;                   \
  fmv.d.x freg, t6

#define SET_FS(value)      \
  li t6, MSTATUS_FS;       \
  csrc mstatus, t6;        \
  li t6, value;            \
  csrs mstatus, t6

TEST_BEGIN

  /* 1.0 without its box: single ops see the canonical (quiet) NaN. */
  SET_TESTNUM(1)
  LOAD_UNBOXED(f1, 0x000000003f800000)
  LOAD_S(f2, 0x3f800000)
  fsflags zero
  fadd.s f0, f1, f2
  CHECK_FREG_S(f0, 0x7fc00000)
  CHECK_FFLAGS(0)
  SET_TESTNUM(2)
  LOAD_UNBOXED(f1, 0xfffffffe3f800000)
  fmul.s f0, f2, f1
  CHECK_FREG_S(f0, 0x7fc00000)
  fsqrt.s f0, f1
  CHECK_FREG_S(f0, 0x7fc00000)
  fmadd.s f0, f2, f2, f1
  CHECK_FREG_S(f0, 0x7fc00000)
  CHECK_FFLAGS(0)
  /* Sign injection reads the canonical NaN (positive, quiet). */
  SET_TESTNUM(3)
  LOAD_UNBOXED(f1, 0x00000000bf800000)
  LOAD_S(f2, 0xc0000000)
  fsgnj.s f0, f1, f2
  CHECK_FREG_S(f0, 0xffc00000)
  fsgnj.s f0, f2, f1
  CHECK_FREG_S(f0, 0x40000000)
  fsgnjn.s f0, f2, f1
  CHECK_FREG_S(f0, 0xc0000000)
  fsgnjx.s f0, f2, f1
  CHECK_FREG_S(f0, 0xc0000000)
  fsgnjx.s f0, f1, f2
  CHECK_FREG_S(f0, 0xffc00000)
  CHECK_FFLAGS(0)
  /* Classification, comparisons, min/max and conversions. */
  SET_TESTNUM(4)
  LOAD_UNBOXED(f1, 0x0000000000000000)
  fclass.s a0, f1
  CHECK_EQ(a0, 0x200)
  LOAD_S(f2, 0x40000000)
  feq.s a0, f1, f1
  CHECK_EQ(a0, 0)
  CHECK_FFLAGS(0)
  flt.s a0, f1, f2
  CHECK_EQ(a0, 0)
  CHECK_FFLAGS(FFLAGS_NV)
  fmin.s f0, f1, f2
  CHECK_FREG_S(f0, 0x40000000)
  fmax.s f0, f2, f1
  CHECK_FREG_S(f0, 0x40000000)
  CHECK_FFLAGS(0)
  SET_TESTNUM(5)
  fcvt.w.s a0, f1, rtz
  CHECK_EQ(a0, 0x7fffffff)
  CHECK_FFLAGS(FFLAGS_NV)
  fcvt.d.s f0, f1
  CHECK_FREG_D(f0, 0x7ff8000000000000)
  CHECK_FFLAGS(0)
  /* fmv.x.w and fsw move the low word as it is. */
  SET_TESTNUM(6)
  LOAD_UNBOXED(f1, 0x12345678bf800000)
  fmv.x.w a0, f1
  CHECK_EQ(a0, 0xffffffffbf800000)
  la a1, fs_buf
  sd zero, 0(a1)
  fsw f1, 0(a1)
  ld a0, 0(a1)
  CHECK_EQ(a0, 0xbf800000)
  /* A boxed single read as a double is a quiet NaN. */
  SET_TESTNUM(7)
  LOAD_S(f1, 0x3f800000)
  CHECK_FREG_D(f1, 0xffffffff3f800000)
  fadd.d f0, f1, f1
  CHECK_FREG_D(f0, 0x7ff8000000000000)
  CHECK_FFLAGS(0)
  /* Every single-precision writer NaN-boxes. */
  SET_TESTNUM(8)
  LOAD_UNBOXED(f0, 0)
  la a1, fs_buf
  li a2, 0x40400000
  sw a2, 0(a1)
  flw f0, 0(a1)
  CHECK_FREG_S(f0, 0x40400000)
  LOAD_UNBOXED(f0, 0)
  li a2, 3
  fcvt.s.w f0, a2
  CHECK_FREG_S(f0, 0x40400000)
  LOAD_UNBOXED(f0, 0)
  LOAD_D(f1, 0x4008000000000000)
  fcvt.s.d f0, f1
  CHECK_FREG_S(f0, 0x40400000)
  LOAD_UNBOXED(f0, 0)
  LOAD_S(f1, 0x40400000)
  fsgnj.s f0, f1, f1
  CHECK_FREG_S(f0, 0x40400000)
  LOAD_UNBOXED(f0, 0)
  fmin.s f0, f1, f1
  CHECK_FREG_S(f0, 0x40400000)

  /* mstatus.FS holds any of its four values. */
  SET_TESTNUM(9)
  SET_FS(MSTATUS_FS_CLEAN)
  CHECK_CSR_MASKED(mstatus, MSTATUS_FS, MSTATUS_FS_CLEAN)
  SET_FS(MSTATUS_FS_INITIAL)
  CHECK_CSR_MASKED(mstatus, MSTATUS_FS, MSTATUS_FS_INITIAL)
  SET_FS(MSTATUS_FS_DIRTY)
  CHECK_CSR_MASKED(mstatus, MSTATUS_FS | MSTATUS_SD, MSTATUS_FS_DIRTY | MSTATUS_SD)
  CHECK_CSR_MASKED(sstatus, MSTATUS_FS | MSTATUS_SD, MSTATUS_FS_DIRTY | MSTATUS_SD)
  /* SD summarises FS/XS/VS and cannot be written. */
  SET_TESTNUM(10)
  SET_FS(0)
  li t0, MSTATUS_SD
  csrs mstatus, t0
  CHECK_CSR_MASKED(mstatus, MSTATUS_FS | MSTATUS_SD, 0)
  CHECK_CSR_MASKED(mstatus, MSTATUS_XS, 0)

  /* FS = Off: all FP instructions and fcsr accesses are illegal. */
  TEST_TRAP_TVAL(11, CAUSE_ILLEGAL_INSTRUCTION, 0x02208053, fadd.d f0, f1, f2, rne)
  la a1, fs_buf
  TEST_TRAP(12, CAUSE_ILLEGAL_INSTRUCTION, flw f0, 0(a1))
  TEST_TRAP(13, CAUSE_ILLEGAL_INSTRUCTION, fsd f0, 0(a1))
  li a0, 0x55
  TEST_TRAP(14, CAUSE_ILLEGAL_INSTRUCTION, fmv.x.d a0, f0)
  CHECK_EQ(a0, 0x55)
  TEST_TRAP(15, CAUSE_ILLEGAL_INSTRUCTION, fmv.w.x f0, a0)
  TEST_TRAP_TVAL(16, CAUSE_ILLEGAL_INSTRUCTION, 0x00102573, csrr a0, fflags)
  TEST_TRAP(17, CAUSE_ILLEGAL_INSTRUCTION, csrw frm, zero)
  TEST_TRAP(18, CAUSE_ILLEGAL_INSTRUCTION, csrr a0, fcsr)
  TEST_TRAP(19, CAUSE_ILLEGAL_INSTRUCTION, feq.s a0, f0, f0)
  TEST_TRAP(20, CAUSE_ILLEGAL_INSTRUCTION, fcvt.s.l f0, a0)
  TEST_TRAP(21, CAUSE_ILLEGAL_INSTRUCTION, fclass.d a0, f0)
  TEST_TRAP(22, CAUSE_ILLEGAL_INSTRUCTION, fmadd.s f0, f1, f2, f3)
  mv s0, a1
  TEST_TRAP_TVAL(23, CAUSE_ILLEGAL_INSTRUCTION, 0x2008, c.fld f10, 0(s0))
  TEST_IN_MODE(24, PRV_U, CAUSE_ILLEGAL_INSTRUCTION, fsgnj.d f0, f1, f1)
  TEST_IN_MODE(25, PRV_S, CAUSE_ILLEGAL_INSTRUCTION, fsflags zero)
  /* Turning FS off does not lose the registers. */
  SET_TESTNUM(26)
  SET_FS(MSTATUS_FS_INITIAL)
  LOAD_D(f9, 0x0123456789abcdef)
  csrwi fflags, FFLAGS_DZ
  SET_FS(0)
  SET_FS(MSTATUS_FS_CLEAN)
  CHECK_FREG_D(f9, 0x0123456789abcdef)
  CHECK_CSR(fflags, FFLAGS_DZ)

  /* Writes to FP state make FS Dirty and set SD: from Initial and Clean,
   * by an arithmetic result, a move, a load, a flag change alone and a CSR
   * write. */
#define TEST_DIRTIES(num, from, code...)                                     \
  SET_TESTNUM(num);                                                          \
  SET_FS(from);                                                              \
  CHECK_CSR_MASKED(mstatus, MSTATUS_FS | MSTATUS_SD, from);                  \
  code;                                                                      \
  CHECK_CSR_MASKED(mstatus, MSTATUS_FS | MSTATUS_SD, MSTATUS_FS_DIRTY | MSTATUS_SD)

  TEST_DIRTIES(27, MSTATUS_FS_INITIAL, fadd.s f0, f1, f1)
  TEST_DIRTIES(28, MSTATUS_FS_CLEAN, fmul.d f0, f1, f1)
  TEST_DIRTIES(29, MSTATUS_FS_CLEAN, li a0, 5; fmv.w.x f0, a0)
  TEST_DIRTIES(30, MSTATUS_FS_INITIAL, la a1, fs_buf; fld f0, 0(a1))
  TEST_DIRTIES(31, MSTATUS_FS_CLEAN, csrwi fflags, 1)
  TEST_DIRTIES(32, MSTATUS_FS_CLEAN, csrwi frm, 0)
  TEST_DIRTIES(33, MSTATUS_FS_CLEAN, li a0, 0; fcvt.d.l f0, a0)
  TEST_DIRTIES(34, MSTATUS_FS_CLEAN, la a1, fs_buf; mv s0, a1; c.fld f8, 0(s0))
  /* sstatus shows the same FS and SD. */
  SET_TESTNUM(35)
  CHECK_CSR_MASKED(sstatus, MSTATUS_FS | MSTATUS_SD, MSTATUS_FS_DIRTY | MSTATUS_SD)
  /* From U-mode too. */
  SET_FS(MSTATUS_FS_CLEAN)
  TEST_OK_IN_MODE(36, PRV_U, fmv.d.x f0, zero)
  CHECK_CSR_MASKED(mstatus, MSTATUS_FS | MSTATUS_SD, MSTATUS_FS_DIRTY | MSTATUS_SD)

  /* feq with a signalling NaN changes only fflags, which is FP state too.
   * QEMU (7.2) marks FS dirty only for register and CSR writes and fails
   * this check. */
  SET_FS(MSTATUS_FS_INITIAL)
  LOAD_D(f1, 0x7ff0000000000001)
  fsflags zero
  TEST_DIRTIES(37, MSTATUS_FS_CLEAN, feq.d a0, f1, f1)
  CHECK_FFLAGS(FFLAGS_NV)

TEST_END

  .data
  .align 3
fs_buf:
  .zero 16
