// S-mode microbenchmark of the SBI paths that full virtualization and paravirtualization do
// differently: programming the timer (SBI TIME set_timer, and the stimecmp CSR where Sstc is
// present) and an IPI round trip between two harts (SBI IPI send_ipi both ways).
//
// A bare program entered in S-mode at 0x80200000 with a0 = hart id, a1 = device tree, as
// OpenSBI fw_jump and Vessel's builtin SBI both start a kernel; it needs nothing else from
// either, so the same ELF measures both. It prints one line, parsed by bench/full-vs-para:
//
//   vessel-sbi-bench: hart=H sbi_spec=0xV sbi_impl=ID sstc=0|1 dbcn=0|1 timer_n=N
//     nop=I,T sbi_timer=I,T stimecmp=I,T|none ipi_wfi_n=N ipi_wfi=I0,I1,T|none|timeout
//     ipi_spin_n=N ipi_spin=I0,I1,T|none|timeout|skipped end
//
// (one line on the console) where I are instructions retired (rdinstret: under OpenSBI this
// includes the firmware's M-mode instructions, which is the point) and T are time ticks
// (rdtime, 10 MHz on the virt board, which both emulators derive from the host's clock) over N
// iterations, the fastest of five passes. nop= is the same loop with a nop in place of the
// operation, for subtracting the loop's own cost. ipi_wfi= and ipi_spin= give the instructions
// retired on this hart and on the other one over N round trips, and the ticks they took, with the
// waiting hart in WFI or polling. Then it powers off through SRST.
//
// Build (bench/full-vs-para does it): riscv64-linux-gnu-gcc -march=rv64imac_zicsr -mabi=lp64
//   -mcmodel=medany -O2 -ffreestanding -nostdlib -static -fno-pic -no-pie
//   -Wl,--defsym=LOAD_ADDR=0x80200000 -T bench/guest/link.ld

#include <stdint.h>

#define SBI_EXT_LEGACY_PUTCHAR 0x01
#define SBI_EXT_LEGACY_SHUTDOWN 0x08
#define SBI_EXT_BASE 0x10
#define SBI_EXT_TIME 0x54494D45
#define SBI_EXT_IPI 0x735049
#define SBI_EXT_HSM 0x48534D
#define SBI_EXT_SRST 0x53525354
#define SBI_EXT_DBCN 0x4442434E

#define SBI_BASE_GET_SPEC_VERSION 0
#define SBI_BASE_GET_IMPL_ID 1
#define SBI_BASE_PROBE_EXTENSION 3
#define SBI_HSM_HART_START 0
#define SBI_HSM_HART_STOP 1
#define SBI_DBCN_CONSOLE_WRITE 0
#define SBI_ERR_INVALID_PARAM (-3)

#define SIP_SSIP (1UL << 1)
#define SIE_SSIE (1UL << 1)
#define SIE_STIE (1UL << 5)

// 10 MHz: the timebase-frequency of QEMU's virt board, which Vessel copies.
#define TICKS_PER_SECOND 10000000UL
#define TIMER_N 50000UL
#define MEASURE_PASSES 5
// Round trips per series: fewer when polling, where each one needs both host threads on a CPU
// at once and a busy host makes them slow.
#define IPI_WFI_N 2000UL
#define IPI_SPIN_N 200UL
#define IPI_WARMUP 50UL
// A limit for the whole IPI part, so that a lost IPI cannot hang the program.
#define IPI_SECONDS 30UL

struct sbiret {
  long error;
  long value;
};

static struct sbiret sbi_ecall(unsigned long eid, unsigned long fid, unsigned long arg0,
                               unsigned long arg1, unsigned long arg2) {
  register unsigned long a0 __asm__("a0") = arg0;
  register unsigned long a1 __asm__("a1") = arg1;
  register unsigned long a2 __asm__("a2") = arg2;
  register unsigned long a6 __asm__("a6") = fid;
  register unsigned long a7 __asm__("a7") = eid;
  __asm__ volatile("ecall" : "+r"(a0), "+r"(a1) : "r"(a2), "r"(a6), "r"(a7) : "memory");
  return (struct sbiret){(long)a0, (long)a1};
}

static uint64_t rdtime(void) {
  uint64_t v;
  __asm__ volatile("csrr %0, time" : "=r"(v));
  return v;
}

static uint64_t rdinstret(void) {
  uint64_t v;
  __asm__ volatile("csrr %0, instret" : "=r"(v));
  return v;
}

static uint64_t read_sip(void) {
  uint64_t v;
  __asm__ volatile("csrr %0, sip" : "=r"(v));
  return v;
}

