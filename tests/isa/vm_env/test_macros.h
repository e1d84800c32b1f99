/* Check macros in the shape of riscv-tests' isa/macros/scalar/test_macros.h,
 * for the tests of the -v environment clone. A check loads its operands,
 * runs the instruction, and branches to `fail` with TESTNUM = its number
 * when the result differs; x7 holds the expected value. */
#ifndef VESSEL_VM_ENV_TEST_MACROS_H
#define VESSEL_VM_ENV_TEST_MACROS_H

#define TEST_CASE(testnum, testreg, correctval, code...) \
  test_##testnum:                                      \
  li TESTNUM, testnum;                                 \
  code;                                                \
  li x7, correctval;                                   \
  bne testreg, x7, fail;

#define TEST_RR_OP(testnum, inst, result, val1, val2) \
  TEST_CASE(testnum, x14, result, li x1, val1; li x2, val2; inst x14, x1, x2)

#define TEST_IMM_OP(testnum, inst, result, val1, imm) \
  TEST_CASE(testnum, x14, result, li x1, val1; inst x14, x1, imm)

/* rd = rs1 and rd = rs2. */
#define TEST_RR_SRC1_EQ_DEST(testnum, inst, result, val1, val2) \
  TEST_CASE(testnum, x1, result, li x1, val1; li x2, val2; inst x1, x1, x2)
#define TEST_RR_SRC2_EQ_DEST(testnum, inst, result, val1, val2) \
  TEST_CASE(testnum, x2, result, li x1, val1; li x2, val2; inst x2, x1, x2)

/* The result used 0 to 2 instructions later, three times over. */
#define TEST_RR_DEST_BYPASS(testnum, nop_cycles, inst, result, val1, val2) \
  TEST_CASE(testnum, x6, result,                                           \
    li x4, 0;                                                              \
  1: li x1, val1;                                                          \
    li x2, val2;                                                           \
    inst x14, x1, x2;                                                      \
    TEST_INSERT_NOPS_##nop_cycles                                          \
    addi x6, x14, 0;                                                       \
    addi x4, x4, 1;                                                        \
    li x5, 2;                                                              \
    bne x4, x5, 1b)

#define TEST_INSERT_NOPS_0
#define TEST_INSERT_NOPS_1 nop;
#define TEST_INSERT_NOPS_2 nop; nop;

/* A load from base + offset (base a data label). */
#define TEST_LD_OP(testnum, inst, result, offset, base) \
  TEST_CASE(testnum, x14, result, la x15, base; inst x14, offset(x15))

/* A store, then a load of the same bytes. */
#define TEST_ST_OP(testnum, load_inst, store_inst, result, offset, base) \
  TEST_CASE(testnum, x14, result,                                        \
    la x1, base;                                                         \
    li x2, result;                                                       \
    store_inst x2, offset(x1);                                           \
    load_inst x14, offset(x1))

/* An FP operation on doubles at test_N_data; x10 = result bits, x11 = fflags. */
#define TEST_FP_OP2_D(testnum, inst, flags, result, val1, val2) \
  test_##testnum:                                               \
  li TESTNUM, testnum;                                          \
  la a0, test_##testnum##_data;                                 \
  fld f0, 0(a0);                                                \
  fld f1, 8(a0);                                                \
  fld f3, 16(a0);                                               \
  fsflags x0;                                                   \
  inst f3, f0, f1;                                              \
  fmv.x.d a0, f3;                                               \
  frflags a1;                                                   \
  la t0, test_##testnum##_data;                                 \
  ld t1, 16(t0);                                                \
  li a2, flags;                                                 \
  bne a0, t1, fail;                                             \
  bne a1, a2, fail;                                             \
  .pushsection .data;                                           \
  .align 3;                                                     \
  test_##testnum##_data:                                        \
  .double val1;                                                 \
  .double val2;                                                 \
  .double result;                                               \
  .popsection

#define TEST_PASSFAIL     \
  bne x0, TESTNUM, pass; \
  fail:                  \
  RVTEST_FAIL;           \
  pass:                  \
  RVTEST_PASS

#endif
