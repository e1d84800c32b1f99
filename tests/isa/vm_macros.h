/*
 * Page-table helpers shared by the paging tests (vm_*.S), after test_macros.h (which has
 * PTE_LEAF, RWXAD, SET_TABLE and SATP_FOR). The tables are .bss pages of the test; t5 and t6
 * are scratch.
 */
#ifndef VESSEL_ISA_VM_MACROS_H
#define VESSEL_ISA_VM_MACROS_H

/* table[index] = a leaf PTE for physical address `pa`. */
#define SET_LEAF(table, index, pa, flags) \
  li t5, PTE_LEAF(pa, flags);             \
  la t6, table + 8 * (index);             \
  sd t5, 0(t6);                           \
  sfence.vma

/* a0 = table[index] */
#define GET_PTE(table, index) \
  la t6, table + 8 * (index); \
  ld a0, 0(t6)

#define SET_MSTATUS(bits) \
  li t6, bits;            \
  csrs mstatus, t6
#define CLEAR_MSTATUS(bits) \
  li t6, bits;              \
  csrc mstatus, t6

/* The Sv39 tables the tests build: a .bss root, level-1 and level-0 table. */
#define VM_SV39_TABLES \
  .bss;                \
  .balign 4096;        \
  vm_l2:               \
  .zero 4096;          \
  vm_l1:               \
  .zero 4096;          \
  vm_l0:               \
  .zero 4096

#endif