static void clear_ssip(void) { __asm__ volatile("csrc sip, %0" ::"r"(SIP_SSIP) : "memory"); }
static void set_sie(uint64_t bits) { __asm__ volatile("csrs sie, %0" ::"r"(bits) : "memory"); }
static void clear_sie(uint64_t bits) { __asm__ volatile("csrc sie, %0" ::"r"(bits) : "memory"); }
static void wfi(void) { __asm__ volatile("wfi" ::: "memory"); }

// ---- Entry points, stacks and the trap handler of the Sstc probe --------------------------

volatile uint64_t probe_trapped;

__asm__(
    ".section .text.start, \"ax\"\n"
    ".globl _start\n"
    "_start:\n"
    // Loaders zero .bss, but this does not rely on each one doing it.
    "  la t0, __bss_start\n"
    "  la t1, __bss_end\n"
    "1:bgeu t0, t1, 2f\n"
    "  sb zero, 0(t0)\n"
    "  addi t0, t0, 1\n"
    "  j 1b\n"
    "2:la sp, boot_stack_top\n"
    "  call boot_main\n"
    "3:wfi\n"
    "  j 3b\n"
    ".globl secondary_start\n"
    "secondary_start:\n"
    "  la sp, secondary_stack_top\n"
    "  call secondary_main\n"
    "4:wfi\n"
    "  j 4b\n"
    // Taken only by the probing csrr (4 bytes: CSR instructions have no compressed form):
    // skip it and record that it trapped, touching no register but through sscratch.
    ".align 2\n"
    ".globl probe_trap\n"
    "probe_trap:\n"
    "  csrw sscratch, t0\n"
    "  csrr t0, sepc\n"
    "  addi t0, t0, 4\n"
    "  csrw sepc, t0\n"
    "  la t0, probe_trapped\n"
    "  sd t0, 0(t0)\n"
    "  csrr t0, sscratch\n"
    "  sret\n"
    ".section .bss\n"
    ".align 4\n"
    "boot_stack: .space 16384\n"
    "boot_stack_top:\n"
    "secondary_stack: .space 16384\n"
    "secondary_stack_top:\n"
    ".text\n");

void probe_trap(void);
void secondary_start(void);

// ---- Console --------------------------------------------------------------------------------

static int have_dbcn;
static char line[512];
static unsigned line_len;

static void put_str(const char* s) {
  while (*s && line_len < sizeof(line) - 1) line[line_len++] = *s++;
}

