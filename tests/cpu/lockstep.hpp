// Lockstep differential testing of the hart's engines: two identical machines run the same
// program, one with the reference engine (the interpreter) and one with the engine under test
// (the translator), one block at a time (Hart::step_block), and their whole architectural
// state is compared after every block: x and f registers, pc, privilege, instret, fflags/frm,
// every CSR csr_read answers, the LR/SC reservation and all of RAM. The first difference is
// reported with the block's disassembly and each differing field.
//
// Each machine has its own RAM (page-aligned, as the VMM maps it), bus, code cache, HartIrq and
// a MachineClock frozen at the same mtime (so time, MTIP and Sstc's STIP are the same on both),
// and WFI never sleeps.
//
// Hart API this relies on (the translator must keep it): Hart::step_block() runs exactly one
// block without chaining; Hart::run() (run_free); Hart::set_engine(), reset(),
// set_wfi_max_sleep(), drop_write_mappings(), csr_read(), csr_write() and describe_trap_loop();
// the public state x, f, pc, priv, instret, fflags, frm, reservation_pa (the host address of
// the reserved bytes, ~0 when none) and reservation_value; stats.traps and stats.interrupts,
// counted by every trap entry (the reference's tell which instruction trapped; when
// realigning, both machines' find a common block boundary); and the friend HartTestAccess
// (tests/cpu/hart_test_access.hpp), which switches priv to read every CSR as M-mode.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/clock.hpp"
#include "base/mapped_memory.hpp"
#include "bus/bus.hpp"
#include "cpu/riscv/code_cache.hpp"
#include "cpu/riscv/hart.hpp"
#include "devices/irq.hpp"

namespace vessel::rv::lockstep {

struct MachineConfig {
  uint64_t ram_base = 0x80000000;
  uint64_t ram_size = 256 << 10;
  uint64_t mtime = 1'000'000;  // the frozen clock's value
  // Hart::set_jit_threshold: 1 translates every block before its first run, so the engines
  // are compared on each; more mixes cold blocks run by the interpreter with translated ones.
  unsigned jit_threshold = 1;
};

// A hart on a bus with RAM, wired as the virt board wires it, with a frozen clock.
class Machine {
 public:
  Machine(const MachineConfig& config, Engine engine);
  Machine(const Machine&) = delete;
  Machine& operator=(const Machine&) = delete;

  Hart& hart() { return hart_; }
  const Hart& hart() const { return hart_; }
  const MachineConfig& config() const { return config_; }
  std::span<uint8_t> ram() { return {ram_.data(), ram_.size()}; }
  std::span<const uint8_t> ram() const { return {ram_.data(), ram_.size()}; }
  // Copies bytes into RAM at physical address pa (as a loader does: decoded code there is
  // dropped). False when they do not fit.
  bool load(uint64_t pa, std::span<const uint8_t> bytes);
  // The bytes at virtual address va as a fetch in `priv` under `satp` would find them, read
  // without side effects (no trap, no A/D update, permissions ignored). Returns how many of
  // `len` were mapped to RAM.
  size_t peek(uint64_t va, Priv priv, uint64_t satp, uint8_t* out, size_t len) const;
  // The RAM offset of a host address the hart keeps (the LR/SC reservation), or ~0.
  uint64_t guest_address(uint64_t host) const;

 private:
  bool translate(uint64_t va, uint64_t satp, uint64_t& pa) const;

  MachineConfig config_;
  // Page-aligned, as the VMM maps guest RAM: the code cache tracks code by host page.
  MappedMemory ram_;
  Bus bus_;
  HartIrq irq_;
  MachineClock clock_;
  CodeCache code_;
  Hart hart_;
};

// One block the reference machine ran: where, in which mode, and its bytes as they were
// before it ran (self-modifying code may change them).
struct BlockTrace {
  uint64_t turn = 0;
  uint64_t pc = 0;
  Priv priv = Priv::kM;
  bool virt = false;  // V=1 (VS- or VU-mode); satp is then vsatp
  uint64_t satp = 0;
  std::vector<uint8_t> code;  // from pc on, up to the block's size limit
  uint64_t retired = 0;       // instructions retired by the block
  bool interrupt = false;     // an interrupt was taken instead of running the block
  bool trapped = false;       // the instruction after the retired ones raised an exception
  uint64_t cause = 0;         // with trapped or interrupt: the cause the handler sees

