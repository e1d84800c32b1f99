// The generator's insides, shared by setup.cpp (prologue, handlers, page tables, data),
// rows.cpp (a random instruction from any row of the table) and chunks.cpp (the body's
// templates and generate()).
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "cpu/riscv/csr.hpp"
#include "cpu/riscv/decoder.hpp"
#include "torture/asm.hpp"
#include "torture/generator.hpp"
#include "torture/layout.hpp"

namespace vessel::rv::torture {

// The standard fixes mt19937_64's sequence (unlike its distributions, not used here): a seed
// names one program on every host and standard library.
class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  uint64_t next() { return engine_(); }
  uint64_t below(uint64_t n) { return n == 0 ? 0 : next() % n; }
  unsigned small(unsigned n) { return static_cast<unsigned>(below(n)); }
  bool chance(unsigned percent) { return below(100) < percent; }
  uint32_t u32() { return static_cast<uint32_t>(next()); }
  template <typename T, size_t N>
  const T& pick(const T (&items)[N]) {
    return items[below(N)];
  }

 private:
  std::mt19937_64 engine_;
};

// Choices fixed for the whole program (made in the prologue).
struct Config {
  bool vectored_m = false, vectored_s = false;
  uint64_t medeleg = 0, mideleg = 0;
  bool stce = false;
  uint32_t mcounteren = 0, scounteren = 0;
  uint64_t probe_flags = 0;  // the probe page's PTE flags (identity; the alias adds U)
  bool ad_preset = true;     // A and D already set in every leaf (else the hart sets them)
  // TSR makes the S handler's own sret trap: allowed only when nothing is delegated to S.
  bool tsr_allowed = false;
  // V=1: S and U are VS and VU; hgatp Sv39x4 (39) or Sv48x4 (48); what hedeleg hands on.
  bool virt = false;
  unsigned hgatp = 39;
  uint64_t hedeleg = 0;
};

// What the generator knows about the hart at the point it is emitting: it only emits control
// flow that rejoins (forward branches inside a run, counted loops), and changes these only in
// templates that every path runs, so this holds whichever way the program goes.
struct State {
  Priv priv = Priv::kM;
  unsigned satp = 0;  // 0 (bare), 39 or 48
  bool fs = true;
  bool tw = false, tvm = false, tsr = false;
};

// Forward targets for the control-transfer rows of a run: slot starts after the current one.
struct Targets {
  const std::vector<Label>* slots = nullptr;
  unsigned current = 0;
};

class Gen {
 public:
  explicit Gen(const Options& options);
  Program build();

  // ---- setup.cpp ----
  void choose_config();
  void prologue();
  void handler(bool machine);
  void page_tables(std::vector<uint8_t>& image) const;
  void data(std::vector<uint8_t>& image);

  // ---- rows.cpp: one random instruction (or a few, for the rows that need an address) ----
  void run(unsigned slots);
  void random_row(const Targets& t);
  void base_row(unsigned index, const Targets& t);
  void compressed_row(unsigned index, const Targets& t);
  void generic_row(const InsnInfo& row);
  void amo_row(const InsnInfo& row);
  void csr_row(Op op, const InsnInfo& row);
  void mret_row();
  void sret_row();
  void wfi_row();
  // A random instruction that only computes (no memory, control, CSR or FP state): what
  // self-modifying code writes, and what it surrounds the patched slot with. Its destination
  // is never `avoid`.
  uint32_t plain_alu_word(unsigned avoid = 0);

  unsigned pick_rd();    // any register the body may write, x0 included
  unsigned pick_tmp();   // a writable register but x0 and the handlers' t3..t6
  unsigned pick_base();  // s0, s1 or sp
  uint8_t pick_rm();
  Label target(const Targets& t, unsigned max_ahead);

  // ---- chunks.cpp ----
  void body();
  void chunk();
  void set_bases();
  void to_mode(Priv target);
  void raise_mode();
  void switch_satp();
  void toggle_status();
  void interrupt();
  void pte_flip();
  void pmp_change();
  void smc_later();
  void smc_running();
  void fp_values();
  void lr_sc();
  void fetch_fault();
  void windows();
  void straddle();
  void loop();
  void end();
  void csr_write_imm(uint16_t csr, uint64_t value);  // li t0-style temp, then csrw
  // mret (machine) or sret back to the mode the hart is in, at the next instruction.
  void same_mode_return(bool machine);
  bool paged() const { return st_.satp != 0 && st_.priv != Priv::kM; }
  uint64_t ram_size() const { return cfg_.virt ? layout::kRamSizeVirt : layout::kRamSize; }
  // Before an xRET from M down to S or U at V=1: MPV (mret) or hstatus.SPV (sret) set.
  void virt_return(bool sret, unsigned tmp);
  void virt_prologue();

  const Options& opt_;
  Rng rng_;
  Asm a_;
  Config cfg_;
  State st_;
  Label done_;
  std::vector<Checkpoint> checkpoints_;
  unsigned run_slots_ = 0;  // slots of the run being emitted (for jal's reach)
};

// The registers the body never writes: sp, s0 and s1 hold data addresses for the current
// mode, s2 counts loops.
bool reserved(unsigned reg);
// Whether a decoded instruction writes an integer register.
bool writes_int_rd(const DecodedInsn& d);

// satp for bare (0), Sv39 or Sv48 with the program's tables.
uint64_t satp_value(unsigned mode);

inline constexpr uint64_t kProbeChoices[] = {0x07 /* V R W */,   0x03 /* V R */,
                                             0x09 /* V X */,     0x00 /* unmapped */,
                                             0x0f /* V R W X */, 0x05 /* V W: reserved */};

}  // namespace vessel::rv::torture