static void put_u64(uint64_t v) {
  char digits[21];
  int n = 0;
  do {
    digits[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0 && line_len < sizeof(line) - 1) line[line_len++] = digits[--n];
}

static void put_hex(uint64_t v) {
  static const char hex[] = "0123456789abcdef";
  int shift = 60;
  put_str("0x");
  while (shift > 0 && ((v >> shift) & 0xf) == 0) shift -= 4;
  for (; shift >= 0 && line_len < sizeof(line) - 1; shift -= 4)
    line[line_len++] = hex[(v >> shift) & 0xf];
}

static void put_pair(uint64_t insns, uint64_t ticks) {
  put_u64(insns);
  put_str(",");
  put_u64(ticks);
}

// Sends the buffered line: DBCN where the SBI has it (SBI 2.0), else the legacy putchar that
// older firmware such as OpenSBI 1.1 still answers.
static void flush_line(void) {
  put_str("\n");
  unsigned done = 0;
  while (have_dbcn && done < line_len) {
    // satp is 0 here, so the buffer's address is its physical address.
    const struct sbiret r = sbi_ecall(SBI_EXT_DBCN, SBI_DBCN_CONSOLE_WRITE, line_len - done,
                                      (unsigned long)(line + done), 0);
    if (r.error != 0 || r.value <= 0) break;
    done += (unsigned)r.value;
  }
  for (; done < line_len; ++done) sbi_ecall(SBI_EXT_LEGACY_PUTCHAR, 0, (uint8_t)line[done], 0, 0);
  line_len = 0;
}

// ---- Measurements ---------------------------------------------------------------------------

// The timed loops: the same instructions around the operation, so that the nop loop's cost
// can be taken off. a0 = -1 is "no timer": the timer is programmed, never fires.
#define TIMER_LOOP(name, op)                                    \
  static void name(unsigned long n) {                           \
    __asm__ volatile("1: li a7, %1\n li a6, 0\n li a0, -1\n" op \
                     "\n addi %0, %0, -1\n"                     \
                     " bnez %0, 1b\n"                           \
                     : "+r"(n)                                  \
                     : "i"(SBI_EXT_TIME)                        \
                     : "a0", "a1", "a6", "a7", "memory");       \
  }
TIMER_LOOP(loop_nop, "nop")
TIMER_LOOP(loop_sbi_set_timer, "ecall")
TIMER_LOOP(loop_stimecmp, "csrw 0x14d, a0")

struct sample {
  uint64_t insns, ticks;
};

// The fastest of a few passes: a host thread that is preempted or migrated only ever adds
// time, so the minimum is the figure least disturbed by the rest of the host. Instruction
// counts are the same in every pass.
static struct sample measure(void (*loop)(unsigned long), unsigned long n) {
  loop(n / 16 + 1);  // decode and warm whatever caches the emulator has
  struct sample best = {0, ~0ULL};
  for (int pass = 0; pass < MEASURE_PASSES; ++pass) {
    const uint64_t i0 = rdinstret(), t0 = rdtime();
    loop(n);
    const uint64_t t1 = rdtime(), i1 = rdinstret();
    if (t1 - t0 < best.ticks) best = (struct sample){i1 - i0, t1 - t0};
  }
  return best;
}

// Sstc: reading stimecmp traps (illegal instruction) unless the hart has it and M-mode
// enabled it (menvcfg.STCE), which OpenSBI does when it finds it and the builtin SBI does.
static int have_sstc(void) {
  uint64_t v;
  probe_trapped = 0;
  __asm__ volatile("csrw stvec, %0" ::"r"(&probe_trap) : "memory");
  __asm__ volatile("csrr %0, 0x14d" : "=r"(v)::"memory");
  (void)v;
  return probe_trapped == 0;
}

static int sbi_has(unsigned long eid) {
  const struct sbiret r = sbi_ecall(SBI_EXT_BASE, SBI_BASE_PROBE_EXTENSION, eid, 0, 0);
  return r.error == 0 && r.value != 0;
}

// The IPI round trips are timed twice: with the waiting hart asleep in WFI, as an idle Linux
// hart waits, and with it polling sip, which leaves out the emulator's wake-up of a sleeping
// host thread.
enum { kWaitWfi, kWaitSpin, kWaitKinds };

// Shared by the two harts of the IPI round trip.
static volatile uint64_t secondary_ready, ipi_deadline;
static volatile uint64_t secondary_done[kWaitKinds], secondary_insns[kWaitKinds];
static const unsigned long ipi_rounds[kWaitKinds] = {IPI_WFI_N, IPI_SPIN_N};

static void send_ipi(uint64_t hart) { sbi_ecall(SBI_EXT_IPI, 0, 1, hart, 0); }

// SSIE is on and interrupts are globally off (sstatus.SIE = 0): WFI wakes on the IPI without
// taking it, and the pending bit is cleared by hand. A timer armed at the deadline (STIE) makes
// a lost IPI end the wait instead of hanging the program.
static int wait_ipi(int kind) {
  for (;;) {
    if (read_sip() & SIP_SSIP) {
      clear_ssip();
      return 1;
    }
    if (rdtime() >= ipi_deadline) return 0;
    if (kind == kWaitWfi) wfi();
  }
}

// n round trips seen from one side: the boot hart serves first, the other answers.
static int ping_pong(uint64_t peer, unsigned long n, int serve, int kind) {
  for (unsigned long i = 0; i < n; ++i) {
    if (serve) send_ipi(peer);
    if (!wait_ipi(kind)) return 0;
    if (!serve) send_ipi(peer);
  }
  return 1;
}

void secondary_main(unsigned long hartid, unsigned long boot_hart) {
  (void)hartid;
  // Each hart has its own timer: this one's might be pending from reset, which would keep
  // WFI from waiting.
  sbi_ecall(SBI_EXT_TIME, 0, ipi_deadline, 0, 0);
  set_sie(SIE_SSIE | SIE_STIE);
  __atomic_store_n(&secondary_ready, 1, __ATOMIC_RELEASE);
  for (int kind = 0; kind < kWaitKinds; ++kind) {
    if (!ping_pong(boot_hart, IPI_WARMUP, 0, kind)) return;
    const uint64_t i0 = rdinstret();
    if (!ping_pong(boot_hart, ipi_rounds[kind], 0, kind)) return;
    secondary_insns[kind] = rdinstret() - i0;
    __atomic_store_n(&secondary_done[kind], 1, __ATOMIC_RELEASE);
  }
  sbi_ecall(SBI_EXT_HSM, SBI_HSM_HART_STOP, 0, 0, 0);
}

// Waits for a flag the other hart sets; 0 if the IPI deadline passes first.
static int wait_flag(volatile uint64_t* flag) {
  while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE)) {
    if (rdtime() >= ipi_deadline) return 0;
  }
  return 1;
}