  // The instructions the block ran (the retired ones, then the trapping one), decoded.
  std::vector<DecodedInsn> executed() const;
  // Disassembly of the block, one instruction a line, the executed ones marked.
  std::string disassembly() const;
};

struct FieldDiff {
  std::string name;
  uint64_t reference = 0;
  uint64_t test = 0;
};

struct Divergence {
  uint64_t turn = 0;                 // how many turns ran before, this one included
  std::vector<BlockTrace> blocks;    // the reference's blocks of the diverging turn
  std::vector<FieldDiff> fields;     // registers and CSRs that differ
  std::string memory;                // where RAM differs ("" when it does not)
  std::vector<std::string> history;  // the turns before, most recent last
  std::string note;                  // e.g. the engines' blocks could not be realigned

  bool names(const std::string& field) const;
  std::string report() const;
};

class Lockstep {
 public:
  explicit Lockstep(const MachineConfig& config = {}, Engine test_engine = Engine::kJit);

  Machine& reference() { return reference_; }
  Machine& test() { return test_; }
  // Loads the same bytes into both machines; false when they do not fit.
  bool load(uint64_t pa, std::span<const uint8_t> bytes);
  // Resets both harts to M-mode at pc.
  void start(uint64_t pc);

  // One turn: each machine runs one block and their states are compared. Returns the
  // divergence, if any; engines whose blocks end at different places diverge (in instret or
  // pc, with a note saying so) unless realigning is on.
  std::optional<Divergence> step();
  // With realigning, the machine behind runs more blocks until both have retired the same
  // instructions and taken the same traps, and the states are compared there: for an engine
  // that forms blocks differently. It is weaker: a miscounted instret that a later block
  // happens to make up for goes unseen.
  void set_realign(bool on) { realign_ = on; }

  struct Result {
    bool finished = false;  // `done` held before the block limit
    uint64_t turns = 0;
    std::optional<Divergence> divergence;
  };
  // Steps until `done(reference hart)` holds, a divergence, or `max_turns`.
  Result run(uint64_t max_turns, const std::function<bool(const Hart&)>& done);

  // Lets each machine run on its own with Hart::run() (so translated blocks chain to each
  // other) until `done` holds at one of its polls, then compares them as step() does but for
  // the counters (how far past `done` each got depends on when it polled). Stricter than the
  // ISA in one way: an interrupt made pending by a CSR write must be taken at the same
  // boundary as the interpreter's run loop takes it.
  std::optional<Divergence> run_free(const std::function<bool(const Hart&)>& done,
                                     uint64_t max_polls);

  // Called with every block the reference runs (coverage).
  void set_observer(std::function<void(const BlockTrace&)> observer) {
    observer_ = std::move(observer);
  }

 private:
  BlockTrace run_reference_block();
  void realign(Divergence& d);
  std::string describe(const BlockTrace& t) const;

  Machine reference_;
  Machine test_;
  uint64_t turns_ = 0;
  bool realign_ = false;
  std::vector<std::string> history_;
  std::function<void(const BlockTrace&)> observer_;
};

// Compares the architectural state of two machines (for the checker's own tests, and for
// anything else that wants a field-by-field difference).
// With counters false, instret and the cycle and instret CSRs are left out.
std::vector<FieldDiff> compare_state(Machine& reference, Machine& test, bool counters = true);
std::string compare_memory(const Machine& reference, const Machine& test);

}  // namespace vessel::rv::lockstep
