// A random instruction-sequence generator in the spirit of riscv-torture: from a seed, a
// whole-RAM image that sets up M and S trap handlers and Sv39/Sv48 page tables, then runs
// random code drawn from every row of the instruction table (insn_table.hpp) in all three
// privilege modes, with faulting and misaligned accesses, traps, software and timer
// interrupts, satp switches, PMP and PTE changes, and self-modifying code, and always ends
// (bounded, forward-only control flow but for counted loops) in a `j .` at end_pc in M-mode.
//
// A third of the seeds (Options::virt) run the body at V=1: what the program calls S- and
// U-mode is VS- and VU-mode over a G stage that maps RAM where it is, the S handler is
// HS-mode's, and VS-mode's too for the exceptions hedeleg hands on.
//
// Handlers record cause, epc and tval in the trap log, clear and disable an interrupt they
// take, return to `ra` after a fetch fault (the generator only jumps to bad addresses with
// jalr ra) and otherwise skip the trapping instruction, reading its length from memory.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "cpu/riscv/csr.hpp"

namespace vessel::rv::torture {

struct Options {
  uint64_t seed = 1;
  // Body chunks (random templates); 0 picks 60 to 140.
  unsigned chunks = 0;
  // Raw bytes to run as one chunk of the body (the fuzz target's input), in M-mode, with the
  // usual handlers around them. With `raw_only` the body is nothing else.
  std::span<const uint8_t> raw;
  bool raw_only = false;
  // V=1 (the H extension): -1 for a third of the seeds, 0 never, 1 always.
  int virt = -1;
};

// What the generator expects of the hart where a chunk of the body starts: run_lockstep
// checks it, so that a generator that lost track of the mode fails a test instead of quietly
// testing less than it says.
struct Checkpoint {
  uint64_t pa = 0;  // physical (U-mode under translation runs it at pa + layout::kAlias)
  Priv priv = Priv::kM;
  unsigned satp = 0;  // 0 (bare), 39 or 48; not checked in M-mode
};

struct Program {
  std::vector<uint8_t> image;  // all of RAM, from layout::kRamBase (its size)
  uint64_t entry = 0;          // physical, M-mode
  uint64_t end_pc = 0;         // the final `j .` (M-mode, physical)
  std::vector<Checkpoint> checkpoints;
  std::string error;  // non-empty when generation failed (a generator bug)
};

Program generate(const Options& options);
inline Program generate(uint64_t seed) {
  Options o;
  o.seed = seed;
  return generate(o);
}

}  // namespace vessel::rv::torture