// One series of round trips, appended as I0,I1,T; 0 (and "timeout") if an IPI went missing,
// after which the two harts are out of step and no further series can run.
static int ipi_series(unsigned long other, int kind) {
  if (!ping_pong(other, IPI_WARMUP, 1, kind)) {
    put_str("timeout");
    return 0;
  }
  const uint64_t i0 = rdinstret(), t0 = rdtime();
  const int done = ping_pong(other, ipi_rounds[kind], 1, kind);
  const uint64_t t1 = rdtime(), i1 = rdinstret();
  if (!done || !wait_flag(&secondary_done[kind])) {
    put_str("timeout");
    return 0;
  }
  put_u64(i1 - i0);
  put_str(",");
  put_pair(secondary_insns[kind], t1 - t0);
  return 1;
}

// Appends " ipi_wfi_n=N ipi_wfi=... ipi_spin_n=N ipi_spin=...", each I0,I1,T or none (one hart)
// / timeout / skipped (after a timeout) / hart_start_error_E.
static void measure_ipi(unsigned long hartid) {
  static const char* const names[kWaitKinds] = {" ipi_wfi=", " ipi_spin="};
  static const char* const counts[kWaitKinds] = {" ipi_wfi_n=", " ipi_spin_n="};
  const unsigned long other = hartid == 0 ? 1 : 0;
  struct sbiret r = {SBI_ERR_INVALID_PARAM, 0};
  if (sbi_has(SBI_EXT_HSM) && sbi_has(SBI_EXT_IPI)) {
    ipi_deadline = rdtime() + IPI_SECONDS * TICKS_PER_SECOND;
    sbi_ecall(SBI_EXT_TIME, 0, ipi_deadline, 0, 0);
    set_sie(SIE_SSIE | SIE_STIE);
    r = sbi_ecall(SBI_EXT_HSM, SBI_HSM_HART_START, other, (unsigned long)&secondary_start, hartid);
  }
  int in_step = r.error == 0 && wait_flag(&secondary_ready);
  for (int kind = 0; kind < kWaitKinds; ++kind) {
    put_str(counts[kind]);
    put_u64(ipi_rounds[kind]);
    put_str(names[kind]);
    if (r.error == SBI_ERR_INVALID_PARAM) {
      put_str("none");  // a single hart: hart_start names no hart
    } else if (r.error != 0) {
      put_str("hart_start_error_");
      put_u64((uint64_t)-r.error);
    } else if (!in_step) {
      put_str(kind == 0 ? "timeout" : "skipped");
    } else {
      in_step = ipi_series(other, kind);
    }
  }
}

void boot_main(unsigned long hartid, unsigned long dtb) {
  (void)dtb;
  have_dbcn = sbi_has(SBI_EXT_DBCN);
  const int sstc = have_sstc();
  put_str("vessel-sbi-bench: starting on hart ");
  put_u64(hartid);
  flush_line();

  put_str("vessel-sbi-bench: hart=");
  put_u64(hartid);
  put_str(" sbi_spec=");
  put_hex((uint64_t)sbi_ecall(SBI_EXT_BASE, SBI_BASE_GET_SPEC_VERSION, 0, 0, 0).value);
  put_str(" sbi_impl=");
  put_u64((uint64_t)sbi_ecall(SBI_EXT_BASE, SBI_BASE_GET_IMPL_ID, 0, 0, 0).value);
  put_str(" sstc=");
  put_u64((uint64_t)sstc);
  put_str(" dbcn=");
  put_u64((uint64_t)have_dbcn);
  put_str(" timer_n=");
  put_u64(TIMER_N);

  struct sample s = measure(loop_nop, TIMER_N);
  put_str(" nop=");
  put_pair(s.insns, s.ticks);
  s = measure(loop_sbi_set_timer, TIMER_N);
  put_str(" sbi_timer=");
  put_pair(s.insns, s.ticks);
  put_str(" stimecmp=");
  if (sstc) {
    s = measure(loop_stimecmp, TIMER_N);
    put_pair(s.insns, s.ticks);
  } else {
    put_str("none");
  }

  measure_ipi(hartid);
  sbi_ecall(SBI_EXT_TIME, 0, ~0UL, 0, 0);
  clear_sie(SIE_STIE);
  put_str(" end");
  flush_line();

  if (sbi_has(SBI_EXT_SRST)) sbi_ecall(SBI_EXT_SRST, 0, 0, 0, 0);
  sbi_ecall(SBI_EXT_LEGACY_SHUTDOWN, 0, 0, 0, 0);
}
