/* Zifencei: after stores to instruction memory, fence.i makes the hart fetch
 * the new instructions, also when the old ones had already been executed
 * (and so may sit in a decode or translation cache). */
#include "test_macros.h"

/* Replaces the 32-bit instruction at `label` with `insn`, then fence.i. */
#define PATCH32(label, insn) \
  la a1, label;              \
  li a2, insn;               \
  sw a2, 0(a1);              \
  fence.i

TEST_BEGIN

  /* Run the original first so that it is "warm". */
  SET_TESTNUM(1)
  call patch_fn
  CHECK_EQ(a0, 1)
  /* addi a0, zero, 2 */
  SET_TESTNUM(2)
  PATCH32(patch_site, 0x00200513)
  call patch_fn
  CHECK_EQ(a0, 2)
  /* Again, several times over, as a JIT rewriting a stub would. */
  SET_TESTNUM(3)
  li s0, 3
  li s1, 20
1:
  /* addi a0, zero, s0: the immediate goes into bits 31:20. */
  slli a2, s0, 20
  li a3, 0x00000513
  or a2, a2, a3
  la a1, patch_site
  sw a2, 0(a1)
  fence.i
  call patch_fn
  CHECK_EQ_REG(a0, s0)
  addi s0, s0, 1
  bltu s0, s1, 1b

  /* Straight-line code patched just ahead of the pc. */
  SET_TESTNUM(4)
  li a0, 0
  li a3, 2
inline_loop:
  PATCH32(inline_site, 0x00150513)
inline_site:
  /* Becomes addi a0, a0, 1 before it is reached. */
  addi a0, a0, 100
  addi a3, a3, -1
  bnez a3, inline_loop
  CHECK_EQ(a0, 2)

  /* A 32-bit instruction replaced by two compressed ones. */
  SET_TESTNUM(5)
  call patch_fn2
  CHECK_EQ(a0, 7)
  /* c.li a0, 9 (0x4525); c.nop (0x0001) */
  PATCH32(patch_site2, 0x00014525)
  call patch_fn2
  CHECK_EQ(a0, 9)

  /* Code written into a data buffer and called there. */
  SET_TESTNUM(6)
  la a1, code_buf
  li a2, 0x02a00513 /* addi a0, zero, 42 */
  sw a2, 0(a1)
  li a2, 0x00008067 /* ret */
  sw a2, 4(a1)
  fence.i
  jalr ra, 0(a1)
  CHECK_EQ(a0, 42)
  la a1, code_buf
  li a2, 0x02b00513 /* addi a0, zero, 43 */
  sw a2, 0(a1)
  fence.i
  jalr ra, 0(a1)
  CHECK_EQ(a0, 43)

  TEST_PASS

  .balign 4
patch_fn:
  .option push
  .option norvc
patch_site:
  addi a0, zero, 1
  ret
patch_fn2:
patch_site2:
  addi a0, zero, 7
  ret
  .option pop

TEST_END

  .data
  .align 4
code_buf:
  .zero 64
