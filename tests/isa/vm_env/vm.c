/* The kernel of the -v environment clone (see riscv_test.h): vm_boot runs
 * once in M-mode, handle_trap in S-mode at the kernel's virtual address. */
#include <stddef.h>
#include <stdint.h>

#include "riscv_test.h"

void *memcpy(void *dest, const void *src, size_t n);
void *memset(void *dest, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

void trap_entry(void);
void pop_tf(trapframe_t *tf) __attribute__((noreturn));

extern volatile uint64_t tohost;
extern volatile uint64_t fromhost;

#define read_csr(reg)                                 \
  ({                                                  \
    unsigned long v_;                                 \
    asm volatile("csrr %0, " #reg : "=r"(v_));        \
    v_;                                               \
  })
#define write_csr(reg, val) asm volatile("csrw " #reg ", %0" ::"rK"(val))
#define set_csr(reg, bits)                                         \
  ({                                                               \
    unsigned long v_;                                              \
    asm volatile("csrrs %0, " #reg ", %1" : "=r"(v_) : "rK"(bits)); \
    v_;                                                            \
  })

/* The kernel sees RAM's first 2 MiB on the last megapage of the address
 * space, and a user page at its VA (with SUM) or its original image 2 MiB
 * below that kernel window's copy. */
#define pa2kva(pa) ((void *)((uintptr_t)(pa) - DRAM_BASE - MEGAPAGE_SIZE))
#define uva2kva(va) ((void *)((uintptr_t)(va) - MEGAPAGE_SIZE))

#define flush_page(addr) asm volatile("sfence.vma %0" ::"r"(addr) : "memory")

/* A command waits until the host has taken the previous one. */
static void do_tohost(uint64_t value) {
  while (tohost) fromhost = 0;
  tohost = value;
}

static void cputchar(int c) { do_tohost(0x0101000000000000UL | (unsigned char)c); }

static void cputstring(const char *s) {
  while (*s) cputchar(*s++);
}

static void terminate(int code) __attribute__((noreturn));
static void terminate(int code) {
  do_tohost(code);
  for (;;) {
  }
}

void wtf(void) { terminate(841); }

#define stringify1(x) #x
#define stringify(x) stringify1(x)
#define assert(x)                                              \
  do {                                                         \
    if (x) break;                                              \
    cputstring("Assertion failed: " stringify(x) "\n");        \
    terminate(3);                                              \
  } while (0)

#define NPT 4
pte_t pt[NPT][PTES_PER_PT] __attribute__((aligned(PGSIZE)));
#define l1pt pt[0]
#define user_l2pt pt[1]
#define kernel_l2pt pt[2]
#define user_l3pt pt[3]

typedef struct {
  pte_t addr;
  void *next;
} freelist_t;

freelist_t user_mapping[MAX_TEST_PAGES];
freelist_t freelist_nodes[MAX_TEST_PAGES];
freelist_t *freelist_head, *freelist_tail;

/* At the end: a page the program touched must have A set, and one it
 * changed D too; the changes go back to the image. */
static void evict(unsigned long addr) {
  assert(addr >= PGSIZE && addr < MAX_TEST_PAGES * PGSIZE);
  addr = addr / PGSIZE * PGSIZE;

  freelist_t *node = &user_mapping[addr / PGSIZE];
  if (!node->addr) return;
  assert(user_l3pt[addr / PGSIZE] & PTE_A);
  unsigned long sstatus = set_csr(sstatus, SSTATUS_SUM);
  if (memcmp((void *)addr, uva2kva(addr), PGSIZE)) {
    assert(user_l3pt[addr / PGSIZE] & PTE_D);
    memcpy(uva2kva(addr), (void *)addr, PGSIZE);
  }
  write_csr(sstatus, sstatus);

  user_mapping[addr / PGSIZE].addr = 0;
  if (freelist_tail == 0) {
    freelist_head = freelist_tail = node;
  } else {
    freelist_tail->next = node;
    freelist_tail = node;
  }
}

/* The first fault on a page maps it (R, W, X, U) with A and D clear, after
 * copying the image in through a temporary mapping with A and D set; the
 * hart must then fault again for A, and for D at the first store, and the
 * kernel sets those bits itself (no hardware A/D updating assumed). */
static void handle_fault(uintptr_t addr, uintptr_t cause) {
  assert(addr >= PGSIZE && addr < MAX_TEST_PAGES * PGSIZE);
  addr = addr / PGSIZE * PGSIZE;

  if (user_l3pt[addr / PGSIZE]) {
    if (!(user_l3pt[addr / PGSIZE] & PTE_A)) {
      user_l3pt[addr / PGSIZE] |= PTE_A;
    } else {
      assert(!(user_l3pt[addr / PGSIZE] & PTE_D) && cause == CAUSE_STORE_PAGE_FAULT);
      user_l3pt[addr / PGSIZE] |= PTE_D;
    }
    flush_page(addr);
    return;
  }

  freelist_t *node = freelist_head;
  assert(node);
  freelist_head = node->next;
  if (freelist_head == freelist_tail) freelist_tail = 0;

  uintptr_t new_pte =
      (node->addr >> PGSHIFT << PTE_PPN_SHIFT) | PTE_V | PTE_U | PTE_R | PTE_W | PTE_X;
  user_l3pt[addr / PGSIZE] = new_pte | PTE_A | PTE_D;
  flush_page(addr);

  assert(user_mapping[addr / PGSIZE].addr == 0);
  user_mapping[addr / PGSIZE] = *node;

  unsigned long sstatus = set_csr(sstatus, SSTATUS_SUM);
  memcpy((void *)addr, uva2kva(addr), PGSIZE);
  write_csr(sstatus, sstatus);

  user_l3pt[addr / PGSIZE] = new_pte;
  flush_page(addr);

  /* The page may hold code (env/v uses __builtin___clear_cache, which the
   * Linux-targeted gcc turns into a system call). */
  asm volatile("fence.i" ::: "memory");
}

void handle_trap(trapframe_t *tf) {
  if (tf->cause == CAUSE_USER_ECALL) {
    int n = tf->gpr[10];
    for (long i = 1; i < MAX_TEST_PAGES; i++) evict(i * PGSIZE);
    terminate(n);
  } else if (tf->cause == CAUSE_ILLEGAL_INSTRUCTION) {
    assert(tf->epc % 4 == 0);
    /* An FP test's first instruction on a hart without F: a pass. */
    int *fscsr;
    asm("jal %0, 1f; fscsr x0; 1:" : "=r"(fscsr));
    if (*(int *)tf->epc == *fscsr)
      terminate(1);
    else
      assert(!"illegal instruction");
    tf->epc += 4;
  } else if (tf->cause == CAUSE_FETCH_PAGE_FAULT || tf->cause == CAUSE_LOAD_PAGE_FAULT ||
             tf->cause == CAUSE_STORE_PAGE_FAULT) {
    handle_fault(tf->badvaddr, tf->cause);
  } else {
    assert(!"unexpected exception");
  }
  pop_tf(tf);
}

static uint64_t lfsr63(uint64_t x) {
  uint64_t bit = (x ^ (x >> 1)) & 1;
  return (x >> 1) | (bit << 62);
}

/* Harts other than 0 stay in M-mode and keep reading, and adding zero to,
 * random words of the first 512 KiB of RAM (code, page tables, the pages
 * handed out), which changes nothing the test can see. */
static void coherence_torture(void) __attribute__((noreturn));
static void coherence_torture(void) {
  uint64_t random = ENTROPY;
  for (;;) {
    uintptr_t paddr = DRAM_BASE + ((random % (2 * (MAX_TEST_PAGES + 1) * PGSIZE)) & -4);
    if (random & 1)
      asm volatile("amoadd.w zero, zero, (%0)" ::"r"(paddr));
    else
      asm volatile("lw zero, (%0)" ::"r"(paddr));
    random = lfsr63(random);
  }
}

void vm_boot(uintptr_t test_addr) {
  uint64_t random = ENTROPY;
  if (read_csr(mhartid) > 0) coherence_torture();

  _Static_assert(SIZEOF_TRAPFRAME_T == sizeof(trapframe_t), "trap frame layout");
  _Static_assert(MAX_TEST_PAGES <= PTES_PER_PT && DRAM_BASE % MEGAPAGE_SIZE == 0, "layout");

  /* User pages in the lowest megapage, the kernel on the highest. */
  l1pt[0] = ((pte_t)user_l2pt >> PGSHIFT << PTE_PPN_SHIFT) | PTE_V;
  l1pt[PTES_PER_PT - 1] = ((pte_t)kernel_l2pt >> PGSHIFT << PTE_PPN_SHIFT) | PTE_V;
  kernel_l2pt[PTES_PER_PT - 1] = (DRAM_BASE / PGSIZE << PTE_PPN_SHIFT) | PTE_V | PTE_R |
                                 PTE_W | PTE_X | PTE_A | PTE_D;
  user_l2pt[0] = ((pte_t)user_l3pt >> PGSHIFT << PTE_PPN_SHIFT) | PTE_V;
  uintptr_t satp_value = ((uintptr_t)l1pt >> PGSHIFT) | SATP_MODE_SV39;
  write_csr(satp, satp_value);
  if (read_csr(satp) != satp_value) assert(!"unsupported satp mode");

  /* Open PMP to S and U, skipping the writes on a hart without PMP. */
  uintptr_t pmpc = PMP_NAPOT | PMP_R | PMP_W | PMP_X;
  uintptr_t pmpa = ((uintptr_t)1 << 53) - 1;
  asm volatile(
      "la t0, 1f\n\t"
      "csrrw t0, mtvec, t0\n\t"
      "csrw pmpaddr0, %1\n\t"
      "csrw pmpcfg0, %0\n\t"
      ".align 2\n\t"
      "1: csrw mtvec, t0"
      :
      : "r"(pmpc), "r"(pmpa)
      : "t0");

  write_csr(stvec, pa2kva(trap_entry));
  write_csr(sscratch, pa2kva(read_csr(mscratch)));
  write_csr(medeleg, (1 << CAUSE_USER_ECALL) | (1 << CAUSE_FETCH_PAGE_FAULT) |
                         (1 << CAUSE_LOAD_PAGE_FAULT) | (1 << CAUSE_STORE_PAGE_FAULT));
  /* FP, custom and vector state on; SPP = U, SUM and MPRV off. */
  write_csr(mstatus, MSTATUS_FS | MSTATUS_XS | MSTATUS_VS);
  write_csr(mie, 0);

  random = 1 + (random % MAX_TEST_PAGES);
  freelist_head = pa2kva(&freelist_nodes[0]);
  freelist_tail = pa2kva(&freelist_nodes[MAX_TEST_PAGES - 1]);
  for (long i = 0; i < MAX_TEST_PAGES; i++) {
    freelist_nodes[i].addr = DRAM_BASE + (MAX_TEST_PAGES + random) * PGSIZE;
    freelist_nodes[i].next = pa2kva(&freelist_nodes[i + 1]);
    random = LFSR_NEXT(random);
  }
  freelist_nodes[MAX_TEST_PAGES - 1].next = 0;

  trapframe_t tf;
  memset(&tf, 0, sizeof(tf));
  tf.epc = test_addr - DRAM_BASE;
  pop_tf(&tf);
}
